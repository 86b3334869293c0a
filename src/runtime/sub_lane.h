// SubLane: one FIFO of a lane (lane.h), run serially on the worker pool.
// RunSome takes a slice (sync), a batch or one message (async) from its
// queue, runs the handler, and reports the outcome to its lane under the
// lane's lock (FinishLocked): complete what succeeded in the frontier, or
// apply the failure decision (failure_decision.h): retry after a backoff,
// skip, dead-letter (SendToDeadLetters), or stop the partition.
//
// Thread safety: see the class comment; everything guarded is guarded by the
// lane's mutex.
#pragma once

#include <cassert>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "kstrand/message.h"
#include "kstrand/status.h"
#include "runtime/lane.h"
#include "runtime/worker_pool.h"

namespace kstrand::runtime {

// One FIFO of a lane whose messages run one after another. Its messages are
// queued_ until taken into running_ (the in-flight set: the current sync slice,
// batch, or async message; it stays there across retries). Only the one party
// running the sub-lane (state kRunning or kAwaiting) touches running_, and it
// may do so outside the lane's lock; everything else is guarded by lane.mu_.
class SubLane final : public Task, public std::enable_shared_from_this<SubLane> {
 public:
  enum class State {
    kIdle,      // nothing to do, or nobody will run it
    kQueued,    // someone will call RunSome: pool, timer (retry), in-flight limit, or held by After()
    kRunning,   // a worker runs handlers of running_
    kAwaiting,  // an async completion or dead-letter deliveries are outstanding
  };

  SubLane(std::shared_ptr<Lane> lane, std::string key) : lane_(std::move(lane)), key_(std::move(key)) {
    context_.stop = lane_->stop_.get_token();
  }

  bool RunSome() override;
  void OnAsyncDone(Status status);

  const std::string& key() const { return key_; }
  // For the analysis: the Lane whose mu_ the caller holds is this sub-lane's
  // lane_ (which it cannot see by itself). Checked in debug builds.
  void OnLaneOf(const Lane* lane) const ASSERT_CAPABILITY(lane_->mu_) { assert(lane_.get() == lane); }

 private:
  friend class Lane;
  enum class Next { kIdle, kMore, kDeadLetter };

  static constexpr size_t kSlice = 64;  // sync messages per RunSome, for fairness between lanes

  // Records the outcome of running_: the first `done` succeeded; `failure`
  // (if any) is the error of the one after them (of all of them, for a batch).
  Next FinishLocked(size_t done, std::optional<Status> failure) REQUIRES(lane_->mu_);
  // After a success, a skip or a dead-letter: go on with what is queued.
  Next ContinueLocked() REQUIRES(lane_->mu_);
  // Nothing more runs here: drops running_ (uncommitted) and goes idle.
  void AbandonLocked() REQUIRES(lane_->mu_);
  void CompleteLocked(size_t n) REQUIRES(lane_->mu_);  // the first n of running_ are done

  void StartAsync();
  void SendToDeadLetters(Status error);
  // The records the first `done` messages of running_ produced (the others'
  // are dropped: their attempt failed or never ran).
  std::vector<OutputRecord> TakeProduced(size_t done);
  // Sends them, then finishes like FinishLocked(done, failure); a send that
  // failed fails the attempt of the whole of running_.
  void SendThenFinish(std::vector<OutputRecord> records, size_t done, std::optional<Status> failure);
  void Schedule() { lane_->env_->pool().Schedule(shared_from_this()); }

  const std::shared_ptr<Lane> lane_;
  const std::string key_;  // key ordering: the key ("" also for the null-key lane)
  State state_ GUARDED_BY(lane_->mu_) = State::kIdle;
  std::deque<Message> queued_ GUARDED_BY(lane_->mu_);
  // Filled under lane_->mu_; while state_ is kRunning or kAwaiting, read by
  // the party running the sub-lane without it (one runner at a time).
  std::vector<Message> running_;
  int attempts_ GUARDED_BY(lane_->mu_) = 0;  // failed attempts of running_ so far
  // What running_'s messages report as attempt() and stop_token(); written
  // only by the party running the sub-lane, before it hands them to a handler.
  detail::HandlerContext context_;
  size_t permits_ GUARDED_BY(lane_->mu_) = 0;  // in-flight permits held for running_ (async handlers)
  Status last_error_;    // for dead-letter headers
  int letter_attempts_ = 0;  // likewise: attempts made before the policy applied
  // Set with a Schedule() by a completion that must not send the dead letters
  // itself (it may run inside Output::Send); RunSome sends them.
  bool dead_letters_due_ = false;
  // When the running async message was handed over; set before the handler
  // gets its Completion, so the completing thread sees it.
  std::chrono::steady_clock::time_point async_started_;
};

}  // namespace kstrand::runtime
