#pragma once
// Parsing what Slurm's query commands print, and the exact command lines flow runs.
// Kept apart from the transport so that every format is unit-tested against real output.
//
//   SLURM_TIME_FORMAT=%s sacct -X -n -P --format=JobID,JobName,State,ExitCode,Start,End,Reason
//            "123|flow.r.t.1|FAILED|3:0|1796122981|1796122989|None"   (times in epoch seconds,
//            so no time zone of the login node is involved; "Unknown" while it has not
//            started; Reason kept for pending jobs only: "212|wrap|PENDING|0:0|Unknown|
//            Unknown|BeginTime")
//   squeue   --me --states=all -h -o '%i|%j|%T|%r'
//            "123|flow.r.t.1|PENDING|Resources"
//   scontrol -o show job 123
//            "JobId=123 JobName=flow.r.t.1 ... JobState=FAILED Reason=NonZeroExitCode ...
//             ExitCode=3:0 ..."

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
  std::string reason;    // squeue/scontrol only: why it pends or ended
  int64_t start_ms = 0;  // sacct only: when it started running, ms since the epoch (0 = not yet)
};

// Fields of the sacct format string below.
inline constexpr const char* kSacctFormat = "JobID,JobName,State,ExitCode,Start,End,Reason";

// sacct -P lines -> records. Job steps ("123.batch") and blank lines are skipped; so are
// lines with too few fields (sacct prints warnings to stdout on some versions).
std::vector<JobRecord> parse_sacct(std::string_view text);
// squeue -h -o '%i|%j|%T|%r' lines -> records (exit codes are unknown: 0:0).
std::vector<JobRecord> parse_squeue(std::string_view text);
// scontrol -o show job lines (one job per line, KEY=VALUE words) -> records.
std::vector<JobRecord> parse_scontrol(std::string_view text);

// sbatch --parsable prints "123" or "123;cluster". Returns "" when it is not a job id.
std::string parse_sbatch_job_id(std::string_view out);

// Command lines. Ids and names are quoted by the caller's rules: flow job ids are digits
// (checked), job names are made of [A-Za-z0-9_.\-\[\]] (checked by is_safe_job_name).
bool is_safe_job_name(std::string_view name);
std::string sacct_by_ids(const std::vector<std::string>& ids, const std::string& since);
std::string sacct_by_names(const std::vector<std::string>& names, const std::string& since);
std::string squeue_all();  // every job of the user that slurmctld still remembers
std::string squeue_by_names(const std::vector<std::string>& names);
std::string scontrol_show(const std::vector<std::string>& ids);  // one line per job

}  // namespace flow::slurm
