#include "runtime/worker_pool.h"

namespace kstrand::runtime {

WorkerPool::WorkerPool(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Schedule(std::shared_ptr<Task> task) {
  {
    std::lock_guard lock(mu_);
    ready_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::Loop() {
  std::shared_ptr<Task> task;  // the task this thread just ran, if it has more work
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Requeue at the back (fairness) without notifying: this thread takes the
      // next task itself, so waking another one would only make it find the
      // queue short by one and sleep again.
      if (task) ready_.push_back(std::move(task));
      cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (stopping_) return;
      task = std::move(ready_.front());
      ready_.pop_front();
    }
    if (!task->RunSome()) task.reset();
  }
}

}  // namespace kstrand::runtime
