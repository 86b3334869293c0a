// Lane: the ordered FIFO of one assigned partition, run serially on the worker
// pool (the C++ form of "a goroutine per partition", without a thread each).
//
// Threads: Push/Revoke/SetPaused/WaitIdle/Committable are called by the poll
// thread; RunSome by one worker at a time; Snapshot by anyone. All shared state
// is guarded by mu_ or atomic.
//
// Lifetime: the Runtime holds a lane in its assignment map while the partition
// is assigned to this Generation; the pool may still hold a reference for a
// moment after removal. A removed lane can never commit: commits are built
// only from lanes in the map (fencing by assignment generation).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "kstrand/config.h"
#include "kstrand/runtime.h"
#include "runtime/offset_frontier.h"
#include "runtime/worker_pool.h"

namespace kstrand::runtime {

struct LaneLimits {
  size_t max_messages = 10000;  // pause the partition at or above this
  size_t max_bytes = 16 << 20;
};

class Lane final : public Task, public std::enable_shared_from_this<Lane> {
 public:
  // `handler` must outlive the lane. `on_room` is called from a worker when a
  // paused lane drained below its low watermark (half its limits).
  Lane(TopicPartition tp, Generation generation, const Handler& handler, WorkerPool& pool, LaneLimits limits,
       std::function<void()> on_room);

  const TopicPartition& partition() const { return tp_; }
  Generation generation() const { return generation_; }

  // Queues a message and schedules the lane. Returns false (and drops the
  // message) once the lane was revoked or stopped by a failure.
  bool Push(Message message);
  // The same for a run of messages in offset order, under one lock; `messages`
  // is left empty (refused messages are dropped).
  bool Push(std::vector<Message>& messages);
  // At or above the high watermark: the poll thread should pause the partition.
  bool Full() const;
  // Below the low watermark: a paused partition may resume.
  bool HasRoom() const;
  bool stopped() const { return stopped_.load(); }
  bool paused() const { return paused_.load(); }
  void SetPaused(bool paused) { paused_.store(paused); }
  // If the lane is not paused and is stopped or Full(), marks it paused and
  // returns true: the poll thread then pauses the partition. Checked and marked
  // under the lane's lock, so a worker draining it meanwhile always sees the
  // mark and calls on_room once it has room.
  bool TryPause();

  // Stop feeding. With drop_buffered, queued messages are discarded (they stay
  // uncommitted and will be read again by the next owner) and the in-flight
  // slice stops at its next message; without it, queued messages still run.
  void Revoke(bool drop_buffered);
  // Waits until nothing runs (and, without drop, nothing is queued). False on timeout.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  std::optional<int64_t> Committable() const;
  // Records a successful commit (for stats and to skip redundant commits).
  void Committed(int64_t offset);
  int64_t committed() const { return committed_.load(); }

  PartitionStats Snapshot() const;

  bool RunSome() override;

 private:
  static constexpr size_t kSlice = 64;  // messages per RunSome, for fairness

  bool FullLocked() const;  // requires mu_

  const TopicPartition tp_;
  const Generation generation_;
  const Handler& handler_;
  WorkerPool& pool_;
  const LaneLimits limits_;
  const std::function<void()> on_room_;
  const std::chrono::system_clock::time_point assigned_since_ = std::chrono::system_clock::now();

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<Message> buffered_;  // guarded by mu_
  size_t buffered_bytes_ = 0;     // guarded by mu_
  OffsetFrontier frontier_;       // guarded by mu_
  size_t in_flight_ = 0;          // guarded by mu_
  bool scheduled_ = false;        // guarded by mu_: queued in or running on the pool
  std::vector<Message> slice_;          // RunSome only (one worker at a time): the messages taken
  std::vector<int64_t> done_offsets_;  // RunSome only: offsets of the slice's completed messages

  std::atomic<bool> drop_buffered_{false};  // set before revoked_
  std::atomic<bool> revoked_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> committed_{-1};
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> failed_{0};
};

// Runs the handler, turning exceptions into a failed Status: no exception may
// escape into the worker pool.
Status InvokeHandler(const Handler& handler, const Message& message);

}  // namespace kstrand::runtime
