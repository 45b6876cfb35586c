#pragma once
// The shell trial the HPO tests run: loss = x + 1/epoch for the trial's parameter `x`, one
// metrics line per epoch, and a checkpoint that holds the epoch reached, so a promoted
// trial continues where its last segment stopped. Needs only sh and awk.

#include <string>

namespace flow::test {

// The script's lines, each indented by `indent` spaces: 6 under the `    run: |` of a task
// in a `tasks:` list.
inline std::string checkpointed_trial_run(int indent = 6) {
  static const char* const kLines[] = {
      R"(x={{ trial.params.x }})",
      R"(e=0)",
      R"(if [ -n "$FLOW_CHECKPOINT_IN" ]; then e=$(cat "$FLOW_CHECKPOINT_IN"); fi)",
      R"(while [ "$e" -lt "$FLOW_TRIAL_EPOCHS" ]; do)",
      R"(  e=$((e + 1)))",
      R"(  awk -v x="$x" -v e="$e" 'BEGIN { printf "{\"epoch\": %d, \"loss\": %.6f}\n", e, x + 1.0 / e }' >> "$FLOW_METRICS_FILE")",
      R"(done)",
      R"(echo "$FLOW_TRIAL_EPOCHS" > "$FLOW_CHECKPOINT_OUT")",
  };
  std::string out;
  for (const char* line : kLines)
    out += std::string(static_cast<size_t>(indent), ' ') + line + "\n";
  return out;
}

}  // namespace flow::test
