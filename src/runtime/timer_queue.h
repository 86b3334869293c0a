// TimerQueue: runs callbacks at a time, on one thread of its own. Retry
// backoffs use it, and so does the CLI's simulated asynchronous I/O: a waiting
// message costs an entry here, not a sleeping thread.
//
// Thread safety: After() from any thread, callbacks included. Callbacks run one
// at a time on the timer thread and must be short (schedule work, do not do it).
// Stop() (also run by the destructor, never from a callback) joins the thread;
// callbacks still pending then are destroyed without running.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "base/mutex.h"
#include <queue>
#include <thread>
#include <vector>

namespace kstrand::runtime {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;

  TimerQueue();
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void After(std::chrono::nanoseconds delay, std::function<void()> fn);
  void Stop();
  size_t pending() const;

 private:
  struct Entry {
    Clock::time_point due;
    uint64_t seq;  // FIFO among equal due times
    std::function<void()> fn;
    bool operator>(const Entry& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void Loop();

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> entries_ GUARDED_BY(mu_);
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;                                                      // last: started after the rest
};

}  // namespace kstrand::runtime
