#pragma once
// Job arrays (docs/SLURM.md "Job arrays"): the instances of a `foreach` task that are
// launched together on a plain Slurm site go to Slurm as ONE `sbatch --array`, and each
// element is then followed, cancelled and retried as the job "ARRAY_INDEX" on its own.
//
// Which tries form an array: tries of the same run, task and try number, whose instance is
// a foreach element ("tiles[3]"), with no secret environment values, whose job scripts have
// the same #SBATCH lines apart from --job-name, --output and --error (and none of them asks
// for an --array of its own). Each element keeps its own job script, rendered as for a
// single job: the array's script carries them all and, in the element that runs, writes
// its own to <workdir>/logs/RUN/INSTANCE/TRY.sbatch and runs it with its output going to
// the element's usual log.
//
// Finding an element again without its job id (the engine died between sbatch and
// recording the id; a connection broke around sbatch) must not depend on anything kept in
// the engine, so the array's job name and an element's array index follow from the element
// alone: element `task[i]`, try T, with the site's MaxArraySize M has array index i mod M in
// the array named flow.RUN.TASK.T.array<i div M>. Several arrays may carry that name (tries
// launched at different times); the one holding index i mod M is the element's.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/run/executor.hpp"
#include "operators/slurm/job_query.hpp"

namespace flow::slurm {

// The foreach index of `instance_id` when it is an element of `task_id` ("tiles[3]" of
// "tiles" -> 3); nullopt for anything else (a plain task, an HPO trial "tune[trial-7]").
std::optional<long> foreach_index(std::string_view instance_id, std::string_view task_id);

// The #SBATCH lines of a job script that decide whether two scripts may share an array:
// every #SBATCH line of its header except --job-name, --output and --error, in order.
// nullopt when the script has no header or asks for --array itself.
std::optional<std::string> array_header(std::string_view script);

// flow.RUN.TASK.TRY.array<CHUNK>
std::string array_job_name(const run::AttemptKey& key, std::string_view task_id, long chunk);

// Where element `index` of try `key` goes, for the site's MaxArraySize `max_array_size`.
struct ArraySlot {
  std::string name;  // array_job_name(...)
  long index = 0;    // its array index
};
ArraySlot array_slot(const run::AttemptKey& key, std::string_view task_id, long index,
                     long max_array_size);

// The job of a try found by name (find_all_by_names of its own name and its slot's): a job
// named like the try itself, else the element `slot.index` of an array named `slot.name`;
// the newest where several match. nullopt when none does.
std::optional<JobRecord> pick_element(const std::vector<JobRecord>& records,
                                      const std::string& own_name, const ArraySlot& slot);

// One element of an array to submit.
struct ArrayElement {
  long index = 0;      // array index
  std::string base;    // remote base of its files (<workdir>/logs/RUN/INSTANCE/TRY)
  std::string script;  // its own job script
};

// The script of an array: `header` (array_header of the elements), the array's name, its
// --array list, Slurm's own output per element in `slurm_output` (a %A_%a pattern), then
// one case branch per element that writes the element's script and runs it. Throws
// InputError when an element's script contains the text that ends it in the array script
// (it cannot then be carried; the caller submits that element alone).
std::string render_array_script(const std::string& header, const std::string& name,
                                const std::string& slurm_output,
                                const std::vector<ArrayElement>& elements);

// Slurm's --array value for these indices: ranges where consecutive ("0-9,12,14-15").
std::string array_index_list(std::vector<long> indices);

// Job ids as Slurm prints array elements: "123_4" (an element), "123_[4-9%3,12]" (pending
// elements shown as one line), "123" (a plain job). expand_job_id turns any of them into
// the single ids it stands for ("123_4", ..., "123_9", "123_12"); an id that is none of
// these gives nothing. At most `limit` ids come back (a corrupt range stays bounded).
std::vector<std::string> expand_job_id(std::string_view id, size_t limit = 1000000);
// Whether job `a` was submitted after job `b`: the higher job (or array) number; within one
// array, the higher index.
bool newer_job_id(std::string_view a, std::string_view b);
// "123" of "123_4"; the id itself for a plain job.
std::string array_job_of(std::string_view id);
// A job id flow tracks: digits, or digits_digits.
bool is_job_id(std::string_view id);

// MaxArraySize from `scontrol show config` output; nullopt when the line is missing.
std::optional<long> parse_max_array_size(std::string_view scontrol_config);

}  // namespace flow::slurm
