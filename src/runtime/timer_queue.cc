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
  std::vector<std::function<void()>> firing;  // reused: no allocation per wake-up
  MutexLock lock(mu_);
  while (!stopping_) {
    if (entries_.empty()) {
      lock.Wait(cv_);
      continue;
    }
    // A copy: wait_until reads its deadline after waking, and After() may
    // have reallocated the heap meanwhile.
    const Clock::time_point due = entries_.top().due;
    const Clock::time_point now = Clock::now();
    if (now < due) {
      lock.WaitUntil(cv_, due);
      continue;
    }
    // Everything due by now, in due order, in one pass: many timers fall due
    // together (async completions at thousands a second), and each lock
    // round trip is what After() waits on. Run and destroyed outside the lock
    // (a callback may own what it serves). priority_queue::top() is const; each
    // entry is popped right after its callback is moved out.
    while (!entries_.empty() && entries_.top().due <= now) {
      firing.push_back(std::move(const_cast<Entry&>(entries_.top()).fn));
      entries_.pop();
    }
    lock.Unlock();
    for (auto& fn : firing) fn();
    firing.clear();
    lock.Lock();
  }
}

}  // namespace kstrand::runtime
