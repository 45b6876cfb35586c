#include "operators/slurm/site_cleanup.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"

namespace flow::slurm {

namespace {

// The components of an absolute path, or nullopt if it is not a plain one: relative, or
// with an empty ("//"), "." or ".." component, or a control character. One trailing '/'
// is allowed.
std::optional<std::vector<std::string_view>> components(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  }
  std::string_view rest = path.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::vector<std::string_view> out;
  if (rest.empty()) return out;  // "/"
  size_t start = 0;
  while (true) {
    const size_t end = rest.find('/', start);
    const std::string_view part = rest.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    out.push_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool is_run_id(std::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 200) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::optional<uint64_t> number(const std::string& text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool strictly_under(std::string_view path, std::string_view root) {
  const auto p = components(path);
  const auto r = components(root);
  if (!p || !r || p->size() <= r->size()) return false;
  return std::equal(r->begin(), r->end(), p->begin());
}

std::vector<std::string> run_paths_on_site(const site::Site& site, const std::string& run_id) {
  if (!is_run_id(run_id)) {
    throw InputError(SourceLocation{}, "'" + run_id +
                                           "' is not a run id (letters, digits, '_', '.', "
                                           "'-'); nothing was removed");
  }
  const auto parts = components(site.workdir);
  if (!parts || parts->empty()) {
    throw InputError(SourceLocation{},
                     "site '" + site.name + "' has workdir '" + site.workdir +
                         "': flow clean removes files only below a plain absolute workdir "
                         "(not '/', '~' or relative, no '.' or '..'); nothing was removed");
  }
  std::string root;
  for (const auto& c : *parts)
    root += "/" + std::string(c);
  std::vector<std::string> out = {root + "/runs/" + run_id, root + "/logs/" + run_id};
  for (const auto& p : out) {
    if (!strictly_under(p, root)) {  // cannot happen with the checks above; never remove it
      throw InputError(SourceLocation{}, "refusing to remove " + p + ": not below the workdir " +
                                             root + " of site '" + site.name + "'");
    }
  }
  return out;
}

std::vector<RunPath> remove_run_files(transport::Transport& transport, const site::Site& site,
                                      const std::string& run_id, bool dry_run) {
  const auto paths = run_paths_on_site(site, run_id);
  std::string list;
  for (const auto& p : paths)
    list += " " + shell_quote(p);
  // One line per path, in order: "+ FILES BYTES" or "-" (absent). Then the removal, if
  // asked. A directory a task made read-only (or unreadable) is opened up first, before
  // find descends into it; directories only: files may be hard links into the shared code
  // cache, whose mode must stay.
  std::string cmd = "for p in" + list +
                    "; do if [ -e \"$p\" ] || [ -L \"$p\" ]; then "
                    "f=$(find \"$p\" ! -type d 2>/dev/null | wc -l); "
                    "b=$(du -sb -- \"$p\" 2>/dev/null | cut -f1); "
                    "echo \"+ $f $b\"; else echo -; fi; done";
  if (!dry_run) {
    cmd += "; for p in" + list +
           "; do if [ -e \"$p\" ] || [ -L \"$p\" ]; then "
           "find \"$p\" -type d ! -perm -u+rwx -exec chmod u+rwx {} \\; 2>/dev/null; "
           "rm -rf -- \"$p\" || exit 1; fi; done";
  }
  // Removing a large run directory on a parallel file system takes a while.
  const auto r = transport.run_idempotent(cmd, std::chrono::minutes(30));
  if (r.exit_status != 0) {
    std::string why = r.err.empty() ? "exit status " + std::to_string(r.exit_status) : r.err;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
      why.pop_back();
    throw EnvironmentError("cannot remove run " + run_id + "'s files on site '" + site.name +
                           "' (" + transport.describe() + "): " + why);
  }
  std::vector<RunPath> out;
  std::istringstream in(r.out);
  std::string line;
  for (const auto& p : paths) {
    RunPath rp;
    rp.path = p;
    if (std::getline(in, line) && !line.empty() && line[0] == '+') {
      rp.existed = true;
      std::istringstream fields(line.substr(1));
      std::string files, bytes;
      fields >> files >> bytes;
      rp.files = number(files);
      rp.bytes = number(bytes);
    }
    out.push_back(std::move(rp));
  }
  return out;
}

}  // namespace flow::slurm
