// Allocation mode's book-keeping: which try holds which slots of which node, when a new
// allocation is wanted, and the parser of what the site's workers wrote.
//
// Lines of a poll (or dispatch) command's output, one fact each:
//   Q <job id>|<job name>|<state>|<reason>   squeue, for flow's live allocations
//   q                                         squeue answered (even with no line)
//   N <uid> <node> <cores> <gpus|-> <start ms>
//   S <uid> <node> <id> <start ms>
//   E <uid> <node> <id> <exit code> <end ms> [cancelled|unstarted]
//                                             (its frames that follow are its final files:
//                                             the commands print E before any frame)
//   P <uid> <node> <id>                       a task script in the inbox, or taken by the
//                                             worker and about to start
//   C <uid> <node>                            the node's worker ended
//   W <id> ok|closed                          a task file was (or could not be) placed
//   F <id> <kind> <n>                         followed by n bytes of that file, then "\n"
//   T <id> <kind> <path>                      that file, from its start, is in the tar
//   t                                         the rest of the output is a tar stream
#include "operators/slurm/allocation_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "engine/core/sha256.hpp"

namespace flow::slurm {

namespace {

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w)
    out.push_back(w);
  return out;
}

long long to_ll(const std::string& s, long long fallback = 0) {
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    return used == s.size() ? v : fallback;
  } catch (...) {
    return fallback;
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty() || s == "-") return out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A tar field of octal digits (NUL- or space-terminated), or GNU's base-256 for large
// sizes (high bit of the first byte set).
long long tar_number(const char* f, size_t n) {
  if (n > 0 && (static_cast<unsigned char>(f[0]) & 0x80)) {
    long long v = static_cast<unsigned char>(f[0]) & 0x7f;
    for (size_t i = 1; i < n; ++i)
      v = (v << 8) | static_cast<unsigned char>(f[i]);
    return v;
  }
  long long v = 0;
  size_t i = 0;
  while (i < n && f[i] == ' ')
    ++i;
  for (; i < n && f[i] >= '0' && f[i] <= '7'; ++i)
    v = v * 8 + (f[i] - '0');
  return v;
}

std::string tar_text(const char* f, size_t n) {
  size_t len = 0;
  while (len < n && f[len] != '\0')
    ++len;
  return std::string(f, len);
}

std::string without_leading_slashes(std::string p) {
  const size_t k = p.find_first_not_of('/');
  return k == std::string::npos ? std::string() : p.substr(k);
}

// The regular files of a tar stream (POSIX ustar, GNU long names, pax path records) by
// name without leading slashes. Stops at the end-of-archive block or a stream cut short.
std::map<std::string, std::string> tar_members(const std::string& t, size_t pos) {
  std::map<std::string, std::string> out;
  std::string long_name;
  while (pos + 512 <= t.size()) {
    const char* h = t.data() + pos;
    if (std::all_of(h, h + 512, [](char c) { return c == '\0'; })) break;
    const long long size = tar_number(h + 124, 12);
    if (size < 0 || pos + 512 + static_cast<size_t>(size) > t.size()) break;
    const std::string data = t.substr(pos + 512, static_cast<size_t>(size));
    pos += 512 + (static_cast<size_t>(size) + 511) / 512 * 512;
    const char type = h[156];
    if (type == 'L') {  // GNU: the next member's name
      long_name = tar_text(data.data(), data.size());
      continue;
    }
    if (type == 'x') {  // pax: "LEN path=VALUE\n" records for the next member
      size_t at = 0;
      while (at < data.size()) {
        const size_t sp = data.find(' ', at);
        if (sp == std::string::npos) break;
        const long long len = std::atoll(data.c_str() + at);
        if (len <= 0 || at + static_cast<size_t>(len) > data.size()) break;
        const std::string rec = data.substr(sp + 1, at + static_cast<size_t>(len) - sp - 2);
        if (rec.rfind("path=", 0) == 0) long_name = rec.substr(5);
        at += static_cast<size_t>(len);
      }
      continue;
    }
    std::string name = long_name;
    long_name.clear();
    if (name.empty()) {
      name = tar_text(h, 100);
      const std::string prefix = tar_text(h + 345, 155);
      if (std::memcmp(h + 257, "ustar\0", 6) == 0 && !prefix.empty()) name = prefix + "/" + name;
    }
    if (type == '0' || type == '\0') out[without_leading_slashes(name)] = data;
  }
  return out;
}

}  // namespace

void AllocNode::hold(const run::AttemptKey& key, const Placement& p) {
  release(key);
  held_.emplace(key, p);
  used_cores_ += p.cores;
}

void AllocNode::release(const run::AttemptKey& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  used_cores_ -= it->second.cores;
  held_.erase(it);
}

