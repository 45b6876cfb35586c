// Fuzz target `slurm`: what sacct, squeue, scontrol and sbatch print, as the Slurm operator
// reads it. The parsers get the input directly; SlurmClient gets it as the output of every
// command it runs on a fake site (poll with its sacct/stat markers, the squeue+scontrol
// fallback, look-up by job name, submit), once with exit status 0 and once with 1.
#include "operators/slurm/allocation_pool.hpp"
#include "operators/slurm/job_query.hpp"
#include "operators/slurm/slurm_client.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

class ScriptedTransport : public flow::transport::Transport {
 public:
  ScriptedTransport(std::string out, int status) : out_(std::move(out)), status_(status) {}
  flow::transport::CommandResult run(const std::string&, std::chrono::milliseconds) override {
    return {status_, out_, out_.substr(0, 64)};
  }
  void put_file(const std::string&, const std::string&, int) override {}
  std::optional<std::string> get_file(const std::string&, uint64_t) override { return out_; }
  std::optional<flow::transport::RemoteStat> stat(const std::string&) override {
    return std::nullopt;
  }
  std::string describe() const override { return "fuzz"; }

 private:
  std::string out_;
  int status_;
};

void check_records(const std::vector<flow::slurm::JobRecord>& records) {
  for (const auto& r : records) {
    if (r.job_id.empty() || r.job_id.find_first_not_of("0123456789") != std::string::npos)
      flow::fuzz::fail("a job record whose id is not all digits: '" + r.job_id + "'");
    if (r.cpu_ms < -1 || r.max_rss_bytes < -1 || r.alloc_cpus < 0)
      flow::fuzz::fail("a negative CPU time, memory peak or CPU count for job " + r.job_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flow::slurm;
  const std::string text(flow::fuzz::bytes(data, size));
  check_records(parse_sacct(text));
  check_records(parse_squeue(text));
  check_records(parse_scontrol(text));
  if (parse_sacct_duration(text) < -1 || parse_sacct_size(text) < -1)
    flow::fuzz::fail("a sacct duration or size below -1");
  const std::string id = parse_sbatch_job_id(text);
  if (id.find_first_not_of("0123456789") != std::string::npos)
    flow::fuzz::fail("sbatch job id is not all digits: '" + id + "'");

  // What an allocation command prints (operators/slurm/allocation_pool.cpp): frames never
  // reach past the text they came in.
  const AllocReport rep = parse_alloc_report(text);
  size_t framed = 0;
  for (const auto& [key, bytes] : rep.files)
    framed += bytes.size();
  if (framed > text.size()) flow::fuzz::fail("allocation frames longer than the input");
  for (const auto& n : rep.nodes)
    if (n.cores <= 0) flow::fuzz::fail("an allocation node with no cores was reported");

  for (int status : {0, 1}) {
    ScriptedTransport transport(text, status);
    SlurmClient client(transport);
    flow::fuzz::expect_flow_errors_only("poll", [&] {
      auto r = client.poll({"12", "13"}, {"/work/flow/logs/r/t/1.log"}, "now-1days");
      for (const auto& [job, rec] : r.jobs)
        if (job != rec.job_id) flow::fuzz::fail("poll() filed a record under another id");
    });
    flow::fuzz::expect_flow_errors_only("poll files", [&] {
      (void)client.poll({}, {"/w/a b", "/w/c"}, "now-1days");
    });
    flow::fuzz::expect_flow_errors_only("find_by_names", [&] {
      (void)client.find_by_names({"flow.r.t.1", "flow.r.u.1"});
    });
    flow::fuzz::expect_flow_errors_only("submit", [&] {
      const std::string job = client.submit("/w/job.sh", {"/w/logs"});
      if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
        flow::fuzz::fail("submit() returned a job id that is not all digits: '" + job + "'");
    });
    flow::fuzz::expect_flow_errors_only("cancel", [&] { client.cancel({"12"}); });
  }
  return 0;
}
