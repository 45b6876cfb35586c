// sites/modules/<system>.yaml: the module stacks of one system, one list of lines per
// software. Validated with file:line:col diagnostics like site files.
#include <algorithm>

#include "engine/core/ascii.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/yaml_reader.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::lamec {

namespace {

struct SoftwareName {
  const char* canonical;
  const char* alias;
  Launcher launcher;
};

constexpr SoftwareName kSoftware[] = {
    {"ddp", "pytorch-ddp", Launcher::kTorchrun}, {"horovod", "", Launcher::kSrunPerGpu},
    {"heat", "", Launcher::kSrunPerGpu},         {"deepspeed", "", Launcher::kDeepspeed},
    {"raytune", "ray-tune", Launcher::kRay},     {"tensorflow", "", Launcher::kSrun},
};

const std::vector<std::string> kTopKeys = {"system",         "description", "source",
                                           "stage",          "partition",   "gpus_per_node",
                                           "cores_per_node", "common",      "software"};

}  // namespace

const std::vector<std::string>& software_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& s : kSoftware)
      v.emplace_back(s.canonical);
    return v;
  }();
  return names;
}

std::string canonical_software(std::string_view name) {
  const std::string lower = ascii_lower(name);
  for (const auto& s : kSoftware)
    if (lower == s.canonical || (*s.alias && lower == s.alias)) return s.canonical;
  std::vector<std::string> all;
  for (const auto& s : kSoftware) {
    all.emplace_back(s.canonical);
    if (*s.alias) all.emplace_back(s.alias);
  }
  throw InputError(SourceLocation{},
                   "unknown software '" + std::string(name) + "'" + did_you_mean(lower, all) +
                       "; known: " + join(software_names()) + " (aliases pytorch-ddp, ray-tune)");
}

Launcher launcher_of(const std::string& canonical) {
  for (const auto& s : kSoftware)
    if (canonical == s.canonical) return s.launcher;
  return Launcher::kSrun;
}

bool SystemModules::supports(const std::string& sw) const {
  return software.count(sw) > 0;
}

std::vector<std::string> SystemModules::supported() const {
  std::vector<std::string> out;
  for (const auto& sw : software_names())  // in canonical order, not map order
    if (supports(sw)) out.push_back(sw);
  return out;
}

namespace {

SystemModules parse_modules(const std::string& text, const std::filesystem::path& path);

}  // namespace

SystemModules ModuleCatalog::load_file(const std::filesystem::path& path) {
  std::string text;
  try {
    text = yaml::read_file(path);
  } catch (const Error&) {
    throw InputError(SourceLocation{path.string()}, "cannot read module file");
  }
  return parse_modules(text, path);
}

SystemModules ModuleCatalog::load_text(const std::string& text, const std::filesystem::path& path) {
  return parse_modules(text, path);
}

namespace {

SystemModules parse_modules(const std::string& text, const std::filesystem::path& path) {
  const std::string file = path.string();
  const yaml::Tree tree = yaml::parse(text, file);
  const yaml::Node root(tree);
  yaml::Reader r(file);
  auto problem = [&](const yaml::Node& n, std::string msg) { r.error(n, std::move(msg)); };
  if (!root.IsMap())
    throw InputError(r.loc(root), "a module file is a mapping (system, common, software)");

  auto lines = [&](const yaml::Node& n, const std::string& what) {
    std::vector<std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) {
      problem(n, what + " must be a list of shell lines");
      return out;
    }
    for (yaml::Node l : n) {
      if (!l.IsScalar())
        problem(l, what + " entries must be single shell lines");
      else
        out.push_back(l.Scalar());
    }
    return out;
  };
  auto number = [&](const yaml::Node& n, const std::string& key) {
    int v = 0;
    if (yaml::decode(n, v) && v >= 0) return v;
    problem(n, key + " must be a whole number >= 0");
    return 0;
  };
  // A scalar's text; "" for null; a list or mapping is a problem.
  auto text_of = [&](const yaml::Node& n, const std::string& key) -> std::string {
    if (n.IsNull()) return "";
    if (!n.IsScalar()) {
      problem(n, key + " must be a single value, not a list or mapping");
      return "";
    }
    return n.Scalar();
  };

