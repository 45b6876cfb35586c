#pragma once
// What a Slurm job state means to flow. Slurm reports states as words ("PENDING",
// "CANCELLED by 1000", "OUT_OF_MEMORY") in sacct/squeue/scontrol, and an exit code as
// "EXIT:SIGNAL" ("3:0", "0:15"). This maps every state Slurm 22.05 documents
// (sacct(1) "JOB STATE CODES") to a phase, and a finished job to an executor Outcome.

#include <string>
#include <string_view>

#include "engine/run/executor.hpp"

namespace flow::slurm {

enum class Phase {
  kPending,   // waiting for resources, held, requeued, configuring
  kRunning,   // running, completing, suspended, signalling, staging out
  kFinished,  // an end state: the job will not run again by itself
  kUnknown,   // a word this table does not know; treated as "still in Slurm's hands"
};

struct JobStatus {
  std::string state;  // canonical word: "CANCELLED" for "CANCELLED by 1000"
  Phase phase = Phase::kUnknown;
  int exit_code = 0;
  int signal = 0;
};

// "CANCELLED by 1000" -> "CANCELLED"; "COMPLETED" stays; squeue's "CANCELLED+" too.
std::string canonical_state(std::string_view text);

Phase phase_of(std::string_view canonical);

// "3:0" -> {3, 0}; "0:15" -> {0, 15}; "" or garbage -> {0, 0}.
std::pair<int, int> parse_exit_code(std::string_view text);

JobStatus make_status(std::string_view state_text, std::string_view exit_code_text);

// The executor outcome of a finished job: COMPLETED with exit 0 succeeded; TIMEOUT and
// DEADLINE timed out; CANCELLED was cancelled; everything else (FAILED, NODE_FAIL,
// OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, ...) failed — the run controller retries those whose
// state is in the task's retry_on.
run::Outcome outcome_of(const JobStatus& s);

}  // namespace flow::slurm
