#pragma once
// What the HPO unit tests share: a sweep over one parameter, and a trial's record as one of
// its segments begins (what the engine's Sweep::begin_segment records).

#include <string>

#include "hpo/tuner.hpp"

namespace flow::hpo::test {

// `algorithm` over x uniform in [0, 1], metric `loss` in `mode`; the algorithm's other
// settings are the Config defaults, for the caller to change.
inline Config one_parameter_spec(const std::string& algorithm, int samples, int parallel,
                                 const std::string& mode = "min") {
  Config s;
  s.algorithm = algorithm;
  s.metric = "loss";
  s.mode = mode;
  s.samples = samples;
  s.parallel = parallel;
  Dim x;
  x.name = "x";
  x.kind = DimKind::kUniform;
  x.lo = 0.0;
  x.hi = 1.0;
  s.space = {x};
  return s;
}

// `r` as segment `s` of it begins: running, from the checkpoint the segment starts from.
inline void begin_segment(TrialRecord& r, const Segment& s) {
  r.index = s.trial;
  r.params = s.params;
  r.bracket = s.bracket;
  r.rung = s.rung;
  r.generation = s.generation;
  r.parent = s.parent;
  r.source = s.resume_from;
  r.epochs = s.start_epochs;
  r.status = TrialStatus::kRunning;
}

}  // namespace flow::hpo::test
