// SlurmExecutor's job arrays (job_array.hpp, docs/SLURM.md "Job arrays"): foreach elements
// that reach submission together are gathered for a moment and go to Slurm as one
// `sbatch --array` per group; from then on each element is a job of its own ("ARRAY_INDEX")
// for the poll, cancel, re-attach and retry paths in slurm_executor.cpp and slurm_poll.cpp.
#include <map>
#include <tuple>

#include "engine/core/log.hpp"
#include "engine/core/private_files.hpp"
#include "operators/slurm/job_array.hpp"
#include "operators/slurm/slurm_job.hpp"

namespace flow::slurm {

namespace {

// How long submissions are gathered: the tries of one tick arrive together; this also lets
// elements whose inputs were staged in at nearly the same time share an array.
constexpr std::chrono::milliseconds kGather{100};
// An array script carries every element's script: keep each under Slurm's default
// max_script_size (4 MiB) with room to spare.
constexpr size_t kMaxArrayScript = 2u << 20;

}  // namespace

struct SlurmExecutor::ArrayMember {
  std::shared_ptr<Job> job;  // the worker thread reads only its spec, which never changes
  long foreach_index = 0;
  std::string base, script;
};

// One sbatch --array and what it came to.
struct SlurmExecutor::ArrayPart {
  std::vector<ArrayMember> members;
  std::vector<long> indices;  // array index of each member
  SubmitResult result;
};

struct SlurmExecutor::ArrayOutcome {
  std::vector<ArrayPart> parts;
  std::vector<std::shared_ptr<Job>> alone;  // submit these on their own
};

bool SlurmExecutor::joins_array(const Job& job) const {
  return site_.job_arrays && job.spec.secret_env.empty() &&
         foreach_index(job.spec.key.instance_id, job.spec.task_id).has_value() &&
         array_header(job.script).has_value();
}

void SlurmExecutor::queue_for_array(std::shared_ptr<Job> job) {
  job->stage = Job::Stage::kSubmitting;
  array_queue_.push_back(std::move(job));
  if (array_flush_armed_) return;
  array_flush_armed_ = true;
  after(kGather, [this] {
    array_flush_armed_ = false;
    submit_arrays();
  });
}

long SlurmExecutor::max_array_size() {
  if (max_array_size_ <= 0) max_array_size_ = client_.max_array_size();
  return max_array_size_;
}

void SlurmExecutor::submit_arrays() {
  // Groups: same run, task and try, same #SBATCH lines.
  std::map<std::tuple<std::string, std::string, int, std::string>, std::vector<ArrayMember>> groups;
  for (auto& job : std::exchange(array_queue_, {})) {
    if (jobs_.count(job->spec.key) == 0) continue;
    if (job->cancel_reason) {
      finish_unsubmitted(job);
      continue;
    }
    const auto& k = job->spec.key;
    groups[{k.run_id, job->spec.task_id, k.try_number, *array_header(job->script)}].push_back(
        {job, *foreach_index(k.instance_id, job->spec.task_id), remote_base(k), job->script});
  }
  for (auto& [what, members] : groups) {
    if (members.size() == 1) {
      submit_one(members.front().job);
      continue;
    }
    const std::string header = std::get<3>(what);
    const std::string task = std::get<1>(what);
    const std::string logs =
        std::filesystem::path(members.front().base).parent_path().parent_path();
    const std::string run = run_dir(members.front().job->spec.key.run_id);
    offload(
        [this, members = std::move(members), header, task, logs, run]() mutable {
          ArrayOutcome out;
          const long m = max_array_size();
          // Split by array name (index div MaxArraySize), then by script size.
          std::map<std::string, std::vector<std::pair<ArrayMember, long>>> by_name;
          for (auto& mem : members) {
            const auto slot = array_slot(mem.job->spec.key, task, mem.foreach_index, m);
            by_name[slot.name].emplace_back(std::move(mem), slot.index);
          }
          for (auto& [name, list] : by_name) {
            size_t at = 0;
            while (at < list.size()) {
              ArrayPart part;
              std::vector<ArrayElement> elements;
              size_t bytes = 0;
              for (; at < list.size(); ++at) {
                auto& [mem, index] = list[at];
                if (!elements.empty() && bytes + mem.script.size() > kMaxArrayScript) break;
                bytes += mem.script.size() + 200;
                elements.push_back({index, mem.base, mem.script});
                part.indices.push_back(index);
                part.members.push_back(std::move(mem));
              }
              std::string script;
              try {
                script = render_array_script(header, name, logs + "/arrays/%A_%a.log", elements);
              } catch (const std::exception&) {
                for (auto& mem : part.members)
                  out.alone.push_back(mem.job);
                continue;
              }
              const std::string path =
                  logs + "/arrays/" + name + "." + std::to_string(part.indices.front()) + ".sbatch";
              std::vector<std::string> dirs = {logs + "/arrays", run};
              for (const auto& mem : part.members)
                dirs.push_back(std::filesystem::path(mem.base).parent_path().string());
              part.result = sort_submission([&] {
                transport_->put_file(path, script, kPrivateFileMode);
                return client_.submit(path, dirs);
              });
              out.parts.push_back(std::move(part));
            }
          }
          return out;
        },
        [this](ArrayOutcome out) {
          for (auto& job : out.alone)
            if (jobs_.count(job->spec.key)) submit_one(job);
          for (auto& part : out.parts) {
            stats_.submits++;
            const auto& r = part.result;
            if (r.deferred) {
              stats_.deferrals++;
              std::chrono::milliseconds delay{0};
              for (auto& mem : part.members)
                if (jobs_.count(mem.job->spec.key)) delay = defer(mem.job);
              say("an array of " + std::to_string(part.members.size()) + " " +
                  part.members.front().job->spec.task_id + " elements: " + r.error +
                  "; submitting again in " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) +
                  " s");
              continue;
            }
            if (!r.refused && !r.error.empty())
              say("cannot submit an array of " + std::to_string(part.members.size()) + " " +
                  part.members.front().job->spec.task_id + " elements: " + r.error +
                  "; will look each up and retry");
            if (!r.job_id.empty()) {
              log::info("Slurm job array " + r.job_id + " of " +
                            std::to_string(part.members.size()) + " " +
                            part.members.front().job->spec.task_id +
                            " elements submitted on site " + site_.name,
                        part.members.front().job->spec.key.run_id);
            }
            for (size_t i = 0; i < part.members.size(); ++i) {
              auto& job = part.members[i].job;
              if (!r.refused && !r.error.empty()) {  // the array may exist: said once above
                if (jobs_.count(job->spec.key))
                  after(options_.submit_retry, [this, job] { look_up(job, 1); });
                continue;
              }
              if (r.job_id.empty()) {
                on_submitted(job, "", r.error, true, false);
                continue;
              }
              on_submitted(job, r.job_id + "_" + std::to_string(part.indices[i]), "", false, false);
            }
          }
        });
  }
}

}  // namespace flow::slurm
