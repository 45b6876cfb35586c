// When a run is over: every combination of in-flight, waiting, stopping and unfinished
// instances, including the one that used to hang forever (unfinished, nothing in flight,
// nothing due).
#include "engine/run/run_end.hpp"

#include <gtest/gtest.h>

using namespace flow;
using run::RunEnd;
using state::TaskState;

namespace {

struct EndCase {
  std::map<TaskState, int> counts, summaries;
  bool launching = false, waiting = false, stopping = false;
  RunEnd end() const { return run::run_end({&counts, &summaries, launching, waiting, stopping}); }
};

}  // namespace

TEST(RunEnd, ARunWithSomethingInFlightGoesOn) {
  EndCase c{{{TaskState::kRunning, 1}, {TaskState::kSucceeded, 3}}, {}};
  EXPECT_EQ(c.end(), RunEnd::kGoesOn);
  c.stopping = true;  // a stop waits for what is in flight
  EXPECT_EQ(c.end(), RunEnd::kGoesOn);
  EndCase pending{{{TaskState::kPending, 1}}, {}};
  EXPECT_EQ(pending.end(), RunEnd::kGoesOn);
}

TEST(RunEnd, PickedButNotLaunchedAttemptsKeepTheRunGoing) {
  EndCase c{{{TaskState::kStarting, 0}, {TaskState::kQueued, 1}}, {}, /*launching=*/true};
  EXPECT_EQ(c.end(), RunEnd::kGoesOn);
}

TEST(RunEnd, AllTerminalEndsSucceededOrFailed) {
  EndCase ok{{{TaskState::kSucceeded, 3}, {TaskState::kSkipped, 1}}, {{TaskState::kSucceeded, 1}}};
  EXPECT_EQ(ok.end(), RunEnd::kSucceeded);
  EndCase bad{{{TaskState::kSucceeded, 3}, {TaskState::kUpstreamFailed, 1}}, {}};
  EXPECT_EQ(bad.end(), RunEnd::kFailed);
  EndCase summary_failed{{{TaskState::kSucceeded, 3}}, {{TaskState::kFailed, 1}}};
  EXPECT_EQ(summary_failed.end(), RunEnd::kFailed);
}

TEST(RunEnd, UnfinishedInstancesWaitingForASlotOrARetryGoOn) {
  EndCase c{{{TaskState::kQueued, 2}, {TaskState::kUpForRetry, 1}}, {}};
  c.waiting = true;
  EXPECT_EQ(c.end(), RunEnd::kGoesOn);
}

TEST(RunEnd, UnfinishedInstancesWithNothingInFlightOrDueAreStuck) {
  EndCase c{{{TaskState::kQueued, 2}, {TaskState::kSucceeded, 1}}, {}};
  EXPECT_EQ(c.end(), RunEnd::kStuck);
  EndCase summary{{{TaskState::kSucceeded, 4}},
                  {{TaskState::kRunning, 1}}};  // a sweep that stalled
  EXPECT_EQ(summary.end(), RunEnd::kStuck);
}

TEST(RunEnd, AStoppingRunWithNothingInFlightIsStopped) {
  EndCase c{{{TaskState::kQueued, 2}}, {}};
  c.stopping = true;
  EXPECT_EQ(c.end(), RunEnd::kStopped);
}
