// The site catalogue: sites/NAME.yaml files, validated with file:line:col diagnostics,
// `${VAR}` expanded at load time, later directories overriding earlier ones
// (docs/REFERENCE.md §5).
#include "engine/site/site.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "engine/core/data_dir.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "engine/core/yaml_reader.hpp"
#include "engine/site/jump_host.hpp"
#include "engine/site/ssh_config.hpp"

namespace flow::site {

namespace {

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {"site",           "description", "transport",
                                                "host",           "port",        "user",
                                                "identity",       "known_hosts", "scheduler",
                                                "partition",      "account",     "gpus_per_node",
                                                "cores_per_node", "workdir",     "poll_interval",
                                                "max_jobs",       "system",      "python",
                                                "jump",           "ssh_config",  "transfer_streams",
                                                "allocation",     "job_arrays"};
  return keys;
}

// A site file's yes/no: YAML 1.1's words as well as 1.2's; nullopt for anything else.
std::optional<bool> truth(std::string_view s) {
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  return std::nullopt;
}

std::optional<Transport> parse_transport(std::string_view s) {
  if (s == "none") return Transport::kNone;
  if (s == "local") return Transport::kLocal;
  if (s == "ssh") return Transport::kSsh;
  return std::nullopt;
}

std::optional<long> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return std::nullopt;
  try {
    return std::stol(s);
  } catch (...) {
    return std::nullopt;
  }
}

// Reads one site file into a Site, collecting every problem rather than stopping at the
// first, so `flow validate` / `flow sites list` show them all at once.
class SiteParser {
 public:
  // `text`: the file's contents when already read; nullopt reads `file`.
  SiteParser(std::filesystem::path file, std::optional<std::string> text)
      : file_(std::move(file)), name_(file_.string()), text_(std::move(text)) {}

  Site parse() {
    if (!text_) {
      try {
        text_ = yaml::read_file(file_);
      } catch (const Error&) {
        throw InputError(SourceLocation{name_}, "cannot read site file");
      }
    }
    tree_.emplace(yaml::parse(*text_, name_));
    const yaml::Node root(*tree_);
    if (!root.IsMap()) {
      throw InputError(at(root), "a site file is a mapping of keys (site, transport, host, ...)");
    }
    Site s;
    s.where = SourceLocation{name_, 1, 1};
    s.name = file_.stem().string();
    for (const auto& [k, v] : root.pairs()) {
      if (!k.IsScalar()) {
        problem(k, "a key must be a plain name, not a list or a mapping");
        continue;
      }
      const std::string& key = k.Scalar();
      if (std::find(known_keys().begin(), known_keys().end(), key) == known_keys().end()) {
        problem(k, "unknown key '" + key + "'" + did_you_mean(key, known_keys()));
        continue;
      }
      seen_.insert_or_assign(key, v);
    }
    s.name = text("site").value_or(s.name);
    if (!yaml::is_valid_name(s.name))
      problem(seen_.count("site") ? seen_["site"] : root,
              "site name '" + s.name + "' may only use letters, digits, '_', '.' and '-'");
    s.description = text("description").value_or("");
    if (auto t = text("transport")) {
      if (auto tr = parse_transport(*t))
        s.transport = *tr;
      else
        problem(seen_["transport"], "transport '" + *t + "' is not one of ssh, local, none" +
                                        did_you_mean(*t, {"ssh", "local", "none"}));
    }
    s.host = text("host").value_or("");
    s.user = text("user").value_or("");
    s.identity = path_text("identity", true).value_or("");
    s.known_hosts = path_text("known_hosts", true).value_or("");
    s.scheduler = text("scheduler").value_or(s.transport == Transport::kNone ? "" : "slurm");
    if (!s.scheduler.empty() && s.scheduler != "slurm")
      problem(seen_["scheduler"], "scheduler '" + s.scheduler + "' is not supported (only slurm)");
    if (s.transport != Transport::kNone && s.scheduler.empty())
      problem(seen_.count("scheduler") ? seen_["scheduler"] : root,
              "a site with transport " + std::string(to_string(s.transport)) +
                  " needs scheduler: slurm");
    s.partition = text("partition").value_or("");
    s.account = text("account").value_or("");
    s.workdir = path_text("workdir", s.transport != Transport::kSsh).value_or("");
    s.system = text("system").value_or("");
    s.python = text("python").value_or("");
    if (auto p = integer("port", 1, 65535)) s.port = static_cast<int>(*p);
    if (auto g = integer("gpus_per_node", 0, 1024)) s.gpus_per_node = static_cast<int>(*g);
    if (auto c = integer("cores_per_node", 0, 1 << 20)) s.cores_per_node = static_cast<int>(*c);
    if (auto m = integer("max_jobs", 1, 1 << 30)) s.max_jobs = static_cast<int>(*m);
    if (auto n = integer("transfer_streams", 1, 16)) s.transfer_streams = static_cast<int>(*n);
    if (auto p = text("poll_interval")) {
      auto d = parse_duration(*p);
      if (!d || d->count() <= 0)
        problem(seen_["poll_interval"], "poll_interval '" + *p +
                                            "' is not a positive duration (write e.g. 30s, "
                                            "500ms, 2m)");
      else
        s.poll_interval = *d;
    }
    parse_jump_key(s);
    parse_allocation(s);
    if (auto v = text("job_arrays")) {
      if (auto on = truth(*v))
        s.job_arrays = *on;
      else
        problem(seen_["job_arrays"], "job_arrays is true or false, not '" + *v + "'");
    }
    apply_ssh_config(s);
    for (const char* key : {"host", "port", "user", "identity", "jump"})
      if (!s.origin.count(key)) s.origin[key] = present(key) ? "site file" : "default";
    if (s.transport != Transport::kSsh) {
      for (const char* key : {"jump", "ssh_config"})
        if (present(key))
          problem(seen_[key], std::string(key) + " only applies to sites with transport ssh");
    }
    if (s.transport == Transport::kSsh && s.host.empty())
      problem(root, "site '" + s.name + "' uses transport ssh but has no host:" +
                        (present("ssh_config") ? " (nor a HostName in its ssh_config entry)" : ""));
    if (!problems_.empty()) throw InputError(problems_);
    return s;
  }

