#include "engine/state/trial_segment.hpp"

#include <algorithm>

namespace flow::state {

namespace {

const char* kKey = "trial";  // the attrs key of a trial (engine/run/sweep.cpp)

}  // namespace

SegmentTry segment_try_of(const InstanceRecord& inst) {
  if (!inst.attrs.is_object()) return {};
  const auto trial = inst.attrs.find(kKey);
  if (trial == inst.attrs.end() || !trial->is_object()) return {};
  const nlohmann::json& j = *trial;
  const auto segment = j.find("segment");
  if (segment == j.end() || !segment->is_number_integer()) return {};
  const int before = j.value("segment_tries_before", 0);
  return {segment->get<int>(), std::max(inst.try_number - before, 0)};
}

SegmentTry segment_try_of(const TryRecord& t) {
  return {t.segment, t.segment_try};
}

void set_segment_try(InstanceRecord& inst, SegmentTry s, int try_number) {
  if (!s.is_trial()) return;
  auto& j = inst.attrs[kKey];
  j["segment"] = s.segment;
  j["segment_tries_before"] = try_number - s.try_in_segment;
}

std::string attempt_label(int try_number, SegmentTry s) {
  if (!s.is_trial()) return "try " + std::to_string(try_number);
  std::string out = "segment " + std::to_string(s.segment);
  if (s.try_in_segment > 1) out += ", try " + std::to_string(s.try_in_segment);
  return out;
}

}  // namespace flow::state
