// The failure policy as a pure function (src/runtime/failure_decision.h).
#include "runtime/failure_decision.h"

#include <gtest/gtest.h>

namespace kstrand::runtime {
namespace {

using std::chrono::milliseconds;
using Action = FailureDecision::Action;

const Status kFailed(Errc::kHandlerFailed, "boom");

FailurePolicy Policy(int attempts, FailureAction then) {
  FailurePolicy p;
  p.max_attempts = attempts;
  p.backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  p.then = then;
  if (then == FailureAction::kDeadLetter) p.dead_letter_topic = "dlq";
  return p;
}

TEST(FailureDecisionTest, RetriesWhileAttemptsAreLeftThenAppliesThePolicy) {
  const FailurePolicy p = Policy(3, FailureAction::kDeadLetter);
  EXPECT_EQ(DecideAfterFailure(p, 1, kFailed, 1.0).action, Action::kRetry);
  EXPECT_EQ(DecideAfterFailure(p, 2, kFailed, 1.0).action, Action::kRetry);
  EXPECT_EQ(DecideAfterFailure(p, 3, kFailed, 1.0).action, Action::kDeadLetter);
}

TEST(FailureDecisionTest, EachFinalActionFollowsThePolicy) {
  EXPECT_EQ(DecideAfterFailure(Policy(1, FailureAction::kSkip), 1, kFailed, 1.0).action, Action::kSkip);
  EXPECT_EQ(DecideAfterFailure(Policy(1, FailureAction::kDeadLetter), 1, kFailed, 1.0).action, Action::kDeadLetter);
  EXPECT_EQ(DecideAfterFailure(Policy(1, FailureAction::kStopPartition), 1, kFailed, 1.0).action,
            Action::kStopPartition);
  EXPECT_EQ(DecideAfterFailure(Policy(1, FailureAction::kStopRuntime), 1, kFailed, 1.0).action,
            Action::kStopRuntime);
}

TEST(FailureDecisionTest, APermanentFailureSkipsTheAttemptsLeft) {
  const Status permanent(Errc::kPermanentFailure, "invalid order");
  const FailureDecision d = DecideAfterFailure(Policy(5, FailureAction::kSkip), 1, permanent, 1.0);
  EXPECT_EQ(d.action, Action::kSkip);
  EXPECT_EQ(d.wait.count(), 0);
}

TEST(FailureDecisionTest, BackoffDoublesUpToTheMaximumAndScalesWithJitter) {
  const FailurePolicy p = Policy(10, FailureAction::kStopPartition);
  EXPECT_EQ(DecideAfterFailure(p, 1, kFailed, 1.0).wait, milliseconds(100));
  EXPECT_EQ(DecideAfterFailure(p, 2, kFailed, 1.0).wait, milliseconds(200));
  EXPECT_EQ(DecideAfterFailure(p, 4, kFailed, 1.0).wait, milliseconds(800));
  EXPECT_EQ(DecideAfterFailure(p, 5, kFailed, 1.0).wait, milliseconds(1000));  // capped
  EXPECT_EQ(DecideAfterFailure(p, 9, kFailed, 1.0).wait, milliseconds(1000));
  EXPECT_EQ(DecideAfterFailure(p, 1, kFailed, 0.8).wait, milliseconds(80));
  EXPECT_EQ(DecideAfterFailure(p, 5, kFailed, 1.2).wait, milliseconds(1200));
}

}  // namespace
}  // namespace kstrand::runtime
