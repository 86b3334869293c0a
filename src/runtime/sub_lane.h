// SubLane: one FIFO of a lane (lane.h), run serially on the worker pool.
// RunSome takes a slice (sync), a batch or one message (async) from its
// queue and runs the handler. Whatever ends an attempt reaches the lane
// through one entry point, Report: the handler returned (sync, batch), the
// async completion was called, the output answered for the records the
// messages produced, or the dead letters were delivered. Report completes
// what succeeded in the lane's frontier or applies the failure decision
// (failure_decision.h): retry after a backoff, skip, dead-letter, or stop the
// partition.
//
// Thread safety: see the class comment; everything guarded is guarded by the
// lane's mutex.
#pragma once

#include <cassert>
#include <chrono>
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

// The queue of a sub-lane. In key and unordered order most sub-lanes live for
// one or a few messages, so it allocates nothing until its first push
// (std::deque allocates a map and a 512-byte block when it is constructed), and
// hands all it holds to the runner without moving a message when it can.
class MessageFifo {
 public:
  void push_back(Message m) { items_.push_back(std::move(m)); }
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  size_t bytes() const;  // the payload sizes of what is queued
  // Moves the first `n` (at most size()) to the end of `out`.
  void TakeFront(size_t n, std::vector<Message>& out);
  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<Message> items_;  // [head_, end) are queued
  size_t head_ = 0;
};

// One FIFO of a lane whose messages run one after another. Its messages are
// queued_ until taken into running_ (the in-flight set: the current sync slice,
// batch, or async message; it stays there across retries). Only the one party
// running the sub-lane (state kRunning or kAwaiting) touches running_, and it
// may do so outside the lane's lock; everything else is guarded by the lane's mu().
class SubLane final : public Task, public std::enable_shared_from_this<SubLane> {
 public:
  enum class State {
    kIdle,      // nothing to do, or nobody will run it
    kQueued,    // someone will call RunSome: pool, timer (retry), in-flight limit, or held by After()
    kRunning,   // a worker runs handlers of running_
    kAwaiting,  // an async completion, the output's answer or dead-letter deliveries are outstanding
  };

  SubLane(std::shared_ptr<Lane> lane, std::string key) : lane_(std::move(lane)), key_(std::move(key)) {
    context_.stop = lane_->stop_token();
  }

  bool RunSome() override;
  // The async handler's Completion was called (or dropped).
  void OnAsyncDone(Status status);

  const std::string& key() const { return key_; }
  // For the analysis: the Lane whose mu() the caller holds is this sub-lane's
  // lane_ (which it cannot see by itself). Checked in debug builds.
  void OnLaneOf(const Lane* lane) const ASSERT_CAPABILITY(lane_->mu()) { assert(lane_.get() == lane); }
  // Queues `m`; true if the sub-lane was idle and must now be scheduled (or held).
  bool EnqueueLocked(Message m) REQUIRES(lane_->mu());
  // Where the lane keeps its owning reference (Lane::live_).
  size_t LiveSlotLocked() const REQUIRES(lane_->mu()) { return live_slot_; }
  void SetLiveSlotLocked(size_t slot) REQUIRES(lane_->mu()) { live_slot_ = slot; }
  // The lane halted: a sub-lane nobody runs is dropped with its messages; a
  // running one loses its queue and sees the halt when its step ends.
  void HaltLocked() REQUIRES(lane_->mu());

 private:
  // How an attempt of running_ ended.
  struct Outcome {
    enum class Source {
      kHandler,       // the handler returned or completed (and the output took what it produced)
      kOutputFailed,  // the output could not send what the succeeded messages produced
      kDeadLetters,   // the dead letters of the failed messages were delivered, or not
    };
    Source source = Source::kHandler;
    size_t done = 0;  // kHandler: the first `done` of running_ succeeded
    // kHandler: the error of the one after them (of all of them, for a
    // batch); otherwise the send's.
    std::optional<Status> failure;
  };
  // The one way an outcome reaches the lane. True: RunSome must run again
  // (more is queued, or dead letters are to be sent).
  bool Report(Outcome outcome) EXCLUDES(lane_->mu());

  static constexpr size_t kSlice = 64;  // sync messages per RunSome, for fairness between lanes

  enum class Next { kIdle, kMore, kDeadLetter };
  // A handler's outcome: complete what succeeded, apply the failure decision.
  Next FinishLocked(size_t done, std::optional<Status> failure) REQUIRES(lane_->mu());
  // The dead letters' delivery.
  Next LettersDeliveredLocked(const std::optional<Status>& failure) REQUIRES(lane_->mu());
  // After a success, a skip or a dead-letter: go on with what is queued.
  Next ContinueLocked() REQUIRES(lane_->mu());
  // Nothing more runs here: drops running_ and queued_ (uncommitted) and goes idle.
  Next AbandonLocked() REQUIRES(lane_->mu());
  void CompleteLocked(size_t n) REQUIRES(lane_->mu());  // the first n of running_ are done

  void StartAsync();
  void SendToDeadLetters();
  // The records the first `done` messages of running_ produced (the others'
  // are dropped: their attempt failed or never ran).
  std::vector<OutputRecord> TakeProduced(size_t done);
  // Sends them, then reports `outcome` once the output answered; a send that
  // failed fails the attempt of the whole of running_ instead.
  void SendThenReport(std::vector<OutputRecord> records, Outcome outcome);
  void Schedule() { lane_->env().pool().Schedule(shared_from_this()); }

  const std::shared_ptr<Lane> lane_;
  const std::string key_;  // key ordering: the key ("" also for the null-key lane)
  State state_ GUARDED_BY(lane_->mu()) = State::kIdle;
  size_t live_slot_ GUARDED_BY(lane_->mu()) = 0;
  MessageFifo queued_ GUARDED_BY(lane_->mu());
  // Filled under the lane's mu(); while state_ is kRunning or kAwaiting, read by
  // the party running the sub-lane without it (one runner at a time).
  std::vector<Message> running_;
  int attempts_ GUARDED_BY(lane_->mu()) = 0;  // failed attempts of running_ so far
  // What running_'s messages report as attempt() and stop_token(); written
  // only by the party running the sub-lane, before it hands them to a handler.
  detail::HandlerContext context_;
  size_t permits_ GUARDED_BY(lane_->mu()) = 0;  // in-flight permits held for running_ (async handlers)
  Status last_error_;        // for dead-letter headers
  int letter_attempts_ = 0;  // likewise: attempts made before the policy applied
  // Dead letters wait to be sent by the next RunSome (Report may run inside
  // Output::Send, which must not send again).
  bool dead_letters_due_ GUARDED_BY(lane_->mu()) = false;
  // When the running async message was handed over; set before the handler
  // gets its Completion, so the completing thread sees it.
  std::chrono::steady_clock::time_point async_started_;
};

}  // namespace kstrand::runtime
