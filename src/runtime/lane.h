// Lane: one assigned partition. It owns the partition's offset frontier and
// feeds its messages to handlers on the worker pool through sub-lanes:
//
//   ordering   sub-lanes                      runs at once
//   partition  one                            one message of the partition
//   key        one per key (null keys share)  one message per key
//   unordered  one per message                any
//
// A sub-lane (sub_lane.h) is a FIFO run serially (the C++ form of "a goroutine per
// partition", without a thread each). Completions may arrive in any order; the
// frontier commits only below the first incomplete offset, and the completed
// offsets above it travel in the commit metadata (offset_metadata.h), so a new
// owner skips them.
//
// Threads: Push/Revoke/SetPaused/WaitIdle/Committable are called by the poll
// thread; sub-lanes run on workers, completions arrive on any thread; Snapshot
// from anyone. All shared state is guarded by mu_ or atomic.
//
// Fencing: the Runtime holds a lane in its assignment map while the partition
// is assigned under this Generation, and builds commits only from lanes in the
// map; a revoked lane is never committed from, whatever completes in it later.
// A lane created for a partition that comes back while the previous lane still
// has work in flight (a revoke that timed out) waits for that work first
// (`predecessor`), so one key never runs twice at once in this process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "kstrand/config.h"
#include "kstrand/runtime.h"
#include "runtime/latency_recorder.h"
#include "runtime/offset_frontier.h"
#include "runtime/output.h"
#include "runtime/timer_queue.h"
#include "runtime/worker_pool.h"

namespace kstrand::runtime {

struct LaneLimits {
  size_t max_messages = 10000;  // buffered per partition: pause at or above this
  size_t max_bytes = 16 << 20;
  size_t max_ahead = 20000;     // offsets fetched past the frontier: pause at or above this
  size_t batch_max_messages = 64;
};

// What the lanes of one Runtime share. Outlives the Runtime while a late
// completion still references it; Close() cuts the lanes off from the Runtime.
class LaneEnv {
 public:
  LaneEnv(size_t workers, size_t max_in_flight, LaneLimits limits, std::function<void()> wake_poller);
  ~LaneEnv();

  WorkerPool& pool() { return pool_; }
  InFlightLimit& in_flight() { return in_flight_; }
  TimerQueue& timers() { return timers_; }
  const LaneLimits limits;
  // What handlers produce and dead letters go through; set before any lane exists.
  std::unique_ptr<Output> output;

  // Asks the poll thread to look at pauses (a paused lane has room again).
  void WakePoller();
  // A kStopRuntime failure: the poll thread stops the runtime with `why`.
  void RequestStop(Status why);
  std::optional<Status> stop_request() const;
  // Stops the threads and closes the output (never from a task or callback);
  // WakePoller and RequestStop do nothing afterwards. A worker still inside a
  // handler at `deadline` is left to finish on its own (WorkerPool::Stop);
  // returns how many were.
  // `flush_ms`: how long the output may wait for its records' acknowledgements.
  size_t Close(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
               int flush_ms = 10000);
  // Keeps `owner` until this env is destroyed, after the last lane: the
  // consumer whose messages a late completion or a handler left running may
  // still hold (librdkafka requires its messages destroyed before it).
  void KeepUntilLanesAreGone(std::shared_ptr<void> owner) { kept_ = std::move(owner); }

 private:
  std::shared_ptr<void> kept_;  // first: destroyed last
  mutable Mutex mu_;
  const std::function<void()> wake_poller_;  // called under mu_, so never after Close()
  bool closed_ GUARDED_BY(mu_) = false;
  std::optional<Status> stop_request_ GUARDED_BY(mu_);
  WorkerPool pool_;
  InFlightLimit in_flight_{1, pool_};
  TimerQueue timers_;
};

class SubLane;

// Where a lane is in its life. Every transition moves down this list; the
// named transitions are Lane::Revoke, Lane::Retire and, from a sub-lane,
// Lane::StopLocked.
//
//   state      takes messages  runs what it queued   sends, is committed from
//   kActive    yes             yes                   yes
//   kStopped   no              no (dropped)          yes: up to the failed message
//   kDraining  no              yes                   yes
//   kDropping  no              no (dropped)          yes
//   kRetired   no              no (dropped)          no
//
//   kActive   --StopLocked-->  kStopped    a failure stopped the partition
//   kActive   --Revoke(keep)-> kDraining   at-most-once: queued work was committed
//   kActive   --Revoke(drop)-> kDropping   the next owner reads it again
//   kStopped  --Revoke-->      kDropping
//   kDraining --StopLocked-->  kDropping
//   any       --Retire-->      kRetired    its revoke commits, or it was lost
enum class LaneState : uint8_t { kActive, kStopped, kDraining, kDropping, kRetired };

// A lane's counters and handler latency, in one place: its sub-lanes count,
// Snapshot reads. Lock-free.
struct LaneCounters {
  // processed: handler succeeded; failed: last attempt failed (then
  // dead-lettered, skipped or stopped); retried: attempts after a failure.
  std::atomic<uint64_t> processed{0}, failed{0}, retried{0}, dead_lettered{0}, skipped{0};
  LatencyRecorder latency;
};

class Lane final : public std::enable_shared_from_this<Lane> {
 public:
  // `already_done`: offsets a previous owner completed above the committed
  // offset (from the commit metadata); they are skipped when they arrive.
  // The lane shares `spec` (and so its handlers and failure policy): a late
  // completion may reach it after the Runtime that made it is gone.
  Lane(TopicPartition tp, Generation generation, std::shared_ptr<const TopicHandler> spec,
       std::shared_ptr<LaneEnv> env, std::vector<int64_t> already_done = {});
  ~Lane();