std::vector<std::string> AllocNode::free_gpus() const {
  std::set<std::string> used;
  for (const auto& [_, p] : held_)
    used.insert(p.gpus.begin(), p.gpus.end());
  std::vector<std::string> out;
  for (const auto& g : gpus)
    if (!used.count(g)) out.push_back(g);
  return out;
}

long long Allocation::left_ms(EpochMs now) const {
  const long long total = std::chrono::duration_cast<std::chrono::milliseconds>(time).count();
  if (start <= 0) return total;
  return start + total - now;
}

std::string task_file_id(const run::AttemptKey& key) {
  const std::string name =
      "flow." + key.run_id + "." + key.instance_id + "." + std::to_string(key.try_number);
  return "t" + sha256_hex(name).substr(0, 16);
}

AllocReport parse_alloc_report(const std::string& text) {
  AllocReport r;
  std::map<std::string, std::pair<std::string, std::string>> in_tar;  // path -> id, kind
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == "t") {  // the rest is a tar stream of the files named by T lines
      for (auto& [name, data] : tar_members(text, pos))
        if (auto w = in_tar.find(name); w != in_tar.end()) r.files[w->second] += data;
      break;
    }
    if (line.size() > 2 && line[0] == 'T' && line[1] == ' ') {  // T <id> <kind> <path>
      const size_t a = line.find(' ', 2), b = a == std::string::npos ? a : line.find(' ', a + 1);
      if (b != std::string::npos)
        in_tar[without_leading_slashes(line.substr(b + 1))] = {line.substr(2, a - 2),
                                                               line.substr(a + 1, b - a - 1)};
      continue;
    }
    if (line.size() >= 2 && line[0] == 'Q' && line[1] == ' ') {
      std::vector<std::string> f;
      std::string cur;
      for (char c : line.substr(2)) {
        if (c == '|') {
          f.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      f.push_back(cur);
      if (f.size() >= 3) r.queued.push_back({f[0], f[1], f[2], f.size() > 3 ? f[3] : ""});
      continue;
    }
    const auto w = words(line);
    if (w.empty()) continue;
    const std::string& tag = w[0];
    if (tag == "q" && w.size() == 1) {
      r.squeue_ok = true;
    } else if (tag == "N" && w.size() >= 6) {
      AllocReport::NodeInfo n;
      n.uid = w[1];
      n.node = w[2];
      n.cores = static_cast<int>(to_ll(w[3]));
      n.gpus = split_commas(w[4]);
      n.start = to_ll(w[5]);
      if (n.cores > 0) r.nodes.push_back(std::move(n));
    } else if (tag == "S" && w.size() >= 5) {
      r.started.push_back({w[1], w[2], w[3], to_ll(w[4])});
    } else if (tag == "E" && w.size() >= 6) {
      AllocReport::Ended e;
      e.uid = w[1];
      e.node = w[2];
      e.id = w[3];
      e.exit_code = static_cast<int>(to_ll(w[4], -1));
      e.at = to_ll(w[5]);
      e.cancelled = w.size() > 6 && w[6] == "cancelled";
      e.never_started = w.size() > 6 && w[6] == "unstarted";
      r.done.insert(e.id);
      r.ended.push_back(std::move(e));
    } else if (tag == "P" && w.size() >= 4) {
      r.waiting.insert(w[3]);
    } else if (tag == "C" && w.size() >= 3) {
      r.closed.insert({w[1], w[2]});
    } else if (tag == "W" && w.size() >= 3) {
      (w[2] == "ok" ? r.written : r.refused).insert(w[1]);
    } else if (tag == "F" && w.size() >= 4) {
      const long long n = to_ll(w[3], -1);
      if (n < 0 || pos + static_cast<size_t>(n) > text.size()) break;  // cut short: stop
      r.files[{w[1], w[2]}] += text.substr(pos, static_cast<size_t>(n));
      pos += static_cast<size_t>(n);
      if (pos < text.size() && text[pos] == '\n') ++pos;
    }
  }
  return r;
}

