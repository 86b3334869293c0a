#include "runtime/worker_pool.h"

#include <algorithm>

namespace kstrand::runtime {

WorkerPool::WorkerPool(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::deque<std::shared_ptr<Task>> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(ready_);  // destroyed after the lock is released
}

void WorkerPool::Schedule(std::shared_ptr<Task> task) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ready_.push_back(std::move(task));
    // Busy threads take the task when they finish theirs; a futex wake per
    // message costs more than many handlers.
    wake = waiting_ > 0;
  }
  if (wake) cv_.notify_one();
}

size_t WorkerPool::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

void WorkerPool::Loop() {
  std::shared_ptr<Task> task;  // the task this thread just ran, if it has more work
  bool ran = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (ran) --busy_;
      // Requeue at the back (fairness) without notifying: this thread takes the
      // next task itself, so waking another one would only make it find the
      // queue short by one and sleep again.
      if (task) ready_.push_back(std::move(task));
      while (!stopping_ && ready_.empty()) {
        ++waiting_;
        cv_.wait(lock);
        --waiting_;
      }
      if (stopping_) return;
      task = std::move(ready_.front());
      ready_.pop_front();
      ++busy_;
    }
    ran = true;
    if (!task->RunSome()) task.reset();
  }
}

bool InFlightLimit::TryAcquire(size_t n, std::shared_ptr<Task> waiter) {
  n = std::min(n, limit_);
  std::lock_guard lock(mu_);
  if (available_ >= n) {
    available_ -= n;
    return true;
  }
  waiters_.push_back(std::move(waiter));
  return false;
}

void InFlightLimit::Release(size_t n) {
  n = std::min(n, limit_);
  std::vector<std::shared_ptr<Task>> wake;
  {
    std::lock_guard lock(mu_);
    available_ += n;
    // Every waiter needs at least one permit: wake as many as could now run.
    while (!waiters_.empty() && wake.size() < available_) {
      wake.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& task : wake) pool_.Schedule(std::move(task));
}

size_t InFlightLimit::in_use() const {
  std::lock_guard lock(mu_);
  return limit_ - available_;
}

}  // namespace kstrand::runtime