 private:
  bool present(const std::string& key) const {
    auto it = seen_.find(key);
    return it != seen_.end() && !it->second.IsNull();
  }

  static std::optional<std::string> home_path(const std::string& v) {
    if (v != "~" && v.rfind("~/", 0) != 0) return v;
    const char* home = std::getenv("HOME");
    if (!home || !*home) return std::nullopt;
    return std::string(home) + v.substr(1);
  }

  // `jump: [user@]host[:port]` or a mapping with host, port, user, identity.
  void parse_jump_key(Site& s) {
    if (!present("jump")) return;
    const yaml::Node n = seen_["jump"];
    std::string error;
    if (n.IsScalar()) {
      auto spec = text("jump");
      if (!spec) return;
      auto j = parse_jump_spec(*spec, error, &jump_port_given_);
      if (!j) {
        problem(n, "jump " + error);
        return;
      }
      s.jump = *j;
      return;
    }
    if (!n.IsMap()) {
      problem(n, "jump is [user@]host[:port] or a mapping with host, port, user, identity");
      return;
    }
    static const std::vector<std::string> keys = {"host", "port", "user", "identity"};
    JumpHost j;
    bool ok = true;
    for (const auto& [k, v] : n.pairs()) {
      const std::string& key = k.Scalar();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        problem(k, "unknown key '" + key + "' in jump" + did_you_mean(key, keys) +
                       " (jump has host, port, user, identity)");
        ok = false;
        continue;
      }
      if (!v.IsScalar()) {
        problem(v, "jump." + key + " must be a single value");
        ok = false;
        continue;
      }
      SourceLocation where = at(v);
      if (v.quoted()) where.col += 1;
      auto value = expand_env(v.Scalar(), where, problems_);
      if (!value) {
        ok = false;
        continue;
      }
      if (key == "host") {
        j.host = *value;
      } else if (key == "user") {
        j.user = *value;
      } else if (key == "identity") {
        auto p = home_path(*value);
        if (!p) {
          problem(v, "jump.identity starts with ~ but $HOME is not set; write the full path");
          ok = false;
        } else {
          j.identity = *p;
        }
      } else {
        auto i = parse_int(*value);
        if (!i || *i < 1 || *i > 65535) {
          problem(v, "jump.port must be a whole number from 1 to 65535, got '" + *value + "'");
          ok = false;
        } else {
          j.port = static_cast<int>(*i);
          jump_port_given_ = true;
        }
      }
    }
    if (ok && j.host.empty()) {
      problem(n, "jump needs a host:");
      ok = false;
    }
    if (ok && j.host.find_first_of(" \t@/,") != std::string::npos) {
      problem(n, "jump host '" + j.host + "' is not a host name");
      ok = false;
    }
    if (ok) s.jump = j;
  }

  // `allocation: {nodes, time, max, idle_timeout, prefetch}` (Slurm sites), or `allocation: true`
  // for the defaults; false or null: none.
  void parse_allocation(Site& s) {
    if (!present("allocation")) return;
    const yaml::Node n = seen_["allocation"];
    if (n.IsScalar()) {
      auto v = text("allocation");
      if (!v) return;
      const auto on = truth(*v);
      if (!on) {
        problem(
            n,
            "allocation is true, false or a mapping with nodes, time, max, idle_timeout, prefetch");
        return;
      }
      if (!*on) return;
      s.allocation = AllocationSpec{};
    } else if (!n.IsMap()) {
      problem(
          n,
          "allocation is true, false or a mapping with nodes, time, max, idle_timeout, prefetch");
      return;
    } else {
      static const std::vector<std::string> keys = {"nodes", "time", "max", "idle_timeout",
                                                    "prefetch"};
      AllocationSpec a;
      for (const auto& [k, v] : n.pairs()) {
        const std::string& key = k.Scalar();
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
          problem(k, "unknown key '" + key + "' in allocation" + did_you_mean(key, keys) +
                         " (allocation has nodes, time, max, idle_timeout, prefetch)");
          continue;
        }
        if (!v.IsScalar()) {
          problem(v, "allocation." + key + " must be a single value");
          continue;
        }
        SourceLocation where = at(v);
        if (v.quoted()) where.col += 1;
        auto value = expand_env(v.Scalar(), where, problems_);
        if (!value) continue;
        if (key == "nodes" || key == "max" || key == "prefetch") {
          auto i = parse_int(*value);
          const long lo = key == "prefetch" ? 0 : 1;
          const long hi = key == "max" ? 1000 : 100000;
          if (!i || *i < lo || *i > hi) {
            problem(v, "allocation." + key + " must be a whole number from " + std::to_string(lo) +
                           " to " + std::to_string(hi) + ", got '" + *value + "'");
            continue;
          }
          (key == "nodes" ? a.nodes : key == "max" ? a.max : a.prefetch) = static_cast<int>(*i);
        } else {
          auto d = parse_duration(*value);
          if (!d || d->count() < 1000) {
            problem(v, "allocation." + key + " '" + *value +
                           "' is not a duration of at least 1s (write e.g. 2h, 90m, 30s)");
            continue;
          }
          (key == "time" ? a.time : a.idle_timeout) =
              std::chrono::duration_cast<std::chrono::seconds>(*d);
        }
      }
      s.allocation = a;
    }
    if (s.scheduler != "slurm")
      problem(n, "allocation only applies to Slurm sites (scheduler: slurm)");
  }

  // `ssh_config: true|ALIAS`: host, port, user, identity and jump from the user's
  // ~/.ssh/config where the site file does not set them.
  void apply_ssh_config(Site& s) {
    if (!present("ssh_config")) return;
    const yaml::Node node = seen_["ssh_config"];
    auto v = text("ssh_config");
    if (!v) return;
    bool by_host = false;
    std::string alias;
    const auto on = truth(*v);
    if (on == false) return;
    if (on == true) {
      by_host = true;
      alias = s.host.empty() ? s.name : s.host;
    } else {
      alias = *v;
    }
    if (alias.empty() || alias.find_first_of(" \t*?!,") != std::string::npos) {
      problem(node,
              "ssh_config is true, false or one Host alias of ~/.ssh/config, got '" + *v + "'");
      return;
    }
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
      problem(node, "ssh_config needs $HOME to find ~/.ssh/config");
      return;
    }
    const std::string file = std::string(home) + "/.ssh/config";
    auto config = read_file(file);
    if (!config) {
      problem(node, "ssh_config: cannot read " + file);
      return;
    }
    SshConfigEntry e = ssh_config_lookup(*config, alias);
    if (!e.named) {
      problem(node, "ssh_config: no Host entry in " + file + " matches '" + alias + "'");
      return;
    }
    s.ssh_config = alias;
    auto from = [&](const SshConfigValue& cv) {
      return file + ":" + std::to_string(cv.line) + " (Host " + alias + ")";
    };
    auto config_problem = [&](const SshConfigValue& cv, const std::string& message) {
      problems_.push_back({SourceLocation{file, cv.line, 0}, message});
    };
    // host: with `ssh_config: true` the site's host: is the alias and HostName replaces it;
    // with `ssh_config: ALIAS` an explicit host: wins.
    if (e.hostname && (by_host || !present("host"))) {
      s.host = e.hostname->value;
      s.origin["host"] = from(*e.hostname);
    } else if (!present("host")) {
      s.host = alias;
      s.origin["host"] = "ssh_config alias";
    }
    if (e.port && !present("port")) {
      auto p = parse_int(e.port->value);
      if (!p || *p < 1 || *p > 65535)
        config_problem(*e.port, "Port must be a number from 1 to 65535, got '" + e.port->value +
                                    "' (used by site '" + s.name + "')");
      else {
        s.port = static_cast<int>(*p);
        s.origin["port"] = from(*e.port);
      }
    }
    if (e.user && !present("user")) {
      s.user = e.user->value;
      s.origin["user"] = from(*e.user);
    }
    if (e.identity_file && !present("identity")) {
      if (auto p = home_path(e.identity_file->value)) {
        s.identity = *p;
        s.origin["identity"] = from(*e.identity_file);
      }
    }
    if (e.proxy_jump && !present("jump") && e.proxy_jump->value != "none") {
      std::string error;
      auto j = parse_jump_spec(e.proxy_jump->value, error, &jump_port_given_);
      if (!j) {
        config_problem(*e.proxy_jump, "ProxyJump " + error + " (used by site '" + s.name + "')");
        return;
      }
      s.jump = *j;
      s.origin["jump"] = from(*e.proxy_jump);
    }
    // The gateway may itself be an alias of the same file, as OpenSSH resolves it.
    if (s.jump) {
      SshConfigEntry g = ssh_config_lookup(*config, s.jump->host);
      if (!g.named) return;
      const std::string gw_alias = s.jump->host;
      if (g.proxy_jump && g.proxy_jump->value != "none") {
        config_problem(*g.proxy_jump, "the gateway '" + gw_alias + "' of site '" + s.name +
                                          "' has a ProxyJump of its own; flow goes through "
                                          "one jump host, not a chain");
        return;
      }
      if (g.hostname) s.jump->host = g.hostname->value;
      if (g.port && !jump_port_given_) {
        auto p = parse_int(g.port->value);
        if (!p || *p < 1 || *p > 65535)
          config_problem(*g.port,
                         "Port must be a number from 1 to 65535, got '" + g.port->value + "'");
        else
          s.jump->port = static_cast<int>(*p);
      }
      if (g.user && s.jump->user.empty()) s.jump->user = g.user->value;
      if (g.identity_file && s.jump->identity.empty())
        if (auto p = home_path(g.identity_file->value)) s.jump->identity = *p;
      if (!s.origin.count("jump")) s.origin["jump"] = "site file";
      s.origin["jump"] += "; gateway settings from " + file + " (Host " + gw_alias + ")";
    }
  }

  SourceLocation at(const yaml::Node& n) const {
    if (n.line() < 0) return {name_, 0, 0};
    return {name_, n.line() + 1, n.col() + 1};
  }
  void problem(const yaml::Node& n, std::string message) {
    problems_.push_back({at(n), std::move(message)});
  }

  // The expanded scalar value of `key`, or nullopt if absent or broken (then reported).
  std::optional<std::string> text(const std::string& key) {
    auto it = seen_.find(key);
    if (it == seen_.end() || it->second.IsNull()) return std::nullopt;
    const yaml::Node& n = it->second;
    if (!n.IsScalar()) {
      problem(n, key + " must be a single value, not a list or mapping");
      return std::nullopt;
    }
    SourceLocation where = at(n);
    // Quoted scalars start one column before their text.
    if (n.quoted()) where.col += 1;
    return expand_env(n.Scalar(), where, problems_);
  }

  // Like text(), and `~` / `~/...` becomes $HOME when `expand_home`.
  std::optional<std::string> path_text(const std::string& key, bool expand_home) {
    auto v = text(key);
    if (!v || !expand_home) return v;
    if (*v == "~" || v->rfind("~/", 0) == 0) {
      const char* home = std::getenv("HOME");
      if (!home || !*home) {
        problem(seen_[key], key + " starts with ~ but $HOME is not set; write the full path");
        return std::nullopt;
      }
      return std::string(home) + v->substr(1);
    }
    return v;
  }

  std::optional<long> integer(const std::string& key, long lo, long hi) {
    auto v = text(key);
    if (!v) return std::nullopt;
    auto i = parse_int(*v);
    if (!i || *i < lo || *i > hi) {
      problem(seen_[key], key + " must be a whole number from " + std::to_string(lo) + " to " +
                              std::to_string(hi) + ", got '" + *v + "'");
      return std::nullopt;
    }
    return i;
  }

  std::filesystem::path file_;
  std::string name_;
  std::optional<std::string> text_;
  std::optional<yaml::Tree> tree_;  // what the nodes in seen_ point into
  std::map<std::string, yaml::Node> seen_;
  std::vector<Diagnostic> problems_;
  bool jump_port_given_ = false;
};

}  // namespace

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::kNone:
      return "none";
    case Transport::kLocal:
      return "local";
    case Transport::kSsh:
      return "ssh";
  }
  return "none";
}

