#include "engine/runtime/dag_folder.hpp"

#include <algorithm>

#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "engine/dag/loader.hpp"
#include "engine/runtime/new_run.hpp"

namespace flow::runtime {

namespace fs = std::filesystem;

namespace {

// The value of a top-level `dag:` line ("" if there is none): files without one are not
// DAG files (configuration next to a pipeline's scripts, say) and are left alone.
std::string declared_name(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
    if (line.substr(0, 3) == "dag") {
      size_t i = 3;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
      if (i < line.size() && line[i] == ':') {
        std::string_view v = line.substr(i + 1);
        if (auto hash = v.find(" #"); hash != std::string_view::npos) v = v.substr(0, hash);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
          v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
          v.remove_suffix(1);
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
          v = v.substr(1, v.size() - 2);
        return v.empty() ? std::string("?") : std::string(v);
      }
    }
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  return "";
}

bool is_yaml(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

}  // namespace

DagFolder::DagFolder(fs::path dir, const site::SiteCatalog* sites, const Services* services)
    : dir_(std::move(dir)), sites_(sites), services_(services) {}

std::vector<fs::path> DagFolder::refresh() {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    throw InputError(SourceLocation{}, "no DAG folder '" + dir_.string() +
                                           "'; pass the folder with your DAG files as --dags DIR");
  }
  std::vector<fs::path> changed;
  for (auto it = fs::recursive_directory_iterator(
           dir_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (entry.is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(ec) || !is_yaml(entry.path())) continue;
    const fs::path& path = entry.path();
    auto mtime = entry.last_write_time(ec);
    auto size = entry.file_size(ec);
    if (ec) continue;  // vanished meanwhile
    auto known = files_.find(path);
    if (known != files_.end() && known->second.mtime == mtime && known->second.size == size) {
      continue;
    }
    DagFile f;
    f.path = path;
    f.mtime = mtime;
    f.size = size;
    std::optional<std::string> text = read_file(path);
    if (!text) continue;  // unreadable now (being replaced?): looked at again next time
    f.declared_name = declared_name(*text);
    if (f.declared_name.empty()) {
      files_[path] = std::move(f);  // remembered, so it is not read again unchanged
      continue;
    }
    try {
      dag::Dag d = dag::load_dag_text(*text, path.string());
      prepare_dag(d, {}, sites_, services_);
      f.dag = std::move(d);
    } catch (const InputError& e) {
      f.problems = e.diagnostics();
    } catch (const Error& e) {
      f.problems.push_back({SourceLocation{path.string()}, e.what()});
    }
    changed.push_back(path);
    files_[path] = std::move(f);
  }
  for (auto it = files_.begin(); it != files_.end();) {
    bool gone = !fs::exists(it->first, ec);
    it = gone ? files_.erase(it) : std::next(it);
  }
  auto before = clashes_;
  mark_duplicates();
  for (const auto* m : {&before, &clashes_}) {
    const auto& other = m == &before ? clashes_ : before;
    for (const auto& [name, paths] : *m) {
      auto o = other.find(name);
      if (o != other.end() && o->second == paths) continue;
      for (const auto& p : paths) {
        if (files_.count(p) && std::find(changed.begin(), changed.end(), p) == changed.end())
          changed.push_back(p);
      }
    }
  }
  return changed;
}

void DagFolder::mark_duplicates() {
  std::map<std::string, std::vector<fs::path>> by_name;
  for (const auto& [path, f] : files_) {
    if (f.dag) by_name[f.dag->name].push_back(path);
  }
  clashes_.clear();
  for (auto& [name, paths] : by_name) {
    if (paths.size() > 1) clashes_[name] = std::move(paths);
  }
}

bool DagFolder::usable(const DagFile& f) const {
  return f.dag && f.problems.empty() && !clashes_.count(f.dag->name);
}

std::vector<Diagnostic> DagFolder::problems(const DagFile& f) const {
  if (!f.problems.empty() || !f.dag) return f.problems;
  auto it = clashes_.find(f.dag->name);
  if (it == clashes_.end()) return {};
  std::vector<std::string> others;
  for (const auto& p : it->second)
    if (p != f.path) others.push_back(p.string());
  return {{f.dag->loc("dag"), "dag '" + f.dag->name + "' is also defined in " + join(others) +
                                  "; DAG names must be unique: rename one (both are skipped)"}};
}

const DagFile& DagFolder::find(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& [path, f] : files_) {
    if (f.declared_name != name && !(f.dag && f.dag->name == name)) {
      if (f.dag) names.push_back(f.dag->name);
      continue;
    }
    if (usable(f)) return f;
    auto diags = problems(f);
    diags.push_back({SourceLocation{path.string()},
                     "declares dag '" + name + "' but cannot be used; fix the problems above"});
    throw InputError(std::move(diags));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  throw InputError(SourceLocation{},
                   "no DAG named '" + name + "' in " + dir_.string() + did_you_mean(name, names) +
                       (names.empty() ? " (it has no DAG files)" : "; DAGs there: " + join(names)) +
                       "; pass another folder with --dags DIR");
}

}  // namespace flow::runtime
