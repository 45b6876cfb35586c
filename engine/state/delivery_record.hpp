#pragma once
// One notification a run sent (docs/ALERTS.md): a row of table `deliveries`, written when
// the notification is made (state `pending`, before the first attempt) and updated after
// each attempt. It names where it went without the secret part: a webhook by its scheme
// and host (or the secret it came from), a command by its text as written in the DAG.

#include <cstdint>
#include <string>

#include "engine/core/clock.hpp"

namespace flow::state {

struct DeliveryRecord {
  int64_t id = 0;  // assigned by Store::add_delivery
  std::string run_id;
  std::string instance_id;  // "" for a notification about the run
  std::string event;        // failure | retry | success | sla_miss
  int try_number = 0;       // the instance's try the event is about (0: none)
  std::string kind;         // webhook | command
  std::string target;       // "https://hooks.slack.com", "secret slack_url", the command
  // pending (being delivered) | delivered | failed (every attempt failed) | abandoned (the
  // engine delivering it stopped before it was done)
  std::string state = "pending";
  int attempts = 0;   // attempts made so far
  std::string error;  // the last attempt's error ("" when delivered)
  EpochMs created = 0;
  EpochMs updated = 0;
};

}  // namespace flow::state
