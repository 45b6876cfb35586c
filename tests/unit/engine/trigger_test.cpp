#include "engine/run/trigger.hpp"

#include <gtest/gtest.h>

using flow::dag::TriggerRule;
using flow::run::decide;
using flow::run::Decision;
using S = flow::state::TaskState;

TEST(Trigger, AllSuccessWaitsThenRuns) {
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {S::kSucceeded, S::kRunning}), Decision::kWait);
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {S::kSucceeded, S::kSucceeded}), Decision::kRun);
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {}), Decision::kRun);
}

TEST(Trigger, AllSuccessPropagatesFailureAndSkip) {
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {S::kFailed, S::kRunning}), Decision::kUpstreamFailed);
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {S::kUpstreamFailed}), Decision::kUpstreamFailed);
  EXPECT_EQ(decide(TriggerRule::kAllSuccess, {S::kSkipped, S::kSucceeded}), Decision::kSkip);
}

TEST(Trigger, AllDoneRunsAfterFailures) {
  EXPECT_EQ(decide(TriggerRule::kAllDone, {S::kFailed, S::kRunning}), Decision::kWait);
  EXPECT_EQ(decide(TriggerRule::kAllDone, {S::kFailed, S::kSucceeded}), Decision::kRun);
}

TEST(Trigger, OneFailedRunsOnFirstFailureElseSkips) {
  EXPECT_EQ(decide(TriggerRule::kOneFailed, {S::kFailed, S::kRunning}), Decision::kRun);
  EXPECT_EQ(decide(TriggerRule::kOneFailed, {S::kSucceeded, S::kSucceeded}), Decision::kSkip);
}

TEST(Trigger, OneSuccessAndNoneFailed) {
  EXPECT_EQ(decide(TriggerRule::kOneSuccess, {S::kSucceeded, S::kRunning}), Decision::kRun);
  EXPECT_EQ(decide(TriggerRule::kOneSuccess, {S::kFailed, S::kFailed}), Decision::kUpstreamFailed);
  EXPECT_EQ(decide(TriggerRule::kNoneFailed, {S::kSkipped, S::kSucceeded}), Decision::kRun);
  EXPECT_EQ(decide(TriggerRule::kNoneFailed, {S::kTimedOut, S::kSucceeded}),
            Decision::kUpstreamFailed);
}
