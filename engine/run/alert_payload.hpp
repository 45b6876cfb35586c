#pragma once
// What a notification says (docs/ALERTS.md): the JSON body a webhook receives and a
// command reads on stdin, with a one-line `text` so that a Slack or Mattermost incoming
// webhook takes it unmodified; when an SLA starts counting; and how a webhook is named in
// the database and the logs without its secret part.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/core/clock.hpp"
#include "engine/dag/dag.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

// One thing that happened that a `notify:` entry may want to hear of.
struct AlertFacts {
  dag::NotifyEvent event = dag::NotifyEvent::kFailure;
  std::string instance_id;           // "" = the run itself
  std::string task_id;               // "" = the run itself
  int try_number = 0;                // the instance's tries so far (0 for the run)
  std::string state;                 // the instance's (or run's) state when it happened
  std::string message;               // the instance's message, or for the run what failed
  EpochMs at = 0;                    // when it happened
  std::optional<dag::Duration> sla;  // sla_miss: the SLA that passed
  EpochMs deadline = 0;              // sla_miss: when it passed
};

// {"event", "dag", "run", "task", "instance", "try", "state", "message", "logical_date",
//  "data_interval_start", "data_interval_end", "time", "sla", "deadline", "text"}: every key
// always present, null where it does not apply (task/instance/try for the run, sla/deadline
// but for sla_miss). `message` is cut to 4000 bytes.
nlohmann::json alert_payload(const state::RunRecord& run, const AlertFacts& facts);

// The one-line summary (`text`): "flow: task merge of landcover_nightly failed (run R, try
// 1): MESSAGE", at most ~300 characters of message, newlines folded.
std::string alert_text(const state::RunRecord& run, const AlertFacts& facts);

// When a run's `sla:` starts counting: the end of its data interval for a scheduled run
// (id DAG-scheduled-...), else when the run was created (flow run, trigger, backfill).
EpochMs sla_start(const state::RunRecord& run);

// How a webhook URL is recorded and logged: "https://hooks.slack.com" (scheme, host and
// port; never the path, query or user info, which may carry tokens). "" if `url` is not an
// http:// or https:// URL with a host.
std::string webhook_origin(const std::string& url);

}  // namespace flow::run
