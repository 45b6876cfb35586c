// Fuzz target `dag`: a DAG file, read the way `flow validate` and `flow run` read it before
// anything runs — the YAML loader, validation against the repository's sites, then what a
// valid DAG is used for next: the params stored with the run, a job script for every
// Slurm task (LAMEC), the first trial of every hpo task, the schedule's fire times.
#include <chrono>

#include "engine/dag/hpo_config.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/schedule/timetable.hpp"
#include "engine/site/site.hpp"
#include "hpo/tuner.hpp"
#include "operators/lamec/lamec.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

const flow::site::SiteCatalog& sites() {
  static const auto catalog = flow::site::SiteCatalog::load({FLOW_SOURCE_DIR "/sites"});
  return catalog;
}

const flow::lamec::ModuleCatalog& modules() {
  static const auto catalog = flow::lamec::ModuleCatalog::load({FLOW_SOURCE_DIR "/sites/modules"});
  return catalog;
}

void use(const flow::dag::Dag& dag) {
  using namespace flow;
  (void)dag.params.dump();
  for (const auto& t : dag.tasks) {
    const site::Site* s = sites().find(dag.site_of(t));
    if (s && s->is_slurm()) {
      auto request = lamec::make_request(*s, *t.slurm, t.run, modules(), t.resources);
      (void)lamec::render(request, modules());
    }
    if (t.hpo) {
      auto tuner = hpo::make_tuner(dag::hpo_config(*t.hpo), t.hpo->seed.value_or(1));
      (void)tuner->next({});
    }
  }
  if (dag.schedule) {
    schedule::Timetable tt(*dag.schedule, dag.timezone);
    const schedule::Instant t0 = date::sys_days{date::year{2027} / 3 / 27} + std::chrono::hours{1};
    (void)tt.next_intervals(t0, 2);
    (void)tt.last_fire(t0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(flow::fuzz::bytes(data, size));
  flow::fuzz::expect_flow_errors_only("dag", [&] {
    flow::dag::Dag dag = flow::dag::load_dag_text(text, "fuzz.yaml");
    flow::dag::validate_or_throw(dag, {&sites()});
    use(dag);
  });
  return 0;
}
