// WorkerPool: a fixed set of threads running Tasks from one FIFO run queue.
//
// A Task is scheduled at most once at a time by its owner (the Lane keeps a
// `scheduled` flag), so a task never runs on two threads at once; RunSome()
// does a bounded slice of work and says whether more is ready, in which case
// the task goes to the back of the queue (fairness between partitions).
//
// Thread safety: Schedule() from any thread. Stop() (and the destructor) joins
// the threads, or leaves those stuck in a task past its deadline; tasks queued
// then, or scheduled later, are dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "base/mutex.h"
#include <thread>
#include <vector>

namespace kstrand::runtime {

class Task {
 public:
  virtual ~Task() = default;
  // Runs a bounded slice of work; returns true if more work is ready now.
  virtual bool RunSome() = 0;
};

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::shared_ptr<Task> task);
  // Schedules every task of `tasks` (left empty) under one lock, waking as many
  // sleeping threads as there are tasks: a lane's Push makes many sub-lanes
  // ready at once in key and unordered order.
  void ScheduleMany(std::vector<std::shared_ptr<Task>>& tasks);
  // Stops the threads, waiting until `deadline` for those inside a task; a
  // thread still in one then (a handler that does not return) is left to
  // finish it on its own: it owns what it uses (State, its task), so the
  // pool may be destroyed meanwhile. Never from a task. Returns how many
  // threads were left running.
  size_t Stop(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  size_t size() const { return threads_.size(); }
  // Threads running a task now. Once the runtime has drained, a thread still
  // busy is in a handler call that has not returned.
  size_t busy() const;
  // True on one of this pool's threads (a handler calling back into the runtime).
  bool OnWorkerThread() const;

 private:
  // Shared by the pool and its threads, so a thread left inside a task may
  // outlive the pool.
  struct State {
    Mutex mu;
    std::condition_variable cv;       // work arrived, or stopping
    std::condition_variable exited;   // a thread left Loop
    std::deque<std::shared_ptr<Task>> ready GUARDED_BY(mu);
    size_t waiting GUARDED_BY(mu) = 0;  // threads asleep in cv
    size_t busy GUARDED_BY(mu) = 0;     // threads inside RunSome()
    size_t running GUARDED_BY(mu) = 0;  // threads not yet out of Loop
    bool stopping GUARDED_BY(mu) = false;
  };
  static void Loop(const std::shared_ptr<State>& state);

  const std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;  // last: joined (or left) first in the destructor
  std::vector<std::thread::id> thread_ids_;  // fixed at construction
};

// InFlightLimit: the runtime-wide bound on messages handed to async handlers
// and not yet completed (max.in.flight). A task that finds no permit leaves itself
// here and is scheduled again when one is released; it then tries again.
//
// Thread safety: all methods from any thread.
class InFlightLimit {
 public:
  InFlightLimit(size_t permits, WorkerPool& pool) : limit_(permits), available_(permits), pool_(pool) {}

  // Takes `n` permits, or parks `waiter` (scheduled on the pool once permits
  // are released) and returns false. `n` above the limit takes all of it.
  bool TryAcquire(size_t n, std::shared_ptr<Task> waiter);
  void Release(size_t n);
  size_t in_use() const;
  // Forgets the parked tasks (the pool that would run them has stopped): a
  // parked task may hold what owns this limit.
  void DropWaiters();

 private:
  mutable Mutex mu_;
  const size_t limit_;
  size_t available_ GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Task>> waiters_ GUARDED_BY(mu_);
  WorkerPool& pool_;
};

}  // namespace kstrand::runtime