  const TopicPartition& partition() const { return tp_; }
  Generation generation() const { return generation_; }
  // Holds this lane's handlers back until `predecessor` (the same partition's
  // previous lane, revoked with work still in flight) is idle. Call before Push.
  void After(const std::shared_ptr<Lane>& predecessor);
  // Holds the handlers back until a matching Release() (a store restoring).
  // Messages still queue (within the lane's bounds). Call Hold before Push.
  void Hold();
  void Release() { Release(false); }

  LaneState state() const { return state_.load(); }
  bool revoked() const { return state() >= LaneState::kDraining; }
  bool stopped() const { return state() == LaneState::kStopped; }
  // No commit will be built from this lane again and nothing finishing in it
  // sends records (no commit would cover them; under exactly-once they would
  // outlive their message).
  bool retired() const { return state() == LaneState::kRetired; }

  // Queues messages (in offset order) and schedules their sub-lanes; `messages`
  // is left empty. Returns false, dropping them, unless the lane is kActive.
  bool Push(std::vector<Message>& messages);
  bool Push(Message message);
  // At or above a bound (messages, bytes, offsets ahead): pause the partition.
  bool Full() const;
  // Below half of every bound: a paused partition may resume.
  bool HasRoom() const;
  // Backpressure, apart from the state: the partition is paused at the consumer.
  bool paused() const { return paused_.load(); }
  void SetPaused(bool paused) { paused_.store(paused); }
  // If not paused and stopped or Full(), marks the lane paused and returns
  // true: the poll thread then pauses the partition. Checked and marked under
  // the lock, so a sub-lane draining meanwhile sees the mark and wakes the poller.
  bool TryPause();

  // Stop feeding (-> kDropping with `drop_buffered`, else kDraining) and
  // request every handler's stop token. Dropping discards what is queued (it
  // stays uncommitted and is read again by the next owner), a sub-lane
  // waiting to retry gives up, and a running sync slice stops at its next
  // message; draining runs what is queued (at-most-once).
  void Revoke(bool drop_buffered);
  // -> kRetired: its revoke commits, or it was lost.
  void Retire();
  // Waits until nothing is in flight (and, unless halted, nothing queued).
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  bool Idle() const;

  struct Commit {
    int64_t offset;
    std::string metadata;  // completed offsets above `offset`
  };
  std::optional<Commit> Committable() const;
  // Records a successful commit (for stats and to skip redundant commits).
  void Committed(int64_t offset);
  int64_t committed() const { return committed_.load(); }
  // The partition's watermarks as the consumer last fetched them (poll thread).
  void SetWatermarks(int64_t low, int64_t high) {
    low_watermark_.store(low);
    high_watermark_.store(high);
  }

  PartitionStats Snapshot() const;

