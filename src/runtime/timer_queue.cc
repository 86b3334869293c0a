#include "runtime/timer_queue.h"

namespace kstrand::runtime {

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

void TimerQueue::After(std::chrono::nanoseconds delay, std::function<void()> fn) {
  auto due = Clock::now() + delay;
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    bool earliest = entries_.empty() || due < entries_.top().due;
    entries_.push(Entry{due, next_seq_++, std::move(fn)});
    if (!earliest) return;  // the timer thread already wakes up in time
  }
  cv_.notify_one();
}

void TimerQueue::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(mu_);
  while (!entries_.empty()) entries_.pop();
}

size_t TimerQueue::pending() const {
  MutexLock lock(mu_);
  return entries_.size();
}

void TimerQueue::Loop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    if (entries_.empty()) {
      lock.Wait(cv_);
      continue;
    }
    // A copy: wait_until reads its deadline after waking, and After() may
    // have reallocated the heap meanwhile.
    const Clock::time_point due = entries_.top().due;
    if (Clock::now() < due) {
      lock.WaitUntil(cv_, due);
      continue;
    }
    // priority_queue::top() is const; the entry is popped right after.
    auto fn = std::move(const_cast<Entry&>(entries_.top()).fn);
    entries_.pop();
    lock.Unlock();
    fn();
    lock.Lock();
  }
}

}  // namespace kstrand::runtime
