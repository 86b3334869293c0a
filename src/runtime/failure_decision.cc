#include "runtime/failure_decision.h"

#include <algorithm>

namespace kstrand::runtime {

std::chrono::nanoseconds RetryBackoff(const FailurePolicy& policy, int attempts_made, double jitter) {
  double ms = static_cast<double>(policy.backoff.count());
  const double max_ms = static_cast<double>(policy.max_backoff.count());
  for (int i = 1; i < attempts_made && ms < max_ms; ++i) ms *= 2;
  ms = std::min(ms, max_ms) * jitter;
  return std::chrono::nanoseconds(static_cast<int64_t>(ms * 1e6));
}

FailureDecision DecideAfterFailure(const FailurePolicy& policy, int attempts_made, const Status& failure,
                                   double jitter) {
  using Action = FailureDecision::Action;
  // A permanent failure skips the attempts left: no retry would fix it.
  const bool permanent = failure.code() == make_error_code(Errc::kPermanentFailure);
  if (attempts_made < policy.max_attempts && !permanent) {
    return {Action::kRetry, RetryBackoff(policy, attempts_made, jitter)};
  }
  switch (policy.then) {
    case FailureAction::kSkip: return {Action::kSkip};
    case FailureAction::kDeadLetter: return {Action::kDeadLetter};
    case FailureAction::kStopRuntime: return {Action::kStopRuntime};
    case FailureAction::kStopPartition: return {Action::kStopPartition};
  }
  return {Action::kStopPartition};
}

}  // namespace kstrand::runtime
