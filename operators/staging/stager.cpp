#include "operators/staging/stager.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "engine/core/byte_size.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/sha256.hpp"
#include "engine/core/shell.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "operators/staging/link_archive.hpp"

namespace flow::staging {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Splits `items` into runs of at most `n`.
template <typename T>
std::vector<std::vector<T>> batches(const std::vector<T>& items, size_t n) {
  std::vector<std::vector<T>> out;
  for (size_t i = 0; i < items.size(); i += n)
    out.emplace_back(items.begin() + static_cast<long>(i),
                     items.begin() + static_cast<long>(std::min(items.size(), i + n)));
  return out;
}

// Names sha256sum and stat print unescaped: no newline, no backslash.
void check_name(const std::string& path) {
  if (path.find_first_of("\n\\") != std::string::npos)
    throw StageError("cannot stage '" + path +
                     "': its name contains a newline or a backslash; rename it");
}

struct LocalFd {
  int fd;
  ~LocalFd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Report& Report::operator+=(const Report& o) {
  files += o.files;
  sent += o.sent;
  resumed += o.resumed;
  unchanged += o.unchanged;
  bytes += o.bytes;
  streams = std::max(streams, o.streams);
  return *this;
}

nlohmann::json Report::to_json() const {
  return {{"files", files},         {"sent", sent},   {"resumed", resumed},
          {"unchanged", unchanged}, {"bytes", bytes}, {"streams", streams}};
}

std::string Report::summary() const {
  std::string s = std::to_string(files) + (files == 1 ? " file: " : " files: ") +
                  std::to_string(sent) + " sent (" + human_bytes(bytes) + ")";
  if (resumed) s += ", " + std::to_string(resumed) + " of them resumed";
  s += ", " + std::to_string(unchanged) + " unchanged";
  return s;
}

Stager::Stager(transport::Transport& transport, StagerOptions options)
    : t_(transport), options_(options), pool_(transport, options.streams, abort_) {
  load_cache();
}

Stager::~Stager() {
  try {
    save_cache();
  } catch (const std::exception&) {
  }
}

// One line per entry, tab-separated:
//   L <size> <mtime ns> <sha256> <path>            a local file
//   R <site> <size> <mtime> <sha256> <path>        a file on site <site> (describe())
void Stager::load_cache() {
  if (options_.digest_cache.empty()) return;
  std::ifstream in(options_.digest_cache);
  std::string line;
  const std::string site = t_.describe();
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t pos = 0;
    while (true) {
      size_t tab = line.find('\t', pos);
      if (f.size() == (line[0] == 'L' ? 4u : 5u) || tab == std::string::npos) {
        f.push_back(line.substr(pos));
        break;
      }
      f.push_back(line.substr(pos, tab - pos));
      pos = tab + 1;
    }
    try {
      if (f.size() == 5 && f[0] == "L") {
        local_[f[4]] = {std::stoull(f[1]), std::stoll(f[2]), f[3]};
      } else if (f.size() == 6 && f[0] == "R") {
        if (f[1] == site) {
          remote_[f[5]] = {{std::stoull(f[2]), f[3]}, f[4]};
        } else {
          other_sites_.push_back(line);
        }
      }
    } catch (const std::exception&) {
      // a damaged line: forget it
    }
  }
}

void Stager::save_cache() {
  if (options_.digest_cache.empty() || !cache_dirty_) return;
  std::string text;
  for (const auto& [path, k] : local_) {
    if (path.find_first_of("\t\n") != std::string::npos) continue;
    text += "L\t" + std::to_string(k.size) + "\t" + std::to_string(k.mtime_ns) + "\t" + k.sha256 +
            "\t" + path + "\n";
  }
  const std::string site = t_.describe();
  for (const auto& [path, k] : remote_) {
    if (path.find_first_of("\t\n") != std::string::npos) continue;
    text += "R\t" + site + "\t" + std::to_string(k.stat.size) + "\t" + k.stat.mtime + "\t" +
            k.sha256 + "\t" + path + "\n";
  }
  for (const auto& line : other_sites_)
    text += line + "\n";
  // Under $FLOW_HOME: private like the rest of it (engine/core/private_files.hpp).
  write_file_atomic(options_.digest_cache, text, kPrivateFileMode);
  cache_dirty_ = false;
}

void Stager::remember_remote(transport::Transport& t,
                             const std::map<std::string, std::string>& sha) {
  if (sha.empty()) return;
  std::vector<std::string> paths;
  for (const auto& [p, _] : sha)
    paths.push_back(p);
  auto stats = remote_stats(t, paths);
  std::lock_guard lock(mutex_);
  for (auto& [p, st] : stats) {
    if (auto it = sha.find(p); it != sha.end()) remote_[p] = {st, it->second};
  }
  cache_dirty_ = true;
}

std::string Stager::part_name(const std::string& dest, const std::string& content_sha) {
  std::string dir = parent_of(dest);
  return (dir.empty() ? "" : dir + "/") + ".flow-part." + content_sha.substr(0, 16) + "." +
         base_of(dest);
}

void Stager::check_stop() const {
  if ((stop_ && stop_->load()) || abort_.load()) throw Stopped("staging stopped");
}

transport::CommandResult Stager::command(transport::Transport& t, const std::string& cmd) {
  auto r = t.run_idempotent(cmd, options_.command_timeout);
  if (r.exit_status == 124)
    throw transport::Unreachable("site " + t.describe() +
                                 ": a staging command timed out: " + r.err);
  return r;
}

std::string Stager::local_sha256(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw StageError("cannot read " + path.string() + ": " + std::strerror(errno));
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  {
    std::lock_guard lock(mutex_);
    auto it = local_.find(path.string());
    if (it != local_.end() && !it->second.sha256.empty() &&
        it->second.size == static_cast<uint64_t>(st.st_size) && it->second.mtime_ns == mtime)
      return it->second.sha256;
  }
  auto d = digest_file(path);  // outside the lock: batches hash side by side
  std::lock_guard lock(mutex_);
  local_[path.string()] = {d.size, mtime, d.sha256};
  cache_dirty_ = true;
  return d.sha256;
}

std::map<std::string, Stager::RemoteStat> Stager::remote_stats(
    transport::Transport& t, const std::vector<std::string>& paths) {
  std::map<std::string, RemoteStat> out;
  for (const auto& batch : batches(paths, options_.batch)) {
    // size, mtime, the raw mode in hex (for S_ISREG), the name
    std::string cmd = "stat -L -c '%s %.9Y %f %n' --";
    for (const auto& p : batch)
      cmd += " " + shell_quote(p);
    cmd += " 2>/dev/null; true";
    std::istringstream in(command(t, cmd).out);
    std::string line;
    while (std::getline(in, line)) {
      auto sp = line.find(' ');
      auto sp2 = sp == std::string::npos ? sp : line.find(' ', sp + 1);
      auto sp3 = sp2 == std::string::npos ? sp2 : line.find(' ', sp2 + 1);
      if (sp3 == std::string::npos) continue;
      try {
        const auto mode = std::stoul(line.substr(sp2 + 1, sp3 - sp2 - 1), nullptr, 16);
        out[line.substr(sp3 + 1)] = {std::stoull(line.substr(0, sp)),
                                     line.substr(sp + 1, sp2 - sp - 1), S_ISREG(mode)};
      } catch (const std::exception&) {
      }
    }
  }
  return out;
}

std::map<std::string, std::string> Stager::remote_sha256(const std::vector<std::string>& paths) {
  return remote_sha256(t_, paths);
}

std::map<std::string, std::string> Stager::remote_sha256(transport::Transport& t,
                                                         const std::vector<std::string>& paths) {
  std::map<std::string, std::string> out;
  for (const auto& batch : batches(paths, options_.batch)) {
    std::string cmd = "sha256sum --";
    for (const auto& p : batch)
      cmd += " " + shell_quote(p);
    cmd += " 2>/dev/null; true";
    std::istringstream in(command(t, cmd).out);
    std::string line;
    while (std::getline(in, line)) {
      // "<64 hex>  <name>" (binary mode: "<64 hex> *<name>")
      if (line.size() < 67 || line[64] != ' ') continue;
      out[line.substr(66)] = line.substr(0, 64);
    }
  }
  return out;
}

void Stager::make_dirs_once(transport::Transport& t, const std::string& dir) {
  if (dir.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (made_dirs_.count(dir)) return;
  }
  t.make_dirs(dir);
  std::lock_guard lock(mutex_);
  made_dirs_.insert(dir);
}

void Stager::send_one(transport::Transport& t, const FileCopy& f, const std::string& sha,
                      uint64_t size, uint64_t have, Report& r) {
  const std::string part = part_name(f.remote, sha);
  try {
    make_dirs_once(t, parent_of(f.remote));
    if (have < size) {
      // Owner-writable while it is written, whatever its final mode (a resume reopens it).
      check_stop();
      uint64_t n = t.send_file(f.local, have, part, f.mode | 0200,
                               [&](const char*, size_t) { check_stop(); });
      r.bytes += n;
    }
  } catch (const transport::Unreachable&) {
    throw;  // the part stays: the next attempt continues it
  } catch (const std::exception& e) {
    try {
      t.remove(part);  // nothing half-written stays behind
    } catch (const std::exception&) {
    }
    throw StageError("cannot upload " + f.local.string() + " to " + f.remote + ": " + e.what());
  }
  r.sent++;
  if (have > 0) r.resumed++;
}

Report Stager::in_batches(const std::vector<const FileCopy*>& files,
                          const std::vector<uint64_t>& sizes, const Batch& batch) {
  {
    std::lock_guard lock(mutex_);
    made_dirs_.clear();
  }
  const auto ranges = cut_batches(sizes, options_.batch_files, options_.batch_bytes);
  std::vector<Report> done(ranges.size());
  Report r;
  r.streams = pool_.run(ranges.size(), [&](transport::Transport& t, size_t b) {
    const auto first = static_cast<long>(ranges[b].first);
    const auto last = static_cast<long>(ranges[b].second);
    done[b] = batch(t, {files.begin() + first, files.begin() + last},
                    {sizes.begin() + first, sizes.begin() + last});
  });
  for (const auto& d : done)
    r += d;  // a batch's report counts no files and no streams
  return r;
}

Report Stager::upload(const std::vector<FileCopy>& files) {
  // What needs no site first: names, and every file there and regular.
  std::vector<std::string> missing;
  std::vector<const FileCopy*> present;
  std::vector<uint64_t> sizes;
  for (const auto& f : files) {
    check_name(f.remote);
    struct stat st {};
    if (::stat(f.local.c_str(), &st) != 0) {
      missing.push_back(f.local.string());
      continue;
    }
    if (!S_ISREG(st.st_mode))
      throw StageError("cannot upload " + f.local.string() + ": not a regular file");
    present.push_back(&f);
    sizes.push_back(static_cast<uint64_t>(st.st_size));
  }
  if (!missing.empty()) throw StageError("no such file: " + join(missing));
  Report r = in_batches(present, sizes,
                        [&](transport::Transport& t, const auto& some, const auto& their_sizes) {
                          return upload_batch(t, some, their_sizes);
                        });
  r.files = static_cast<int>(files.size());
  save_cache();
  return r;
}

Report Stager::upload_batch(transport::Transport& t, const std::vector<const FileCopy*>& files,
                            const std::vector<uint64_t>& sizes) {
  Report r;
  struct Item {
    const FileCopy* f;
    std::string sha, part;
    uint64_t size = 0;
  };
  std::vector<Item> items;
  std::vector<std::string> stat_paths;
  for (size_t i = 0; i < files.size(); ++i) {
    check_stop();
    Item it{files[i], local_sha256(files[i]->local), "", sizes[i]};
    it.part = part_name(it.f->remote, it.sha);
    stat_paths.push_back(it.f->remote);
    stat_paths.push_back(it.part);
    items.push_back(std::move(it));
  }

  // What is there already: equal copies are kept, partial ones continued. A file this
  // Stager verified before, whose size and mtime on the site did not change since, is not
  // hashed there again.
  auto stats = remote_stats(t, stat_paths);
  std::vector<std::string> same_size;
  std::map<std::string, std::string> there;
  {
    std::lock_guard lock(mutex_);
    for (const auto& it : items) {
      auto s = stats.find(it.f->remote);
      if (s == stats.end() || s->second.size != it.size) continue;
      auto k = remote_.find(it.f->remote);
      if (k != remote_.end() && k->second.stat.size == s->second.size &&
          k->second.stat.mtime == s->second.mtime) {
        there[it.f->remote] = k->second.sha256;
      } else {
        same_size.push_back(it.f->remote);
      }
    }
  }
  if (!same_size.empty()) {
    auto hashed = remote_sha256(t, same_size);
    std::lock_guard lock(mutex_);
    for (const auto& [p, h] : hashed) {
      there[p] = h;
      remote_[p] = {stats[p], h};
      cache_dirty_ = true;
    }
  }
  std::vector<const Item*> sent;
  for (const auto& it : items) {
    if (auto h = there.find(it.f->remote); h != there.end() && h->second == it.sha) {
      r.unchanged++;
      continue;
    }
    uint64_t have = 0;
    if (auto p = stats.find(it.part); p != stats.end()) {
      if (p->second.size <= it.size) {
        have = p->second.size;
      } else {
        t.remove(it.part);  // longer than the file: not a prefix of it
      }
    }
    send_one(t, *it.f, it.sha, it.size, have, r);
    sent.push_back(&it);
  }
  if (sent.empty()) return r;

  // Check every copy where it landed, then put it in place.
  std::vector<std::string> parts;
  for (const auto* it : sent)
    parts.push_back(it->part);
  auto got = remote_sha256(t, parts);
  for (const auto* it : sent) {
    if (got[it->part] == it->sha) continue;
    // Corrupted on the way (or a stale partial copy that was not a prefix): once more, whole.
    t.remove(it->part);
    Report again;
    send_one(t, *it->f, it->sha, it->size, 0, again);
    r.bytes += again.bytes;
    auto second = remote_sha256(t, {it->part});
    if (second[it->part] != it->sha) {
      t.remove(it->part);
      throw StageError("the copy of " + it->f->local.string() + " on the site (" + it->f->remote +
                       ") has sha256 " +
                       (second[it->part].empty() ? std::string("?") : second[it->part]) +
                       " twice, expected " + it->sha + "; the site's storage may be failing");
    }
  }
  std::map<std::string, std::string> placed;
  for (const auto* it : sent) {
    try {
      t.rename(it->part, it->f->remote);
    } catch (const transport::Unreachable&) {
      throw;
    } catch (const std::exception& e) {
      throw StageError("cannot put " + it->f->remote + " in place: " + e.what());
    }
    placed[it->f->remote] = it->sha;
  }
  remember_remote(t, placed);
  return r;
}

Report Stager::download(const std::vector<FileCopy>& files,
                        std::map<std::string, std::string>* sha256) {
  std::vector<std::string> remotes;
  for (const auto& f : files) {
    check_name(f.remote);
    remotes.push_back(f.remote);
  }
  // Every file must be there before anything is copied.
  auto stats = remote_stats(t_, remotes);
  std::vector<std::string> missing;
  std::vector<const FileCopy*> present;
  std::vector<uint64_t> sizes;
  for (const auto& f : files) {
    auto s = stats.find(f.remote);
    if (s == stats.end() || !s->second.regular) {
      missing.push_back(f.remote);
      continue;
    }
    present.push_back(&f);
    sizes.push_back(s->second.size);
  }
  if (!missing.empty())
    throw StageError("not on the site (or not a regular file there): " + join(missing));
  Report r = in_batches(present, sizes,
                        [&](transport::Transport& t, const auto& some, const auto& their_sizes) {
                          return download_batch(t, some, their_sizes, sha256);
                        });
  r.files = static_cast<int>(files.size());
  save_cache();
  return r;
}

Report Stager::download_batch(transport::Transport& t, const std::vector<const FileCopy*>& files,
                              const std::vector<uint64_t>& sizes,
                              std::map<std::string, std::string>* sha256) {
  Report r;
  std::vector<std::string> remotes;
  for (const auto* f : files)
    remotes.push_back(f->remote);
  auto shas = remote_sha256(t, remotes);
  std::vector<std::string> gone;
  for (const auto* f : files)
    if (!shas.count(f->remote)) gone.push_back(f->remote);
  if (!gone.empty())
    throw StageError("not on the site any more (or not a regular file there): " + join(gone));
  if (sha256) {
    std::lock_guard lock(mutex_);
    for (const auto& [remote, sha] : shas)
      (*sha256)[remote] = sha;
  }
  // Copies checked but not yet in place: each is made durable (fsync) and renamed at the end
  // of the batch, so the disk writes one while the next ones arrive.
  struct Arrived {
    std::filesystem::path part;
    const FileCopy* f;
    std::string sha;
    bool resumed;
  };
  std::vector<Arrived> arrived;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileCopy& f = *files[i];
    const std::string& want = shas[f.remote];
    std::error_code ec;
    if (std::filesystem::is_regular_file(f.local, ec) && local_sha256(f.local) == want) {
      r.unchanged++;
      continue;
    }
    const uint64_t size = sizes[i];
    std::filesystem::create_directories(f.local.parent_path(), ec);
    const std::filesystem::path part = part_name(f.local.string(), want);
    bool resumed = false;
    for (int round = 0;; ++round) {
      uint64_t have = 0;
      if (round == 0) {
        struct stat st {};
        if (::stat(part.c_str(), &st) == 0) have = static_cast<uint64_t>(st.st_size);
        if (have > size) have = 0;
      }
      LocalFd out{
          ::open(part.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (have ? 0 : O_TRUNC), 0644)};
      if (out.fd < 0)
        throw StageError("cannot write " + part.string() + ": " + std::strerror(errno));
      Sha256 hash;
      if (have > 0) {  // the part so far: hash it, then continue after it
        LocalFd in{::open(part.c_str(), O_RDONLY | O_CLOEXEC)};
        std::string buf(1 << 20, '\0');
        uint64_t left = have;
        while (left > 0 && in.fd >= 0) {
          ssize_t n = ::read(in.fd, buf.data(), std::min<uint64_t>(buf.size(), left));
          if (n <= 0) break;
          hash.update(buf.data(), static_cast<size_t>(n));
          left -= static_cast<uint64_t>(n);
        }
        resumed = true;
      }
      uint64_t pos = have;
      std::string write_error;
      check_stop();
      t.receive_file(f.remote, have, [&](const char* d, size_t n) {
        check_stop();
        hash.update(d, n);
        for (size_t done = 0; done < n && write_error.empty();) {
          ssize_t w = ::pwrite(out.fd, d + done, n - done, static_cast<off_t>(pos + done));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) write_error = std::strerror(errno);
          if (w > 0) done += static_cast<size_t>(w);
        }
        pos += n;
      });
      r.bytes += pos - have;
      if (!write_error.empty()) {
        ::unlink(part.c_str());
        throw StageError("cannot write " + part.string() + ": " + write_error);
      }
      if (::ftruncate(out.fd, static_cast<off_t>(pos)) != 0) {
      }
      if (hash.hex() == want) {
        // Start writing it to disk now; the fsync before its rename then waits for less.
        ::sync_file_range(out.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        break;
      }
      ::unlink(part.c_str());
      if (round == 1)
        throw StageError("the copy of " + f.remote + " does not match its sha256 on the site (" +
                         want + ") after two tries");
    }
    arrived.push_back({part, &f, want, resumed});
  }
  for (const auto& a : arrived) {
    LocalFd fd{::open(a.part.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0 || ::fsync(fd.fd) != 0) {
      const std::string why = std::strerror(errno);
      ::unlink(a.part.c_str());
      throw StageError("cannot write " + a.part.string() + ": " + why);
    }
    if (::rename(a.part.c_str(), a.f->local.c_str()) != 0)
      throw StageError("cannot put " + a.f->local.string() + " in place: " + std::strerror(errno));
    struct stat st {};
    if (::stat(a.f->local.c_str(), &st) == 0) {
      std::lock_guard lock(mutex_);
      local_[a.f->local.string()] = {
          static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, a.sha};
      cache_dirty_ = true;
    }
    r.sent++;
    if (a.resumed) r.resumed++;
  }
  return r;
}

void Stager::place_links(const std::vector<std::pair<std::string, const FileCopy*>>& links) {
  if (links.empty()) return;
  // "set -e; mkdir -p -- DIR..." for the destinations' directories.
  auto make_dirs = [](const auto& some_links) {
    std::set<std::string> dirs;
    for (const auto& [_, f] : some_links)
      if (auto d = parent_of(f->remote); !d.empty()) dirs.insert(d);
    std::string cmd = "set -e";
    if (!dirs.empty()) cmd += "; mkdir -p --";
    for (const auto& d : dirs)
      cmd += " " + shell_quote(d);
    return cmd;
  };
  bool absolute = true;
  for (const auto& [object, f] : links)
    absolute = absolute && object.starts_with('/') && f->remote.starts_with('/');
  // One `tar -x` of an archive of hard-link entries places them all (link_archive.hpp); a
  // destination a previous try left is replaced, as with `ln -f`.
  if (absolute) {
    std::vector<HardLink> entries;
    for (const auto& [object, f] : links)
      entries.push_back({object, f->remote});
    const std::string archive = parent_of(links.front().first) + "/.flow-links." +
                                std::to_string(std::random_device{}()) + ".tar";
    t_.put_file(archive, hard_link_archive(entries), 0600);
    const std::string a = shell_quote(archive);
    auto res =
        command(t_, make_dirs(links) + "; trap 'rm -f " + a + "' EXIT; tar -x -f " + a + " -C /");
    if (res.exit_status == 0) return;
    // No tar, or links across file systems: place them one by one below.
  }
  for (const auto& batch : batches(links, options_.batch)) {
    std::string cmd = make_dirs(batch);
    for (const auto& [object, f] : batch) {
      std::string o = shell_quote(object), d = shell_quote(f->remote);
      cmd += "; ln -f -- " + o + " " + d + " 2>/dev/null || cp -f -- " + o + " " + d;
    }
    auto res = command(t_, cmd);
    if (res.exit_status != 0)
      throw StageError("cannot place the code files on the site: " + res.err);
  }
}

Report Stager::sync_tree(const std::vector<FileCopy>& files, const std::string& cache_dir) {
  Report r;
  r.files = static_cast<int>(files.size());
  std::map<std::string, FileCopy> objects;  // object path -> a file with that content
  std::vector<std::pair<std::string, const FileCopy*>> links;  // object, destination
  for (const auto& f : files) {
    check_name(f.remote);
    struct stat st {};
    if (::stat(f.local.c_str(), &st) != 0)
      throw StageError("cannot stage code file " + f.local.string() + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
      throw StageError("cannot stage code file " + f.local.string() + ": not a regular file");
    const bool exec = st.st_mode & 0111;
    std::string object = cache_dir + "/" + local_sha256(f.local) + (exec ? ".x" : "");
    objects.emplace(object, FileCopy{f.local, object, exec ? 0555 : 0444});
    links.emplace_back(object, &f);
  }
  // Which objects the site lacks.
  std::vector<std::string> names;
  for (const auto& [object, _] : objects)
    names.push_back(base_of(object));
  std::set<std::string> lacking;
  for (const auto& batch : batches(names, options_.batch * 4)) {
    std::string cmd =
        "mkdir -p " + shell_quote(cache_dir) + " && cd " + shell_quote(cache_dir) + " && for h in";
    for (const auto& n : batch)
      cmd += " " + n;
    cmd += "; do [ -e \"$h\" ] || echo \"$h\"; done";
    auto res = command(t_, cmd);
    if (res.exit_status != 0)
      throw StageError("cannot use the code cache " + cache_dir + " on the site: " + res.err);
    std::istringstream in(res.out);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) lacking.insert(line);
  }
  std::vector<FileCopy> uploads;
  for (const auto& [object, copy] : objects)
    if (lacking.count(base_of(object))) uploads.push_back(copy);
  if (!uploads.empty()) {
    Report up = upload(uploads);
    r.sent = up.sent;
    r.resumed = up.resumed;
    r.bytes = up.bytes;
    r.streams = up.streams;
    std::string chmod = "chmod a-w --";
    for (const auto& u : uploads)
      chmod += " " + shell_quote(u.remote);
    command(t_, chmod);
  }
  for (const auto& link : links)
    if (!lacking.count(base_of(link.first))) r.unchanged++;
  place_links(links);
  save_cache();
  return r;
}

}  // namespace flow::staging
