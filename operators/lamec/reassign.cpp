// `flow lamec eval`: rewrite the module block of an existing script for another system or
// software set, keeping every other byte.
#include <algorithm>
#include <sstream>

#include "engine/core/suggest.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::lamec {

namespace {

constexpr std::string_view kBegin = "# MODULES BEGIN";
constexpr std::string_view kEnd = "# MODULES END";

// The script as lines, each keeping its "\n" (the last may have none), so joining them
// gives back the input exactly.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string body(const std::string& line) {  // without the line break
  std::string s = line;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// Index of the "#SBATCH --option=..." line, or -1.
int find_sbatch(const std::vector<std::string>& lines, const std::string& option) {
  const std::string a = "#SBATCH --" + option + "=";
  const std::string b = "#SBATCH --" + option + " ";
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind(a, 0) == 0 || lines[i].rfind(b, 0) == 0) return static_cast<int>(i);
  return -1;
}

std::string sbatch_value(const std::string& line) {
  std::string s = body(line);
  auto p = s.find_first_of("= ", std::string("#SBATCH --").size());
  return p == std::string::npos ? "" : s.substr(p + 1);
}

}  // namespace

ReassignResult reassign(std::string_view script, const Reassignment& change,
                        const ModuleCatalog& modules) {
  std::vector<std::string> lines = split_lines(script);
  int begin = -1, end = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string b = body(lines[i]);
    if (begin < 0 && b.rfind(kBegin, 0) == 0 &&
        (b.size() == kBegin.size() || b[kBegin.size()] == ' '))
      begin = static_cast<int>(i);
    else if (begin >= 0 && b == kEnd) {
      end = static_cast<int>(i);
      break;
    }
  }
  if (begin >= 0 && end < 0)
    throw InputError(SourceLocation{"script", begin + 1, 1},
                     "'# MODULES BEGIN' has no matching '# MODULES END' line");

  std::string old_system;
  std::vector<std::string> software;
  if (begin >= 0) {
    auto w = words(body(lines[begin]).substr(kBegin.size()));
    if (!w.empty()) {
      old_system = w.front();
      for (size_t i = 1; i < w.size(); ++i)
        software.push_back(canonical_software(w[i]));
    }
  }
  const std::string system = change.system ? *change.system : old_system;
  if (system.empty())
    throw InputError(SourceLocation{},
                     "the script has no '# MODULES BEGIN <system> ...' block; say which "
                     "system with --system");
  const std::vector<std::string> old_software = software;
  for (const auto& r : change.remove) {
    auto sw = canonical_software(r);
    auto it = std::find(software.begin(), software.end(), sw);
    if (it == software.end())
      throw InputError(SourceLocation{}, "cannot remove '" + sw +
                                             "': the module block covers only " +
                                             (software.empty() ? "nothing" : join(software)));
    software.erase(it);
  }
  for (const auto& a : change.add) {
    auto sw = canonical_software(a);
    if (std::find(software.begin(), software.end(), sw) == software.end()) software.push_back(sw);
  }
  const SystemModules& sys = modules.get(system);
  ReassignResult result;
  std::string block = render_module_block(system, software, modules);

  if (begin >= 0) {
    std::string old_block;
    for (int i = begin; i <= end; ++i)
      old_block += lines[i];
    lines.erase(lines.begin() + begin, lines.begin() + end + 1);
    lines.insert(lines.begin() + begin, block);
    if (old_block != block)
      result.changes.push_back("module block: " + old_system + " " + join(old_software, " ") +
                               " -> " + system + " " + join(software, " "));
  } else {
    int last_sbatch = -1;
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].rfind("#SBATCH", 0) == 0) last_sbatch = static_cast<int>(i);
    int at = last_sbatch + 1;
    if (at == 0 && !lines.empty() && lines[0].rfind("#!", 0) == 0) at = 1;
    lines.insert(lines.begin() + at, "\n" + block);
    result.changes.push_back("module block added: " + system + " " + join(software, " "));
  }

  if (change.system && *change.system != old_system) {
    // Recompute the lines the system decides, by the same rules as make_request().
    site::Site as_site;
    as_site.name = sys.name;
    as_site.system = sys.name;
    dag::SlurmSpec spec;
    spec.software = software;
    ScriptRequest r = make_request(as_site, spec, "", modules);
    auto set = [&](const std::string& option, const std::string& value,
                   std::vector<std::string> anchors) {
      int i = find_sbatch(lines, option);
      std::string old = i >= 0 ? sbatch_value(lines[i]) : "";
      if (old == value) return;
      if (value.empty()) {
        lines.erase(lines.begin() + i);
      } else if (i >= 0) {
        lines[i] = "#SBATCH --" + option + "=" + value + "\n";
      } else {
        int a = -1;
        for (const auto& anchor : anchors)
          if (a < 0) a = find_sbatch(lines, anchor);
        if (a < 0) return;  // no anchor: a hand-written header; leave it alone
        lines.insert(lines.begin() + a + 1, "#SBATCH --" + option + "=" + value + "\n");
      }
      result.changes.push_back(option + ": " + (old.empty() ? "(none)" : old) + " -> " +
                               (value.empty() ? "(none)" : value));
    };
    auto num = [](int v) { return v > 0 ? std::to_string(v) : std::string(); };
    set("partition", r.partition, {"account", "job-name"});
    set("ntasks-per-node", num(r.ntasks_per_node), {"nodes"});
    set("cpus-per-task", num(r.cpus_per_task), {"ntasks-per-node", "nodes"});
    set("gpus-per-node", num(r.gpus_per_node), {"cpus-per-task", "ntasks-per-node", "nodes"});
  }

  for (const auto& l : lines)
    result.script += l;
  return result;
}

}  // namespace flow::lamec