  // ---- for its sub-lanes (sub_lane.h), which report to it under mu() ----
  Mutex& mu() const RETURN_CAPABILITY(mu_) { return mu_; }
  const TopicHandler& spec() const { return *spec_; }
  LaneEnv& env() const { return *env_; }
  LaneCounters& counters() { return counters_; }
  std::stop_token stop_token() const { return stop_.get_token(); }
  // Runs nothing more: kStopped, kDropping or kRetired.
  bool HaltedLocked() const REQUIRES(mu_) { return Halted(state()); }
  // A running sync slice stops at its next message.
  bool DroppingLocked() const REQUIRES(mu_) { return state() >= LaneState::kDropping; }
  // A failure stopped the partition: drops what is queued.
  void StopLocked() REQUIRES(mu_);
  // `n` queued messages (`bytes` in all) were taken to run. True: the
  // partition is paused and has room again; the caller wakes the poller
  // (env().WakePoller()) once it released mu().
  [[nodiscard]] bool TookLocked(size_t n, size_t bytes) REQUIRES(mu_);
  // Running messages completed: the frontier passes them.
  void CompletedLocked(std::span<const Message> done) REQUIRES(mu_);
  // Messages dropped uncommitted: `running` taken, `queued` (`bytes`) not yet.
  void DroppedLocked(size_t running, size_t queued, size_t bytes) REQUIRES(mu_);
  // A sub-lane went idle and empty; forgets it.
  void ForgetLocked(SubLane* sub) REQUIRES(mu_);

 private:
  static bool Halted(LaneState s) { return s == LaneState::kStopped || s >= LaneState::kDropping; }
  void MoveTo(LaneState next) REQUIRES(mu_);
  bool FullLocked() const REQUIRES(mu_);
  bool HasRoomLocked() const REQUIRES(mu_);
  // A paused partition whose lane has room again: the poller should resume it.
  bool RoomAgainLocked() const REQUIRES(mu_);
  SubLane* SubLaneFor(const Message& m) REQUIRES(mu_);  // creates it if needed
  SubLane* NewSubLaneLocked(std::string key) REQUIRES(mu_);  // added to live_
  void Release(bool predecessor_idle) EXCLUDES(mu_);
  // Drops every queued message and every sub-lane not running.
  void DropQueuedLocked() REQUIRES(mu_);
  // Wakes WaitIdle, and a successor lane once this one is idle.
  void NotifyIdleLocked() REQUIRES(mu_);

  const TopicPartition tp_;
  const Generation generation_;
  const std::shared_ptr<const TopicHandler> spec_;
  const std::shared_ptr<LaneEnv> env_;
  const std::chrono::system_clock::time_point assigned_since_ = std::chrono::system_clock::now();

  mutable Mutex mu_;
  std::condition_variable idle_cv_;
  // Changed under mu_ (MoveTo), read without it.
  std::atomic<LaneState> state_{LaneState::kActive};
  OffsetFrontier frontier_ GUARDED_BY(mu_);
  // Every sub-lane with work holds its place in live_ (the owning reference;
  // a sub-lane holds its Lane, and leaves live_ once idle and empty), at the
  // slot it knows (SubLane::LiveSlotLocked): no allocation or hashing for the
  // sub-lane of nearly every message in key and unordered order. The others
  // index into it.
  std::vector<std::shared_ptr<SubLane>> live_ GUARDED_BY(mu_);
  SubLane* partition_lane_ GUARDED_BY(mu_) = nullptr;              // partition ordering
  SubLane* null_key_lane_ GUARDED_BY(mu_) = nullptr;               // key ordering
  // Key ordering; each key views its sub-lane's own copy (SubLane::key()),
  // and leaves this map before its sub-lane is destroyed.
  std::unordered_map<std::string_view, SubLane*> key_lanes_ GUARDED_BY(mu_);
  size_t buffered_ GUARDED_BY(mu_) = 0;  // queued, not started
  size_t buffered_bytes_ GUARDED_BY(mu_) = 0;
  size_t in_flight_ GUARDED_BY(mu_) = 0;  // taken by a sub-lane, not done
  std::vector<int64_t> already_done_ GUARDED_BY(mu_);  // ascending
  size_t already_done_next_ GUARDED_BY(mu_) = 0;
  std::shared_ptr<Lane> predecessor_ GUARDED_BY(mu_);  // until it is idle
  int holds_ GUARDED_BY(mu_) = 0;                      // a busy predecessor, restores
  std::vector<std::shared_ptr<Task>> held_ GUARDED_BY(mu_);  // sub-lanes that wait until holds_ is 0
  std::function<void()> on_idle_ GUARDED_BY(mu_);               // set by a successor

  // Requested by Revoke and Retire (so by a revoke, a loss, a rewind and the
  // runtime's stop): what handlers see as Message::stop_token().
  std::stop_source stop_;
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> committed_{-1};
  std::atomic<int64_t> low_watermark_{-1}, high_watermark_{-1};
  LaneCounters counters_;
};

// Runs the handler, turning exceptions into a failed Status: no exception may
// escape into the worker pool.
Status InvokeHandler(const Handler& handler, const Message& message);

}  // namespace kstrand::runtime
