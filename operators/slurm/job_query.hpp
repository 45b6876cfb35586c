#pragma once
// Parsing what Slurm's query commands print, and the exact command lines flow runs.
// Kept apart from the transport so that every format is unit-tested against real output.
//
//   SLURM_TIME_FORMAT=%s sacct -n -P --format=JobID,JobName,State,ExitCode,Start,End,Reason,
//                                              AllocCPUS,TotalCPU,MaxRSS
//            "123|flow.r.t.1|FAILED|3:0|1796122981|1796122989|None|2|00:01.212|"
//            "123.batch|batch|FAILED|3:0|1796122981|1796122989||2|00:01.212|96744K"
//            (times in epoch seconds, so no time zone of the login node is involved;
//            "Unknown" while it has not started; Reason kept for pending jobs only. The
//            job's line has its state and CPU time; MaxRSS is only on its steps' lines,
//            which is why the poll does not pass -X: the peak of its steps is the job's.
//            Both need a JobAcctGatherType other than none; without one they read 0/empty)
//   squeue   --me -r --states=all -h -o '%i|%j|%T|%r'
//            "123|flow.r.t.1|PENDING|Resources"
//   squeue   --me -r --states=PENDING -h -o '%i|%j|%T|%r'   (the poll: why each job still
//            waits; slurmctld's own reason, current, where sacct's may be stale)
//   scontrol -o show job 123
//            "JobId=123 JobName=flow.r.t.1 ... JobState=FAILED Reason=NonZeroExitCode ...
//             ExitCode=3:0 ..."
//
// Array elements (job_array.hpp) are known by "ARRAY_INDEX" ids: sacct prints "130_4" and,
// for the elements still pending, one line "130_[5-9%2]", which becomes one record each;
// sacct is asked about an element through its array (--jobs=130); squeue's -r lists each
// element on its own line; scontrol's JobId is an element's own number, so its record is
// named from ArrayJobId and ArrayTaskId.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "operators/slurm/job_state.hpp"

namespace flow::slurm {

struct JobRecord {
  std::string job_id;
  std::string name;
  JobStatus status;
  std::string reason;    // why it pends (or, from scontrol, ended)
  int64_t start_ms = 0;  // sacct only: when it started running, ms since the epoch (0 = not yet)
  // sacct only, once the job ended (-1 = not known: not ended, or no accounting gather):
  int64_t cpu_ms = -1;         // TotalCPU: user + system time of all its steps
  int64_t max_rss_bytes = -1;  // the largest MaxRSS of its steps
  int64_t wall_ms = -1;        // End - Start
  int alloc_cpus = 0;          // AllocCPUS
  int alloc_gpus = 0;          // gres/gpu of AllocTRES
};

// Fields of the sacct format string below.
inline constexpr const char* kSacctFormat =
    "JobID,JobName,State,ExitCode,Start,End,Reason,AllocCPUS,TotalCPU,MaxRSS,AllocTRES";

// The GPUs of sacct's AllocTRES ("billing=2,cpu=2,gres/gpu=1,mem=100M,node=1"): the
// untyped gres/gpu count, else the sum of the typed ones (gres/gpu:a100=2); 0 for none.
int parse_alloc_gpus(std::string_view tres);

// sacct's TotalCPU ("[D-][HH:]MM:SS[.mmm]", e.g. "00:01.212", "1-02:03:04") in ms; -1 when
// it is not such a text.
int64_t parse_sacct_duration(std::string_view text);
// sacct's MaxRSS ("96744K", "1.50M", "2G", "0": Slurm keeps it in KiB, so a number without
// a unit is KiB) in bytes; -1 when empty or not a size.
int64_t parse_sacct_size(std::string_view text);

// sacct -P lines -> records, one per job. A job step's line ("123.batch", "123.0") only adds
// its MaxRSS to its job's record; blank lines and lines with too few fields (sacct prints
// warnings to stdout on some versions) are skipped.
std::vector<JobRecord> parse_sacct(std::string_view text);
// squeue -h -o '%i|%j|%T|%r' lines -> records (exit codes are unknown: 0:0).
std::vector<JobRecord> parse_squeue(std::string_view text);
// scontrol -o show job lines (one job per line, KEY=VALUE words) -> records.
std::vector<JobRecord> parse_scontrol(std::string_view text);

// sbatch --parsable prints "123" or "123;cluster". Returns "" when it is not a job id.
std::string parse_sbatch_job_id(std::string_view out);

// Command lines. Ids and names are quoted by the caller's rules: flow job ids are digits or
// digits_digits (checked, is_job_id); job names are made of [A-Za-z0-9_.\-\[\]] (checked by
// is_safe_job_name).
bool is_safe_job_name(std::string_view name);
std::string sacct_by_ids(const std::vector<std::string>& ids, const std::string& since);
std::string sacct_by_names(const std::vector<std::string>& names, const std::string& since);
std::string squeue_all();      // every job of the user that slurmctld still remembers
std::string squeue_pending();  // the user's pending jobs, same format
std::string squeue_by_names(const std::vector<std::string>& names);
std::string scontrol_show(const std::vector<std::string>& ids);  // one line per job

}  // namespace flow::slurm
