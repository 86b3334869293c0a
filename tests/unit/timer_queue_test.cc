// TimerQueue: retry backoffs and the CLI's and benches' simulated I/O.
#include "runtime/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace kstrand::runtime {
namespace {

using namespace std::chrono_literals;

TEST(TimerQueueTest, CallbacksRunInDueOrderAndEqualDueTimesInCallOrder) {
  TimerQueue timers;
  Mutex mu;
  std::vector<int> ran;
  std::promise<void> all;
  auto record = [&](int id) {
    MutexLock lock(mu);
    ran.push_back(id);
    if (ran.size() == 5) all.set_value();
  };
  timers.After(60ms, [&] { record(4); });
  timers.After(20ms, [&] { record(1); });
  timers.After(40ms, [&] { record(2); });
  timers.After(40ms, [&] { record(3); });
  timers.After(80ms, [&] { record(5); });
  ASSERT_EQ(all.get_future().wait_for(5s), std::future_status::ready);
  MutexLock lock(mu);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4, 5}));
}

// Thousands fall due together under async load: every one runs, once.
TEST(TimerQueueTest, ManyDueAtOnceAllRunOnce) {
  TimerQueue timers;
  constexpr int kCount = 20000;
  std::atomic<int> ran{0};
  std::promise<void> all;
  for (int i = 0; i < kCount; ++i) {
    timers.After(5ms, [&] {
      if (ran.fetch_add(1) + 1 == kCount) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(ran.load(), kCount);
  EXPECT_EQ(timers.pending(), 0u);
}

// A callback is destroyed outside the queue's lock: what it captured may
// schedule more (a completion's last reference to a sub-lane that retries).
TEST(TimerQueueTest, ACallbackWhoseDestructorSchedulesMoreDoesNotDeadlock) {
  TimerQueue timers;
  std::promise<void> rescheduled;
  class SchedulesOnDestruction {
   public:
    SchedulesOnDestruction(TimerQueue* timers, std::promise<void>* done) : timers_(timers), done_(done) {}
    SchedulesOnDestruction(const SchedulesOnDestruction&) = delete;
    ~SchedulesOnDestruction() {
      timers_->After(0ms, [done = done_] { done->set_value(); });
    }

   private:
    TimerQueue* timers_;
    std::promise<void>* done_;
  };
  auto owner = std::make_shared<SchedulesOnDestruction>(&timers, &rescheduled);
  timers.After(1ms, [owner = std::move(owner)] {});
  if (rescheduled.get_future().wait_for(5s) != std::future_status::ready) {
    // The timer thread is stuck on its own lock: the queue cannot be stopped.
    std::fprintf(stderr, "FAILED: the timer thread deadlocked destroying a callback\n");
    std::_Exit(1);
  }
}

TEST(TimerQueueTest, CallbacksStillPendingAtStopNeverRun) {
  std::atomic<int> ran{0};
  {
    TimerQueue timers;
    timers.After(1ms, [&] { ran.fetch_add(1); });
    timers.After(1h, [&] { ran.fetch_add(100); });
    for (int i = 0; i < 500 && ran.load() == 0; ++i) std::this_thread::sleep_for(2ms);
    timers.Stop();
    EXPECT_EQ(timers.pending(), 0u);
    timers.After(0ms, [&] { ran.fetch_add(1000); });  // after Stop: dropped
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace kstrand::runtime
