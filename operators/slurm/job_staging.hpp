#pragma once
// Staging for the Slurm executor (docs/STAGING.md): before a job is submitted, the DAG's
// code (once per run) and the task's inputs go to the site; after it succeeded, its declared
// outputs come back to this machine, each checked by sha256 on both sides
// (operators/staging/stager.hpp).
//
// Everything runs on a thread and an SSH connection of its own (Transport::open_another()),
// so a large copy never delays the executor's status polls; results are posted back to the
// io_context. Per attempt it writes what it did to <log dir>/<try>.staging.json.
//
// Hashes of staged files are kept in $FLOW_HOME/cache/staging-digests.tsv (the parent of the
// runs/ directory that holds the local run directory), so a later run re-hashes only what
// changed.
//
// Where things go on the site, for run RUN (the job's working directory is its run dir):
//   code:            <workdir>/runs/RUN/<path>, hard links into <workdir>/cache/sha256/
//   base run/workdir <workdir>/runs/RUN/<path>
//   base site        <workdir>/<path> (never copied; must exist there)
// and back here: base run -> the local run dir, base workdir -> the working directory.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/run/executor.hpp"
#include "engine/site/site.hpp"
#include "operators/transport/transport.hpp"

namespace flow::staging {
class Stager;
}

namespace flow::slurm {

struct StageResult {
  enum class Status { kDone, kFailed, kUnreachable };
  Status status = Status::kDone;
  std::string message;  // kFailed / kUnreachable: why; kDone: a one-line summary ("" if idle)
};

class JobStaging {
 public:
  using Done = std::function<void(StageResult)>;

  // `primary` is the executor's transport; staging opens a second connection from it on
  // first use. `done` callbacks run on `io`.
  JobStaging(boost::asio::io_context& io, site::Site site, transport::Transport& primary);
  ~JobStaging();
  JobStaging(const JobStaging&) = delete;
  JobStaging& operator=(const JobStaging&) = delete;

  // True if the attempt has anything to stage in (code or inputs).
  static bool has_inputs(const run::LaunchSpec& spec);
  // True if a succeeded attempt has declared outputs to bring back.
  static bool has_outputs(const run::LaunchSpec& spec);
  // True if the attempt's outputs file (its local copy) registers artifacts that must be
  // fetched from the site: SSH sites only (a `transport: local` site shares this file system).
  bool registers_artifacts(const run::LaunchSpec& spec) const;

  // Uploads the run's code (first time for this run) and the attempt's inputs. `stop` set
  // to true makes it give up between chunks (kUnreachable, "stopped"); what was sent stays
  // for the next attempt to continue.
  void stage_in(const run::LaunchSpec& spec, std::shared_ptr<std::atomic<bool>> stop, Done done);
  // Downloads the attempt's declared outputs (a `base: site` one is only checked to exist),
  // then the artifacts its outputs file registers (engine/artifact/fetched.hpp): each into
  // the local run directory at its path relative to the job's working directory (a file
  // elsewhere on the site under site-files/SITE/<its absolute path>), checked by sha256 on
  // both ends, listed in <outputs file>.fetched.json with its origin (site, host:port, path
  // there, `job_id`, the site's sha256). A registered file missing on the site fails it.
  void stage_out(const run::LaunchSpec& spec, const std::string& job_id, Done done);

  std::string remote_run_dir(const std::string& run_id) const;

 private:
  StageResult do_stage_in(const run::LaunchSpec& spec, const std::atomic<bool>& stop);
  StageResult do_stage_out(const run::LaunchSpec& spec, const std::string& job_id);
  StageResult stage_out_declared(const run::LaunchSpec& spec, const std::string& job_id);
  StageResult fetch_artifacts(const run::LaunchSpec& spec, const std::string& job_id);
  // The Stager, made on first use; its hash cache lives in $FLOW_HOME/cache.
  staging::Stager& stager(const run::LaunchSpec& spec);
  void offload(std::function<StageResult()> work, Done done);
  void record(const run::LaunchSpec& spec, const std::string& phase, const nlohmann::json& what);

  boost::asio::io_context& io_;
  site::Site site_;
  transport::Transport& primary_;
  // Staging thread only:
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<staging::Stager> stager_;
  std::set<std::string> code_synced_;  // run ids whose code is on the site
  std::shared_ptr<bool> alive_;
  boost::asio::thread_pool worker_{1};
};

}  // namespace flow::slurm
