#pragma once
// What `flow report` shows, as one JSON document: the read-model of a run that the HTML
// page's script draws (docs/REPORT.md). Built from the state database alone — no engine,
// no site — so a report can be written for any run, finished or not, long after it ran.
//
// Shape (times are milliseconds since the run was created, so that a 100,000-try run
// stays small; `t0` is that instant in ms since the epoch):
//   {"flow": VERSION, "generated": ISO, "t0": MS,
//    "run": {"id", "dag", "dag_file", "state", "params", "logical_date", "created",
//            "started", "ended", "host", "workdir", "parallelism", "wall_ms"},
//    "states": [STATE...]            names the state indices below
//    "counts": {STATE: N},
//    "tasks": [[ID, KIND, SITE, CORES, GPUS, [UPSTREAM TASK INDICES]]]   reading order,
//             KIND "task" | "foreach" | "hpo"; CORES/GPUS a try holds (REPORT.md),
//    "instances": [[ID, TASK_INDEX, STATE_INDEX, TRIES, SITE, JOB_ID, EXIT, MESSAGE, WAITING
//                   (, SEGMENT, SEGMENT_TRY)]],
//             WAITING: why a queued/pending instance waits (engine/run/waiting.hpp), else "";
//             an HPO trial adds the segment it is on and its try of it
//             (engine/state/trial_segment.hpp)
//    "tries": [[INSTANCE_INDEX, TRY, STATE_INDEX, LAUNCHED, SUBMITTED, STARTED, ENDED, JOB_ID,
//               EXIT(, SEGMENT, SEGMENT_TRY)]],   SUBMITTED/STARTED -1 when the try never got
//             there; a trial's try adds its segment and its try of that segment
//    "usage": {"core_hours", "gpu_hours", "basis"},
//    "sweeps": [LEADERBOARD + {"task", "grace_epochs", "reduction_factor",
//               "core_hours": {TRIAL: H}, "rungs": [EPOCHS...]}, each trial with
//               "curve": [[EPOCH, METRIC|null]...]]   (engine/run/learning_curve.hpp)
//    "artifacts": [{"id", "name", "instance", "path", "sha256", "size", "format", "kind",
//                   "jsonld"}]}
// A try's queue wait is STARTED - SUBMITTED (a Slurm job waiting for its nodes); its run time
// ENDED - STARTED.

#include <nlohmann/json.hpp>
#include <string>

#include "engine/run/waiting.hpp"
#include "engine/state/store.hpp"
#include "ui-report/dag_svg.hpp"

namespace flow::report {

// The report data of run `run_id`; `max_jobs` and `gpus_of` give the sites' limits for the
// waiting reasons. Throws flow::Error (not found) for an unknown run.
nlohmann::json report_data(state::Store& store, const std::string& run_id,
                           const run::MaxJobsOf& max_jobs = {}, const run::GpusOf& gpus_of = {});

// The DAG's tasks with their instances counted by state, from report_data()'s document.
std::vector<TaskBox> task_boxes(const nlohmann::json& data);

}  // namespace flow::report