std::optional<std::string> expand_env(std::string_view text, const SourceLocation& where,
                                      std::vector<Diagnostic>& problems) {
  std::string out;
  bool ok = true;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    SourceLocation here = where;
    if (here.col > 0) here.col += static_cast<int>(i);
    // The matching brace, so that a default may itself hold ${...}.
    size_t close = i + 2;
    for (int depth = 1; close < text.size(); ++close) {
      if (text[close] == '{') ++depth;
      if (text[close] == '}' && --depth == 0) break;
    }
    if (close >= text.size()) {
      problems.push_back({here, "unterminated '${' (write ${NAME} or ${NAME:-default})"});
      return std::nullopt;
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    std::optional<std::string_view> fallback;
    if (auto d = body.find(":-"); d != std::string_view::npos) {
      fallback = body.substr(d + 2);
      body = body.substr(0, d);
    }
    std::string var(body);
    bool name_ok = !var.empty() && !std::isdigit(static_cast<unsigned char>(var[0])) &&
                   std::all_of(var.begin(), var.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                   });
    if (!name_ok) {
      problems.push_back({here, "'${" + std::string(text.substr(i + 2, close - i - 2)) +
                                    "}' is not a variable name (letters, digits, _)"});
      ok = false;
    } else if (const char* v = std::getenv(var.c_str()); v && *v) {
      out += v;
    } else if (fallback) {
      SourceLocation inner = here;
      if (inner.col > 0) inner.col += static_cast<int>(fallback->data() - text.data() - i);
      auto expanded = expand_env(*fallback, inner, problems);
      if (expanded)
        out += *expanded;
      else
        ok = false;
    } else {
      problems.push_back({here, "environment variable " + var +
                                    " is not set; export it or write ${" + var + ":-default}"});
      ok = false;
    }
    i = close;
  }
  if (!ok) return std::nullopt;
  return out;
}

