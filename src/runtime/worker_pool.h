// WorkerPool: a fixed set of threads running Tasks from one FIFO run queue.
//
// A Task is scheduled at most once at a time by its owner (the Lane keeps a
// `scheduled` flag), so a task never runs on two threads at once; RunSome()
// does a bounded slice of work and says whether more is ready, in which case
// the task goes to the back of the queue (fairness between partitions).
//
// Thread safety: Schedule() from any thread. The destructor stops and joins
// the threads; tasks still queued then are dropped (their owners are gone).
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
  size_t size() const { return threads_.size(); }

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> ready_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;         // last: joined first in the destructor
};

}  // namespace kstrand::runtime
