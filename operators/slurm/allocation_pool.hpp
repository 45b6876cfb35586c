#pragma once
// Allocation mode of a Slurm site (`allocation:` in its site file, docs/REFERENCE.md §5.1):
// the book-keeping, without any I/O. SlurmExecutor (slurm_alloc.cpp) does the talking.
//
// flow submits an allocation (one sbatch, `flow.alloc.<uid>`) whose job script starts the
// worker of allocation_worker.hpp on each of its nodes. A worker writes what its node has
// (cores, GPUs) and then runs the task scripts flow drops into its inbox. Everything goes
// through files under <workdir>/allocations/<uid>/ on the cluster's shared file system,
// which the engine reads and writes over its one SSH session: one command per poll
// interval for every allocation and task of the site.
//
//   n/<node>/info            cores=, gpus=, start= (ms), written by the worker at start
//   n/<node>/inbox/<id>.sh   a task script flow placed there; the worker moves it to run/
//   n/<node>/run/<id>.start  when the worker started it (ms)
//   n/<node>/done/<id>.exit  "<exit code> <end ms> [cancelled]" when it ended
//   n/<node>/cancel/<id>     flow asks the worker to stop <id> (or not to start it)
//   n/<node>/closed          the worker ended (idle timeout): its inbox is gone
//
// This class places tries on nodes: each node's cores and GPUs are slots a try holds
// alone from claim() until it ends, as on the local site (engine/run/slot_table.hpp). A
// try whose declared time (its `timeout:`) does not fit the rest of an allocation's
// walltime is not placed there. With no free slot, a try that needs no GPU may still be
// placed to wait in a node's inbox, up to the spec's `prefetch` cores' worth per node; the
// worker starts it when cores free up. A claim that found no free slot is demand: wanted()
// then says that a new allocation should be submitted (at most `max` alive).

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"
#include "engine/site/site.hpp"

namespace flow::slurm {

// Where a try runs inside an allocation.
struct Placement {
  std::string uid;     // the allocation
  std::string job_id;  // its Slurm job id
  std::string node;
  int cores = 1;
  std::vector<std::string> gpus;  // the GPU ids it sees as CUDA_VISIBLE_DEVICES
  bool declared = false;          // the task has `resources:` (sets CUDA_VISIBLE_DEVICES)
};

struct AllocNode {
  int cores = 0;
  std::vector<std::string> gpus;
  EpochMs start = 0;
  bool closed = false;

  // The tries placed on this node (running, or waiting in its inbox) and their slots.
  const std::map<run::AttemptKey, Placement>& held() const { return held_; }
  // Places `key` here (replacing where it was on this node) / takes it off.
  void hold(const run::AttemptKey& key, const Placement& p);
  void release(const run::AttemptKey& key);
  // Cores no held try counts on: O(1), kept as tries are held and released.
  int free_cores() const { return cores - used_cores_; }
  std::vector<std::string> free_gpus() const;

 private:
  std::map<run::AttemptKey, Placement> held_;
  int used_cores_ = 0;
};

struct Allocation {
  enum class State { kSubmitting, kQueued, kRunning, kEnded };
  std::string uid;
  std::string job_id;  // "" while sbatch has not answered
  State state = State::kSubmitting;
  std::string reason;  // squeue's reason while it waits (Priority, Resources, ...)
  std::chrono::seconds time{0};
  EpochMs start = 0;  // when its first worker came up
  int missing = 0;    // polls in a row squeue did not list it
  std::map<std::string, AllocNode> nodes;

  // Milliseconds of walltime left at `now` (its time while it has not started).
  long long left_ms(EpochMs now) const;
};

// One poll's worth of what the workers wrote, parsed from the poll command's output
// (lines documented in allocation_pool.cpp).
struct AllocReport {
  struct Queued {
    std::string job_id, name, state, reason;
  };
  struct NodeInfo {
    std::string uid, node;
    int cores = 0;
    std::vector<std::string> gpus;
    EpochMs start = 0;
  };
  struct Started {
    std::string uid, node, id;
    EpochMs at = 0;
  };
  struct Ended {
    std::string uid, node, id;
    int exit_code = 0;
    EpochMs at = 0;
    bool cancelled = false;
    bool never_started = false;
  };
  std::vector<Queued> queued;  // squeue's lines for flow's allocations
  std::vector<NodeInfo> nodes;
  std::vector<Started> started;
  std::vector<Ended> ended;
  std::set<std::pair<std::string, std::string>> closed;  // (uid, node)
  std::set<std::string> written, refused;                // task file ids placed / not
  std::set<std::string> waiting;                         // task file ids still in an inbox
  std::set<std::string> done;  // ids whose end record existed before their files were framed
                               // (every E line)
  // Bytes of task files: (id, "log"|"metrics"|"outputs") -> content from the asked offset.
  std::map<std::pair<std::string, std::string>, std::string> files;
  bool squeue_ok = false;  // squeue answered (its silence means "not alive")
};

// Parses the output of the commands slurm_alloc.cpp sends. Unknown lines are skipped.
AllocReport parse_alloc_report(const std::string& text);

// The name of a try's task file in an allocation: "t" + 16 hex digits of the SHA-256 of its
// job name, so that a re-attached engine finds it again from the key alone.
std::string task_file_id(const run::AttemptKey& key);

class AllocationPool {
 public:
  explicit AllocationPool(site::AllocationSpec spec) : spec_(spec) {}

  const site::AllocationSpec& spec() const { return spec_; }

  // A node of a running allocation with the cores and GPUs `need` asks for free, and more
  // walltime left than `declared`; holds them for `key`. Without one, a node whose
  // prefetch room takes the try (no GPUs, at most its cores). Either way, no free slot
  // records demand; nullopt: the try waits in the engine.
  std::optional<Placement> claim(const run::AttemptKey& key, const dag::Resources& need,
                                 std::optional<dag::Duration> declared, EpochMs now);
  // Gives back what `key` holds (its try ended, or never launched).
  void release(const run::AttemptKey& key);
  const Placement* placed(const run::AttemptKey& key) const;
  // Holds what a re-attached try holds (from its script), whatever is free.
  void adopt(const run::AttemptKey& key, const Placement& p);

  // True when a claim failed since the last allocation was submitted, none waits in the
  // queue, and fewer than `max` are alive: submit one.
  bool wanted() const;
  Allocation& add(std::string uid);  // a new allocation, kSubmitting
  Allocation* find(const std::string& uid);
  Allocation* find_job(const std::string& job_id);
  std::map<std::string, Allocation>& all() { return allocations_; }
  const std::map<std::string, Allocation>& all() const { return allocations_; }
  // Forgets an ended allocation; returns the tries it still held.
  std::vector<run::AttemptKey> drop(const std::string& uid);
  // A node's worker closed its inbox: nothing more is placed there.
  void close(const std::string& uid, const std::string& node);
  // Applies a worker's info line: the node's slots, the allocation's start.
  void node_up(const AllocReport::NodeInfo& info);
  int alive() const;  // not ended

 private:
  site::AllocationSpec spec_;
  std::map<std::string, Allocation> allocations_;
  std::map<run::AttemptKey, std::string> where_;  // key -> uid
  bool demand_ = false;
};

}  // namespace flow::slurm
