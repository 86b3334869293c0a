// WorkerPool: a fixed set of threads running Tasks from one FIFO run queue.
//
// A Task is scheduled at most once at a time by its owner (the Lane keeps a
// `scheduled` flag), so a task never runs on two threads at once; RunSome()
// does a bounded slice of work and says whether more is ready, in which case
// the task goes to the back of the queue (fairness between partitions).
//
// Thread safety: Schedule() from any thread. Stop() (and the destructor) joins
// the threads; tasks queued then, or scheduled later, are dropped.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
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
  // Never from a task.
  void Stop();
  size_t size() const { return threads_.size(); }
  // Threads running a task now. Once the runtime has drained, a thread still
  // busy is in a handler call that has not returned.
  size_t busy() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> ready_;  // guarded by mu_
  size_t waiting_ = 0;                       // guarded by mu_: threads asleep in cv_
  size_t busy_ = 0;                          // guarded by mu_: threads inside RunSome()
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // last: joined first in the destructor
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

 private:
  mutable std::mutex mu_;
  const size_t limit_;
  size_t available_;                             // guarded by mu_
  std::deque<std::shared_ptr<Task>> waiters_;    // guarded by mu_
  WorkerPool& pool_;
};

}  // namespace kstrand::runtime