Site SiteCatalog::load_file(const std::filesystem::path& file) {
  return SiteParser(file, std::nullopt).parse();
}

Site SiteCatalog::load_text(const std::string& text, const std::filesystem::path& file) {
  return SiteParser(file, text).parse();
}

SiteCatalog SiteCatalog::load(const std::vector<std::filesystem::path>& dirs) {
  SiteCatalog c;
  Site local;
  local.name = "local";
  local.description = "plain processes on this machine";
  c.add(local);
  std::vector<Diagnostic> problems;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(d, ec))
      if (e.is_regular_file() &&
          (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());  // deterministic order inside one directory
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

std::vector<std::filesystem::path> SiteCatalog::default_dirs() {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (auto data = data_dir()) dirs.push_back(*data / "sites");
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    dirs.push_back(fs::path(xdg) / "flow" / "sites");
  else if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(fs::path(home) / ".config" / "flow" / "sites");
  if (const char* p = std::getenv("FLOW_SITES_PATH"); p && *p) {
    std::string_view rest(p);
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(std::string(entry));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return dirs;
}

const Site* SiteCatalog::find(std::string_view name) const {
  auto it = sites_.find(name);
  return it == sites_.end() ? nullptr : &it->second;
}

std::vector<std::string> SiteCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : sites_)
    out.push_back(k);
  return out;
}

void SiteCatalog::add(Site site) {
  sites_[site.name] = std::move(site);
}

}  // namespace flow::site