std::optional<Placement> AllocationPool::claim(const run::AttemptKey& key,
                                               const dag::Resources& need,
                                               std::optional<dag::Duration> declared, EpochMs now) {
  const int cores = std::max(1, need.cpus);
  // Time the try may take, with a margin for the worker's start-up and the poll.
  const long long want = declared ? declared->count() + 30000 : 30000;
  auto hold = [&](Allocation& a, const std::string& name, AllocNode& n,
                  std::vector<std::string> gpus) {
    Placement p{a.uid, a.job_id, name, cores, std::move(gpus), need.declared};
    n.hold(key, p);
    where_[key] = a.uid;
    return p;
  };
  // Free slots first, on any node of any running allocation.
  for (auto& [uid, a] : allocations_) {
    if (a.state != Allocation::State::kRunning || a.left_ms(now) < want) continue;
    for (auto& [name, n] : a.nodes) {
      if (n.closed || n.free_cores() < cores) continue;
      auto gpus = n.free_gpus();
      if (static_cast<int>(gpus.size()) < need.gpus) continue;
      gpus.resize(static_cast<size_t>(need.gpus));
      return hold(a, name, n, std::move(gpus));
    }
  }
  // None free: that is demand for another allocation. A try that needs no GPU may still
  // wait in the inbox of the node with the most prefetch room left, to start there the
  // moment cores free up. One that needs GPUs does not: its GPU ids are chosen when it is
  // placed, so they must be free then.
  demand_ = true;
  if (need.gpus > 0) return std::nullopt;
  Allocation* best_a = nullptr;
  AllocNode* best_n = nullptr;
  std::string best_name;
  int best_room = 0;
  for (auto& [uid, a] : allocations_) {
    if (a.state != Allocation::State::kRunning || a.left_ms(now) < want) continue;
    for (auto& [name, n] : a.nodes) {
      if (n.closed || n.cores <= 0 || cores > n.cores) continue;
      const int depth = spec_.prefetch < 0 ? n.cores : spec_.prefetch;
      const int room = n.free_cores() + depth - cores;  // cores' worth of waiting tries left
      if (room >= 0 && (!best_n || room > best_room)) {
        best_a = &a;
        best_n = &n;
        best_name = name;
        best_room = room;
      }
    }
  }
  if (!best_n) return std::nullopt;
  return hold(*best_a, best_name, *best_n, {});
}

void AllocationPool::release(const run::AttemptKey& key) {
  auto w = where_.find(key);
  if (w == where_.end()) return;
  if (auto* a = find(w->second))
    for (auto& [_, n] : a->nodes)
      n.release(key);
  where_.erase(w);
}

const Placement* AllocationPool::placed(const run::AttemptKey& key) const {
  auto w = where_.find(key);
  if (w == where_.end()) return nullptr;
  auto a = allocations_.find(w->second);
  if (a == allocations_.end()) return nullptr;
  for (const auto& [_, n] : a->second.nodes)
    if (auto h = n.held().find(key); h != n.held().end()) return &h->second;
  return nullptr;
}

void AllocationPool::adopt(const run::AttemptKey& key, const Placement& p) {
  Allocation* a = find(p.uid);
  if (!a) {
    a = &add(p.uid);
    a->state = Allocation::State::kQueued;  // until squeue and its workers say more
  }
  if (a->job_id.empty()) a->job_id = p.job_id;
  a->nodes[p.node].hold(key, p);
  where_[key] = p.uid;
}

bool AllocationPool::wanted() const {
  if (!demand_) return false;
  int alive_count = 0;
  for (const auto& [_, a] : allocations_) {
    if (a.state == Allocation::State::kEnded) continue;
    ++alive_count;
    if (a.state == Allocation::State::kSubmitting || a.state == Allocation::State::kQueued)
      return false;  // one is on its way
  }
  return alive_count < spec_.max;
}

Allocation& AllocationPool::add(std::string uid) {
  demand_ = false;
  Allocation a;
  a.uid = uid;
  a.time = spec_.time;
  return allocations_.emplace(uid, std::move(a)).first->second;
}

Allocation* AllocationPool::find(const std::string& uid) {
  auto it = allocations_.find(uid);
  return it == allocations_.end() ? nullptr : &it->second;
}

Allocation* AllocationPool::find_job(const std::string& job_id) {
  for (auto& [_, a] : allocations_)
    if (a.job_id == job_id) return &a;
  return nullptr;
}

std::vector<run::AttemptKey> AllocationPool::drop(const std::string& uid) {
  std::vector<run::AttemptKey> keys;
  auto it = allocations_.find(uid);
  if (it == allocations_.end()) return keys;
  for (const auto& [_, n] : it->second.nodes)
    for (const auto& [key, __] : n.held()) {
      keys.push_back(key);
      where_.erase(key);
    }
  allocations_.erase(it);
  return keys;
}

void AllocationPool::close(const std::string& uid, const std::string& node) {
  if (auto* a = find(uid)) a->nodes[node].closed = true;
}

void AllocationPool::node_up(const AllocReport::NodeInfo& info) {
  Allocation* a = find(info.uid);
  if (!a || a->state == Allocation::State::kEnded) return;
  AllocNode& n = a->nodes[info.node];
  n.cores = info.cores;
  n.gpus = info.gpus;
  n.start = info.start;
  if (a->start == 0 || (info.start > 0 && info.start < a->start)) a->start = info.start;
  a->state = Allocation::State::kRunning;
}

int AllocationPool::alive() const {
  int n = 0;
  for (const auto& [_, a] : allocations_)
    n += a.state != Allocation::State::kEnded;
  return n;
}

}  // namespace flow::slurm