  SystemModules s;
  s.name = path.stem().string();
  s.where = SourceLocation{file, 1, 1};
  const std::string not_a_name = "a key must be a plain name, not a list or a mapping";
  for (const auto& [kn, v] : root.pairs()) {
    if (!kn.IsScalar()) {
      problem(kn, not_a_name);
      continue;
    }
    const std::string& key = kn.Scalar();
    if (std::find(kTopKeys.begin(), kTopKeys.end(), key) == kTopKeys.end()) {
      problem(kn, "unknown key '" + key + "'" + did_you_mean(key, kTopKeys));
    } else if (key == "system") {
      s.name = text_of(v, key);
      if (!s.name.empty() && !yaml::is_valid_name(s.name))
        problem(v, "system name '" + s.name + "' may only use letters, digits, '_', '.' and '-'");
    } else if (key == "description") {
      s.description = text_of(v, key);
    } else if (key == "source") {
      s.source = text_of(v, key);
    } else if (key == "stage") {
      s.stage = text_of(v, key);
    } else if (key == "partition") {
      s.partition = text_of(v, key);
    } else if (key == "gpus_per_node") {
      s.gpus_per_node = number(v, key);
    } else if (key == "cores_per_node") {
      s.cores_per_node = number(v, key);
    } else if (key == "common") {
      s.common = lines(v, "common");
    } else if (key == "software") {
      if (!v.IsMap()) {
        problem(v, "software must map software names to {modules: [...]}");
        continue;
      }
      for (const auto& [sk, body] : v.pairs()) {
        if (!sk.IsScalar()) {
          problem(sk, not_a_name);
          continue;
        }
        const std::string& name = sk.Scalar();
        std::string canonical;
        try {
          canonical = canonical_software(name);
        } catch (const InputError& e) {
          problem(sk, e.diagnostics().front().message);
          continue;
        }
        if (!body.IsMap()) {
          problem(body, "software '" + name + "' must be a mapping with modules: [...]");
          continue;
        }
        for ([[maybe_unused]] const auto& [bk, bv] : body.pairs()) {
          if (!bk.IsScalar()) {
            problem(bk, not_a_name);
            continue;
          }
          const std::string& k = bk.Scalar();
          if (k != "modules")
            problem(bk, "unknown key '" + k + "' in software '" + name + "'" +
                            did_you_mean(k, {"modules"}));
        }
        s.software[canonical] = lines(body["modules"], "modules of " + name);
      }
    }
  }
  if (s.name.empty()) problem(root, "system: must name the system");
  r.throw_if_errors();
  return s;
}

}  // namespace

ModuleCatalog ModuleCatalog::load(const std::vector<std::filesystem::path>& dirs) {
  ModuleCatalog c;
  std::vector<Diagnostic> problems;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(d, ec))
      if (e.is_regular_file() &&
          (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        c.add(load_file(f));
      } catch (const InputError& e) {
        problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
      }
    }
  }
  if (!problems.empty()) throw InputError(problems);
  return c;
}

std::vector<std::filesystem::path> ModuleCatalog::default_dirs() {
  std::vector<std::filesystem::path> out;
  for (const auto& d : site::SiteCatalog::default_dirs())
    out.push_back(d / "modules");
  return out;
}

const SystemModules* ModuleCatalog::find(std::string_view system) const {
  auto it = systems_.find(system);
  return it == systems_.end() ? nullptr : &it->second;
}

const SystemModules& ModuleCatalog::get(std::string_view system) const {
  if (const auto* s = find(system)) return *s;
  throw InputError(SourceLocation{}, "unknown system '" + std::string(system) + "'" +
                                         did_you_mean(system, names()) +
                                         "; known systems: " + join(names()) +
                                         " (add one as sites/modules/<system>.yaml)");
}

std::vector<std::string> ModuleCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : systems_)
    out.push_back(k);
  return out;
}

void ModuleCatalog::add(SystemModules system) {
  std::string key = system.name;
  systems_[key] = std::move(system);
}

}  // namespace flow::lamec
