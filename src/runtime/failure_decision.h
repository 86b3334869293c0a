// What a lane does after a handler's attempt failed: a topic's FailurePolicy
// (kstrand/config.h) applied as a pure function, so its rules are read and
// tested apart from the lane that carries them out (sub_lane.cc, SubLane::Report).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>

#include "kstrand/config.h"
#include "kstrand/status.h"

namespace kstrand::runtime {

struct FailureDecision {
  enum class Action {
    kRetry,          // run the same message (or batch) again after `wait`
    kSkip,           // count it done and go on
    kDeadLetter,     // produce it to the dead-letter topic, then go on
    kStopPartition,  // stop the partition at it, uncommitted
    kStopRuntime,    // stop the partition, and the runtime with the failure
  };
  Action action = Action::kStopPartition;
  std::chrono::nanoseconds wait{0};  // kRetry only
};

// After attempt number `attempts_made` (1-based) failed with `failure`:
// retry while attempts are left, unless the handler said kPermanentFailure;
// else the policy's `then`. `jitter` scales the backoff (the caller draws it
// from [0.8, 1.2], so keys failing together do not retry in lockstep).
FailureDecision DecideAfterFailure(const FailurePolicy& policy, int attempts_made, const Status& failure,
                                   double jitter);

// The wait before attempt `attempts_made` + 1: `backoff`, doubled for each
// attempt after the first, at most `max_backoff`, times `jitter`.
std::chrono::nanoseconds RetryBackoff(const FailurePolicy& policy, int attempts_made, double jitter);

}  // namespace kstrand::runtime
