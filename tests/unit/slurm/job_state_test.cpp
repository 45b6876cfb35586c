#include "operators/slurm/job_state.hpp"

#include <gtest/gtest.h>

using namespace flow::slurm;
using flow::run::Outcome;

TEST(SlurmJobState, EveryDocumentedStateHasAPhase) {
  for (const char* s :
       {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "CONFIGURING"})
    EXPECT_EQ(phase_of(s), Phase::kPending) << s;
  for (const char* s :
       {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"})
    EXPECT_EQ(phase_of(s), Phase::kRunning) << s;
  for (const char* s : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                        "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"})
    EXPECT_EQ(phase_of(s), Phase::kFinished) << s;
  EXPECT_EQ(phase_of("SOMETHING_NEW"), Phase::kUnknown);
}

TEST(SlurmJobState, CancelledByUserIsCanonicalised) {
  EXPECT_EQ(canonical_state("CANCELLED by 1000"), "CANCELLED");
  EXPECT_EQ(canonical_state("CANCELLED+"), "CANCELLED");
  EXPECT_EQ(make_status("CANCELLED by 0", "0:15").signal, 15);
}

TEST(SlurmJobState, ExitCodeAndSignalAreParsed) {
  EXPECT_EQ(parse_exit_code("3:0"), std::make_pair(3, 0));
  EXPECT_EQ(parse_exit_code("0:9"), std::make_pair(0, 9));
  EXPECT_EQ(parse_exit_code(""), std::make_pair(0, 0));
  EXPECT_EQ(parse_exit_code("x:y"), std::make_pair(0, 0));
}

TEST(SlurmJobState, OutcomesFollowTheEndState) {
  EXPECT_EQ(outcome_of(make_status("COMPLETED", "0:0")), Outcome::kSucceeded);
  EXPECT_EQ(outcome_of(make_status("FAILED", "3:0")), Outcome::kFailed);
  EXPECT_EQ(outcome_of(make_status("TIMEOUT", "0:0")), Outcome::kTimedOut);
  EXPECT_EQ(outcome_of(make_status("DEADLINE", "0:0")), Outcome::kTimedOut);
  EXPECT_EQ(outcome_of(make_status("CANCELLED by 0", "0:15")), Outcome::kCancelled);
  for (const char* s : {"NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "SPECIAL_EXIT"})
    EXPECT_EQ(outcome_of(make_status(s, "0:0")), Outcome::kFailed) << s;
}
