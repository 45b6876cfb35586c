#pragma once
// What the HPO unit tests share: a sweep over one parameter, and a trial's record as one of
// its segments begins (what the engine's Sweep::begin_segment records).

#include <random>
#include <string>
#include <vector>

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

// A sweep driven by hand: its records as a plain vector (what a scan reads) and as a
// Trials with a tuner's index attached (what the tuner reads), kept equal.
struct DrivenSweep {
  std::vector<TrialRecord> all;
  Trials indexed;
  std::vector<int> running;

  explicit DrivenSweep(const Tuner& tuner) {
    for (auto& index : tuner.make_indices())
      indexed.attach(std::move(index));
  }
  // Segment `s` begins.
  void start(const Segment& s) {
    if (s.fresh) all.emplace_back().index = s.trial;
    TrialRecord& r = all[static_cast<size_t>(s.trial)];
    begin_segment(r, s);
    indexed.put(r);
    running.push_back(s.trial);
  }
  // A running segment picked at random ends: its record, for the caller to finish and
  // then put().
  TrialRecord& end_any(std::mt19937& rng) {
    const size_t pick = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
    TrialRecord& r = all[static_cast<size_t>(running[pick])];
    running.erase(running.begin() + static_cast<long>(pick));
    return r;
  }
  void put(const TrialRecord& r) { indexed.put(r); }
};

}  // namespace flow::hpo::test
