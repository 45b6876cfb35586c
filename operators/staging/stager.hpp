#pragma once
// Checked, atomic, resumable file transfers between this machine and a site, built from a
// Transport's streamed calls (operators/transport/transport.hpp). docs/STAGING.md.
//
// Every transfer follows one protocol:
//  - the sha256 of the source is known first (local files are hashed here, cached by size and
//    mtime; site files with `sha256sum` there), and a destination that already holds those
//    bytes is left alone: nothing is sent twice;
//  - bytes go to a temporary name next to the destination, derived from the content's hash
//    (`.flow-part.<sha16>.<name>`), so a transfer that died (connection lost, engine killed)
//    is found again and continued from its size, never mixed up with other content;
//  - the temporary file's sha256 is computed on the receiving side (`sha256sum` on a site)
//    and must equal the source's; a mismatch throws the copy away and sends it once more;
//  - only then is it renamed over the destination, so a reader never sees a partial file.
// A site that refuses (disk full, permission denied) gets its temporary file removed and the
// error names the file and repeats the site's words; a lost link (transport::Unreachable)
// leaves it for the next attempt to continue.
//
// Code (`code:`) goes through a content-addressed cache on the site: one object per distinct
// content under <workdir>/cache/sha256/, hard-linked into each run's directory, so a run
// sends only the files whose content the site has not seen yet.
//
// Hashes are cached (StagerOptions::digest_cache): a re-stage of 1,000 files of which one
// changed hashes that one file and sends that one file.
//
// Many files move in batches (StagerOptions::batch_files, batch_bytes), each through the whole
// protocol on its own: hashed, sent, checked, renamed. With StagerOptions::streams > 1 the
// batches share that many connections to the site (the Transport given, plus ones it opens
// with open_another()), so one batch is hashed on the site while others are on the wire, and
// a link with latency carries that many requests at once.
//
// Not thread-safe: one Stager per transport, called by one thread (it runs its own threads
// for the extra streams and joins them before a call returns).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "operators/staging/stream_pool.hpp"
#include "operators/transport/transport.hpp"

namespace flow::staging {

// A staging step that cannot succeed by trying again: a source that does not exist, the
// site refusing to store a file, a copy that keeps arriving corrupted.
class StageError : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

// Thrown when the stop flag (Stager::set_stop) was raised during a transfer. What was sent
// so far stays, as after a lost link.
class Stopped : public transport::Unreachable {
 public:
  using transport::Unreachable::Unreachable;
};

// One file to move: `local` on this machine, `remote` on the site (absolute, or relative to
// the login directory).
struct FileCopy {
  std::filesystem::path local;
  std::string remote;
  int mode = 0644;  // uploads: the destination's permission bits
};

// What a staging step did.
struct Report {
  int files = 0;       // looked at
  int sent = 0;        // transferred, wholly or from a partial copy
  int resumed = 0;     // of which continued a partial copy
  int unchanged = 0;   // already there with the same sha256
  uint64_t bytes = 0;  // bytes actually moved
  int streams = 0;     // connections that moved batches (0: nothing to move)
  Report& operator+=(const Report& o);
  nlohmann::json to_json() const;
  std::string summary() const;  // "3 files: 1 sent (2.0 MiB), 2 unchanged"
};

struct StagerOptions {
  // `sha256sum` and other commands on the site (hashing gigabytes takes a while).
  std::chrono::milliseconds command_timeout{std::chrono::minutes(30)};
  // Paths per remote command (keeps each command line well under the server's limits).
  size_t batch = 256;
  // A batch of files (upload, download) ends at this many files or bytes, whichever comes
  // first (a file larger than batch_bytes is a batch of its own).
  size_t batch_files = 64;
  uint64_t batch_bytes = 64ull << 20;
  // Connections batches are spread over (the given transport is the first). Extra ones are
  // opened when a call has more than one batch, kept for later calls, and simply not used
  // if the site refuses them.
  int streams = 1;
  // Where hashes survive this process ("" = memory only): each local file's sha256 by path,
  // size and mtime, and each file this Stager verified on the site by path, size and mtime
  // there. A file whose size and mtime did not change is not hashed again (rsync's quick
  // check, with the content hash kept); anything else is.
  std::filesystem::path digest_cache;
};

class Stager {
 public:
  explicit Stager(transport::Transport& transport, StagerOptions options = {});
  ~Stager();

