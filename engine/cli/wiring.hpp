#pragma once
// The composition root: the one place where the engine's runtime meets the operators.
// Batch sites (`scheduler: slurm`) get a SlurmExecutor over the site's transport (SSH or
// local sbatch, engine/cli/site_transport.hpp) with LAMEC job scripts, and validation
// checks each Slurm task's job script with the LAMEC rules. Webhooks of `notify:` go out
// through libcurl (operators/notify).

#include "engine/runtime/services.hpp"

namespace flow::cli {

runtime::Services services();

}  // namespace flow::cli
