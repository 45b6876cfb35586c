#pragma once
// The files of an attempt on the engine's side and how the engine reads them:
// $FLOW_HOME/logs/RUN/INSTANCE/TRY.log, TRY.outputs.json, TRY.metrics.jsonl, TRY.exit
// (docs/ENGINE.md "What a task sees"). Remote executors copy their side's files here.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/run/executor.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

AttemptFiles attempt_files(const std::filesystem::path& home, const std::string& run_id,
                           const std::string& instance_id, int try_number);

// Reads metrics files as they grow. Each call returns the lines completed since the last
// call for that attempt that are JSON objects (others are skipped: a task's stray print
// must not fail it); a partial last line is left for the next call.
class MetricsReader {
 public:
  std::vector<state::MetricRecord> read(const std::string& instance_id, int try_number,
                                        const std::filesystem::path& file, EpochMs now);
  // The attempt ended and was read for the last time: drop its position.
  void forget(const std::string& instance_id, int try_number);

 private:
  struct Position {
    size_t offset = 0;  // bytes consumed
    int seq = 0;        // lines stored
  };
  std::map<std::string, Position> positions_;  // by "instance#try"
};

// A finished attempt's outputs file ($FLOW_OUTPUTS_FILE).
struct Outputs {
  bool written = false;  // the task wrote the file
  nlohmann::json value;  // the object, when written and valid
  std::string problem;   // why it is unusable ("" if fine)
};
Outputs read_outputs(const std::filesystem::path& file);

}  // namespace flow::run