  // Uploads every file whose copy on the site is missing or differs. Throws StageError
  // naming the file when a local file is missing or not a regular file.
  Report upload(const std::vector<FileCopy>& files);

  // Downloads every file whose local copy is missing or differs. `sha256` (may be null)
  // receives the site's hash of each remote path. Throws StageError listing the files that
  // do not exist on the site (or are not regular files) before anything is copied.
  Report download(const std::vector<FileCopy>& files,
                  std::map<std::string, std::string>* sha256 = nullptr);

  // Places each file at its `remote` path through the site's content cache in `cache_dir`:
  // objects the cache lacks are uploaded (checked, as above), then every destination is
  // hard-linked (copied, across file systems) to its object. Destinations are read-only.
  Report sync_tree(const std::vector<FileCopy>& files, const std::string& cache_dir);

  // sha256 of files on the site, by path; files that do not exist are absent.
  std::map<std::string, std::string> remote_sha256(const std::vector<std::string>& paths);

  // sha256 of a local file, cached by path, size and modification time.
  std::string local_sha256(const std::filesystem::path& path);

  // While `stop` (may be null) is true, transfers give up between chunks (Stopped).
  void set_stop(const std::atomic<bool>* stop) { stop_ = stop; }

  // Temporary name of a transfer of `content_sha` to `dest`.
  static std::string part_name(const std::string& dest, const std::string& content_sha);

 private:
  // Makes each destination a hard link to its object (replacing what a previous try left):
  // one `tar -x` of a hard-link archive, or `ln` per file where that fails.
  void place_links(const std::vector<std::pair<std::string, const FileCopy*>>& links);
  // The batches of `files` (with their sizes; StagerOptions::batch_files, batch_bytes), each
  // given to `batch` over the stream pool, their reports summed (streams: the connections
  // used).
  using Batch = std::function<Report(transport::Transport&, const std::vector<const FileCopy*>&,
                                     const std::vector<uint64_t>&)>;
  Report in_batches(const std::vector<const FileCopy*>& files, const std::vector<uint64_t>& sizes,
                    const Batch& batch);
  Report upload_batch(transport::Transport& t, const std::vector<const FileCopy*>& files,
                      const std::vector<uint64_t>& sizes);
  Report download_batch(transport::Transport& t, const std::vector<const FileCopy*>& files,
                        const std::vector<uint64_t>& sizes,
                        std::map<std::string, std::string>* sha256);
  struct Known {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    std::string sha256;
  };
  struct RemoteStat {
    uint64_t size = 0;
    std::string mtime;  // as `stat -c %.9Y` prints it
    bool regular = true;
  };
  struct RemoteKnown {
    RemoteStat stat;
    std::string sha256;
  };
  std::map<std::string, RemoteStat> remote_stats(transport::Transport& t,
                                                 const std::vector<std::string>& paths);
  std::map<std::string, std::string> remote_sha256(transport::Transport& t,
                                                   const std::vector<std::string>& paths);
  // Records what the site now holds at `paths` (just verified: their hashes are `sha`).
  void remember_remote(transport::Transport& t, const std::map<std::string, std::string>& sha);
  void load_cache();
  void save_cache();
  transport::CommandResult command(transport::Transport& t, const std::string& cmd);
  void send_one(transport::Transport& t, const FileCopy& f, const std::string& sha, uint64_t size,
                uint64_t have, Report& r);
  // make_dirs once per directory and call.
  void make_dirs_once(transport::Transport& t, const std::string& dir);

  void check_stop() const;

  transport::Transport& t_;
  StagerOptions options_;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<bool> abort_{false};  // a batch failed: the others stop too
  StreamPool pool_;                 // t_ and the extra connections
  // Guards what the batches share: the maps below, cache_dirty_, made_dirs_.
  std::mutex mutex_;
  std::map<std::string, Known> local_;         // by path
  std::map<std::string, RemoteKnown> remote_;  // by path on this site
  std::vector<std::string> other_sites_;       // cache lines of other sites, kept as read
  std::set<std::string> made_dirs_;            // directories made during the current call
  bool cache_dirty_ = false;
};

}  // namespace flow::staging
