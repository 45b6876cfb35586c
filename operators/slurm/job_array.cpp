#include "operators/slurm/job_array.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "engine/core/error.hpp"
#include "engine/core/sha256.hpp"
#include "engine/core/shell.hpp"

namespace flow::slurm {

namespace {

bool digits(std::string_view s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

long to_long(std::string_view s) {
  long v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// The #SBATCH lines right after the shebang (sbatch reads no further than the first line
// that is not one; LAMEC ends its header with a blank line).
std::vector<std::string_view> header_lines(std::string_view script) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  bool first = true;
  while (pos < script.size()) {
    size_t nl = script.find('\n', pos);
    std::string_view line =
        script.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? script.size() : nl + 1;
    if (first && line.rfind("#!", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.rfind("#SBATCH", 0) != 0) break;
    out.push_back(line);
  }
  return out;
}

}  // namespace

std::optional<long> foreach_index(std::string_view instance_id, std::string_view task_id) {
  if (instance_id.size() < task_id.size() + 3 || instance_id.substr(0, task_id.size()) != task_id)
    return std::nullopt;
  auto rest = instance_id.substr(task_id.size());
  if (rest.front() != '[' || rest.back() != ']') return std::nullopt;
  rest = rest.substr(1, rest.size() - 2);
  if (!digits(rest)) return std::nullopt;
  return to_long(rest);
}

std::optional<std::string> array_header(std::string_view script) {
  auto lines = header_lines(script);
  if (lines.empty()) return std::nullopt;
  std::string out;
  for (auto line : lines) {
    auto opt = line.substr(7);
    while (!opt.empty() && opt.front() == ' ')
      opt.remove_prefix(1);
    auto starts = [&](std::string_view o) {
      return opt.rfind(o, 0) == 0 &&
             (opt.size() == o.size() || opt[o.size()] == '=' || opt[o.size()] == ' ');
    };
    if (starts("--array") || starts("-a")) return std::nullopt;
    if (starts("--job-name") || starts("-J") || starts("--output") || starts("-o") ||
        starts("--error") || starts("-e"))
      continue;
    out += line;
    out += '\n';
  }
  return out;
}

std::string array_job_name(const run::AttemptKey& key, std::string_view task_id, long chunk) {
  return "flow." + key.run_id + "." + std::string(task_id) + "." + std::to_string(key.try_number) +
         ".array" + std::to_string(chunk);
}

ArraySlot array_slot(const run::AttemptKey& key, std::string_view task_id, long index,
                     long max_array_size) {
  const long m = std::max(1L, max_array_size);
  return {array_job_name(key, task_id, index / m), index % m};
}

std::optional<JobRecord> pick_element(const std::vector<JobRecord>& records,
                                      const std::string& own_name, const ArraySlot& slot) {
  const std::string suffix = "_" + std::to_string(slot.index);
  std::optional<JobRecord> own, element;
  for (const auto& r : records) {
    if (r.name == own_name) {
      if (!own || newer_job_id(r.job_id, own->job_id)) own = r;
    } else if (r.name == slot.name && r.job_id.size() > suffix.size() &&
               r.job_id.compare(r.job_id.size() - suffix.size(), suffix.size(), suffix) == 0 &&
               is_job_id(r.job_id)) {
      if (!element || newer_job_id(r.job_id, element->job_id)) element = r;
    }
  }
  return own ? own : element;
}

std::string array_index_list(std::vector<long> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  std::string out;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1)
      ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

std::string render_array_script(const std::string& header, const std::string& name,
                                const std::string& slurm_output,
                                const std::vector<ArrayElement>& elements) {
  std::vector<long> indices;
  for (const auto& e : elements)
    indices.push_back(e.index);
  std::string s = "#!/bin/bash\n";
  s += "#SBATCH --job-name=" + name + "\n";
  s += "#SBATCH --output=" + slurm_output + "\n";
  s += header;
  s += "#SBATCH --array=" + array_index_list(indices) + "\n\n";
  s += "# A flow job array: each element writes its own job script and runs it, its output\n"
       "# going to its own log (docs/SLURM.md \"Job arrays\").\n";
  s += "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (const auto& e : elements) {
    // The here-document ends at a line that no element script can contain by accident.
    const std::string end = "FLOW_ELEMENT_END_" + sha256_hex(e.script).substr(0, 16);
    if (e.script.find(end) != std::string::npos)
      throw InputError(SourceLocation{}, "the job script of " + e.base + " cannot go in an array");
    s += std::to_string(e.index) + ")\n";
    s += "  flow_base=" + shell_quote(e.base) + "\n";
    s += "  cat > \"$flow_base.sbatch\" <<'" + end + "'\n";
    s += e.script;
    if (!e.script.empty() && e.script.back() != '\n') s += '\n';
    s += end + "\n  ;;\n";
  }
  s += "*)\n  echo \"flow: no element $SLURM_ARRAY_TASK_ID in this array\" >&2\n  exit 2\n  ;;\n";
  s += "esac\n";
  s += "chmod 700 \"$flow_base.sbatch\"\n";
  s += "exec /bin/bash \"$flow_base.sbatch\" > \"$flow_base.log\" 2>&1\n";
  return s;
}

std::vector<std::string> expand_job_id(std::string_view id, size_t limit) {
  std::vector<std::string> out;
  const auto us = id.find('_');
  if (us == std::string_view::npos) {
    if (digits(id)) out.emplace_back(id);
    return out;
  }
  const auto job = id.substr(0, us);
  auto rest = id.substr(us + 1);
  if (!digits(job)) return out;
  if (digits(rest)) {
    out.emplace_back(id);
    return out;
  }
  if (rest.size() < 3 || rest.front() != '[' || rest.back() != ']') return out;
  rest = rest.substr(1, rest.size() - 2);
  if (auto pct = rest.find('%'); pct != std::string_view::npos) rest = rest.substr(0, pct);
  size_t pos = 0;
  while (pos <= rest.size() && out.size() < limit) {
    auto comma = rest.find(',', pos);
    auto part =
        rest.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? rest.size() + 1 : comma + 1;
    auto dash = part.find('-');
    auto lo_text = part.substr(0, dash);
    auto hi_text = dash == std::string_view::npos ? lo_text : part.substr(dash + 1);
    if (auto colon = hi_text.find(':'); colon != std::string_view::npos)  // a step "0-9:2"
      hi_text = hi_text.substr(0, colon);
    if (!digits(lo_text) || !digits(hi_text)) return {};
    for (long i = to_long(lo_text), hi = to_long(hi_text); i <= hi && out.size() < limit; ++i)
      out.push_back(std::string(job) + "_" + std::to_string(i));
  }
  return out;
}

bool newer_job_id(std::string_view a, std::string_view b) {
  auto order = [](std::string_view id) {
    const auto us = id.find('_');
    const auto job = id.substr(0, us);
    const auto index = us == std::string_view::npos ? std::string_view() : id.substr(us + 1);
    return std::tuple(job.size(), job, index.size(), index);
  };
  return order(a) > order(b);
}

std::string array_job_of(std::string_view id) {
  return std::string(id.substr(0, id.find('_')));
}

bool is_job_id(std::string_view id) {
  const auto us = id.find('_');
  if (us == std::string_view::npos) return digits(id);
  return digits(id.substr(0, us)) && digits(id.substr(us + 1));
}

std::optional<long> parse_max_array_size(std::string_view text) {
  const std::string_view key = "MaxArraySize";
  for (size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    if (at > 0 && text[at - 1] != '\n') continue;
    auto rest = text.substr(at + key.size());
    auto eq = rest.find('=');
    auto nl = rest.find('\n');
    if (eq == std::string_view::npos || (nl != std::string_view::npos && eq > nl)) continue;
    rest = rest.substr(eq + 1, nl == std::string_view::npos ? nl : nl - eq - 1);
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r'))
      rest.remove_suffix(1);
    if (digits(rest)) return to_long(rest);
  }
  return std::nullopt;
}

}  // namespace flow::slurm
