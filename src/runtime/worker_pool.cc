#include "runtime/worker_pool.h"

#include <algorithm>

namespace kstrand::runtime {

WorkerPool::WorkerPool(size_t threads) : state_(std::make_shared<State>()) {
  {
    MutexLock lock(state_->mu);
    state_->running = threads;
  }
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([state = state_] { Loop(state); });
    thread_ids_.push_back(threads_.back().get_id());
  }
}

WorkerPool::~WorkerPool() { Stop(); }

size_t WorkerPool::Stop(std::chrono::steady_clock::time_point deadline) {
  std::deque<std::shared_ptr<Task>> dropped;  // destroyed after the lock is released
  bool all_out;
  {
    MutexLock lock(state_->mu);
    // Stopped before: its threads were joined, or left running for good.
    if (state_->stopping) return state_->running;
    state_->stopping = true;
    state_->cv.notify_all();
    // On a pool thread (its task released the last reference to the pool's
    // owner) that thread cannot wait for itself.
    const size_t self = OnWorkerThread() ? 1 : 0;
    all_out = true;
    while (state_->running > self) {
      if (!lock.WaitUntil(state_->exited, deadline)) {
        all_out = state_->running <= self;
        break;
      }
    }
    dropped.swap(state_->ready);
  }
  size_t left = 0;
  for (auto& t : threads_) {
    if (!t.joinable()) continue;
    if (all_out && t.get_id() != std::this_thread::get_id()) {
      t.join();
    } else {
      // Which threads are out is not known one by one; those out end at
      // once anyway, and the one still in a task ends when it returns.
      t.detach();
    }
  }
  if (!all_out) {
    MutexLock lock(state_->mu);
    left = state_->running;
  }
  return left;
}

void WorkerPool::Schedule(std::shared_ptr<Task> task) {
  bool wake;
  {
    MutexLock lock(state_->mu);
    if (state_->stopping) return;
    state_->ready.push_back(std::move(task));
    // Busy threads take the task when they finish theirs; a futex wake per
    // message costs more than many handlers.
    wake = state_->waiting > 0;
  }
  if (wake) state_->cv.notify_one();
}

void WorkerPool::ScheduleMany(std::vector<std::shared_ptr<Task>>& tasks) {
  size_t wake = 0;
  {
    MutexLock lock(state_->mu);
    if (!state_->stopping) {
      for (auto& task : tasks) state_->ready.push_back(std::move(task));
      wake = std::min(state_->waiting, tasks.size());
    }
  }
  tasks.clear();  // dropped ones (stopping) destroyed outside the lock
  for (size_t i = 0; i < wake; ++i) state_->cv.notify_one();
}

size_t WorkerPool::busy() const {
  MutexLock lock(state_->mu);
  return state_->busy;
}

bool WorkerPool::OnWorkerThread() const {
  return std::find(thread_ids_.begin(), thread_ids_.end(), std::this_thread::get_id()) != thread_ids_.end();
}

void WorkerPool::Loop(const std::shared_ptr<State>& state) {
  State& s = *state;
  std::shared_ptr<Task> task;  // the task this thread just ran, if it has more work
  bool ran = false;
  for (;;) {
    {
      MutexLock lock(s.mu);
      if (ran) --s.busy;
      if (s.stopping) {
        // Not requeued: a task left in `ready` could keep its owner, and so
        // this State, alive for good. Destroyed after the lock is released.
        --s.running;
        s.exited.notify_all();
        return;
      }
      // Requeue at the back (fairness) without notifying: this thread takes the
      // next task itself, so waking another one would only make it find the
      // queue short by one and sleep again.
      if (task) s.ready.push_back(std::move(task));
      while (!s.stopping && s.ready.empty()) {
        ++s.waiting;
        lock.Wait(s.cv);
        --s.waiting;
      }
      if (s.stopping) {
        --s.running;
        s.exited.notify_all();
        return;
      }
      task = std::move(s.ready.front());
      s.ready.pop_front();
      ++s.busy;
    }
    ran = true;
    // The task may hold the last reference to what owns this pool: released
    // here, outside the lock, it may destroy the pool, never `s`.
    if (!task->RunSome()) task.reset();
  }
}

bool InFlightLimit::TryAcquire(size_t n, std::shared_ptr<Task> waiter) {
  n = std::min(n, limit_);
  MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    available_ += n;
    // Every waiter needs at least one permit: wake as many as could now run.
    while (!waiters_.empty() && wake.size() < available_) {
      wake.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  pool_.ScheduleMany(wake);
}

void InFlightLimit::DropWaiters() {
  std::deque<std::shared_ptr<Task>> dropped;  // destroyed after the lock is released
  MutexLock lock(mu_);
  dropped.swap(waiters_);
}

size_t InFlightLimit::in_use() const {
  MutexLock lock(mu_);
  return limit_ - available_;
}

}  // namespace kstrand::runtime
