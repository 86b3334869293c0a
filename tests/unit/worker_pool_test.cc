// WorkerPool::busy(): how `kstrand consume` tells a hung handler from a slow close.
#include "runtime/worker_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

namespace kstrand::runtime {
namespace {

// Runs once, blocking until `release` is set.
class BlockingTask : public Task {
 public:
  explicit BlockingTask(std::shared_future<void> release) : release_(std::move(release)) {}
  bool RunSome() override {
    started.set_value();
    release_.wait();
    return false;
  }
  std::promise<void> started;

 private:
  std::shared_future<void> release_;
};

template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return pred();
}

TEST(WorkerPoolTest, BusyCountsThreadsInsideATaskUntilItReturns) {
  WorkerPool pool(2);
  EXPECT_EQ(pool.busy(), 0u);
  std::promise<void> release;
  auto task = std::make_shared<BlockingTask>(release.get_future().share());
  auto started = task->started.get_future();
  pool.Schedule(task);
  started.wait();
  EXPECT_EQ(pool.busy(), 1u);
  release.set_value();
  EXPECT_TRUE(Eventually([&] { return pool.busy() == 0; })) << pool.busy();
  pool.Stop();
}

}  // namespace
}  // namespace kstrand::runtime
