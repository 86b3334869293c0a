// Resources, in-process against the embedded cluster: a long-lived member
// leaks no file descriptors and no threads while other members join and leave
// the group 50 times (100 rebalances it takes part in); a handler that hangs
// does not hold shutdown past its deadline. CTest runs each test in a process
// of its own, so /proc/self holds only that scenario: the counts cover the
// runtime, librdkafka and the broker's side of every connection.
// tests/resources/*.sh hold the process-level checks (memory, SIGTERM).
#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include "mock/harness.h"

namespace kstrand::test {
namespace {

// Entries of a /proc directory, without "." and "..".
size_t CountEntries(const char* dir) {
  size_t n = 0;
  if (DIR* d = opendir(dir)) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}
// The fd count includes the one opendir holds while counting; it is the same
// in every count, so comparisons are exact.
size_t OpenFds() { return CountEntries("/proc/self/fd"); }
size_t Threads() { return CountEntries("/proc/self/task"); }

class ResourcesTest : public MockTest {};

TEST_F(ResourcesTest, FiftyMembersJoiningAndLeavingLeakNoFileDescriptorsOrThreads) {
  constexpr int kPartitions = 4;
  constexpr int kCycles = 50;
  const std::string topic = "churn";
  const std::string group = "churn-group";
  ASSERT_TRUE(cluster_->CreateTopic(topic, kPartitions).ok());
  // Members see a join or a leave at their next heartbeat: 3 s apart by
  // default, which would make the 50 cycles take 5 minutes.
  cluster_->SetGroupHeartbeatInterval(300ms);
  // Messages flowing while the group churns, so lanes are created with work in them.
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), topic, 40, 50).ok());
  // The rebalances the long-lived member takes part in: each join takes
  // partitions from it, each leave gives them back. (Stats().rebalances counts
  // callbacks, which include empty assignments.)
  std::atomic<int> gave{0}, got{0};
  RuntimeConfig config = BaseConfig(*cluster_, "stay", group, topic, Noop());
  config.on_rebalance = [&, log = config.on_rebalance](const RebalanceEvent& ev) {
    log(ev);
    if (ev.partitions.empty()) return;
    (ev.kind == RebalanceKind::kAssigned ? got : gave)++;
  };
  auto stay = MustCreate(std::move(config));
  ASSERT_TRUE(stay);
  ASSERT_TRUE(stay->Start().ok());
  auto owns_all = [&] { return stay->Assignment().size() == kPartitions; };
  ASSERT_TRUE(WaitUntil(owns_all, 60s)) << "stay: " << Describe(stay->Assignment());

  // One cycle: a member joins (the long-lived one gives up partitions: a
  // revocation), is seen owning partitions, leaves and is destroyed (the
  // long-lived one gets them back: an assignment). Waiting for both sides
  // keeps two cycles from merging into one rebalance.
  auto cycle = [&](int i) {
    auto visitor = MustCreate(BaseConfig(*cluster_, "visitor-" + std::to_string(i), group, topic, Noop()));
    ASSERT_TRUE(visitor);
    ASSERT_TRUE(visitor->Start().ok());
    ASSERT_TRUE(WaitUntil([&] { return !visitor->Assignment().empty() && !owns_all(); }, 60s))
        << "cycle " << i << ": visitor " << Describe(visitor->Assignment()) << ", stay "
        << Describe(stay->Assignment());
    StopWithin(*visitor);
    visitor.reset();
    ASSERT_TRUE(WaitUntil(owns_all, 60s)) << "cycle " << i << ": stay " << Describe(stay->Assignment());
  };

  // Warm-up: the first cycle creates what lives as long as the member (e.g.
  // the connection to the coordinator); only growth after it is a leak.
  cycle(0);
  const size_t fds_before = OpenFds();
  const size_t threads_before = Threads();
  const int gave_before = gave, got_before = got;
  for (int i = 1; i <= kCycles && !HasFatalFailure(); ++i) cycle(i);
  ASSERT_FALSE(HasFatalFailure());
  const int joins = gave - gave_before, leaves = got - got_before;

  // A departed member's connections close on the broker's side a moment after
  // the member is gone: give that a few seconds, then compare exactly.
  WaitUntil([&] { return OpenFds() <= fds_before && Threads() <= threads_before; }, 10s);
  const size_t fds_after = OpenFds();
  const size_t threads_after = Threads();
  std::printf("rebalances the long-lived member took part in: %d (%d gave partitions up, %d got them back); "
              "open fds %zu -> %zu; threads %zu -> %zu\n",
              joins + leaves, joins, leaves, fds_before, fds_after, threads_before, threads_after);
  EXPECT_GE(joins + leaves, 2 * kCycles);
  EXPECT_EQ(fds_after, fds_before);
  EXPECT_EQ(threads_after, threads_before);
  StopWithin(*stay);
  EXPECT_TRUE(stay->Wait().ok());
}

TEST_F(ResourcesTest, HungHandlerLeavesTheGroupAndStopReturnsWithinShutdownTimeoutCommittingNothingPastIt) {
  constexpr int64_t kHungAt = 5;
  const std::string topic = "hung";
  ASSERT_TRUE(cluster_->CreateTopic(topic, 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), topic, 1, 20).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;        // guarded by mu
  std::atomic<bool> hung{false};
  auto handler = [&](const Message& m) {
    if (m.offset().value() == kHungAt) {
      hung = true;
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
    }
    return Status::Ok();
  };
  RuntimeConfig c = BaseConfig(*cluster_, "hung", "hung-group", topic, handler);
  c.shutdown_timeout = 2s;
  // revoke.timeout keeps its default (10 s), longer than the shutdown timeout:
  // leaving the group revokes the partition, and that must not wait again.
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return hung.load(); }, 30s));

  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> stop_returned{false};
  std::thread stopper([&] {
    rt->Stop();
    stop_returned = true;
  });
  // Wait() returns once the runtime drained (up to shutdown.timeout), committed
  // and left the group; Stop() returns a grace of 1 s later, leaving the
  // handler to itself (runtime.h).
  auto waited = std::async(std::launch::async, [&] { return rt->Wait(); });
  const bool left = waited.wait_for(2s + 3s) == std::future_status::ready;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const bool stop_bounded = WaitUntil([&] { return stop_returned.load(); }, 2s + 1s + 3s - took);
  auto committed = OffsetReader::Create(cluster_->bootstrap(), "hung-group")->Committed(topic, 1);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();
  std::printf("with a hung handler the runtime left the group %lld ms after Stop() (shutdown timeout 2000 ms); "
              "committed %lld, hung at %lld\n",
              static_cast<long long>(took.count()), static_cast<long long>(committed[0]),
              static_cast<long long>(kHungAt));
  // The deadline: the 2 s shutdown timeout plus 3 s for the commit and the
  // leave, which take milliseconds on the embedded cluster.
  EXPECT_TRUE(left) << "the runtime had not left the group " << took.count() << " ms after Stop()";
  EXPECT_GE(took, 2s) << "the runtime did not wait for the handler";
  EXPECT_TRUE(stop_bounded) << "Stop() had not returned with the handler still hung";
  Status why = waited.get();
  EXPECT_EQ(why.code(), make_error_code(Errc::kTimedOut)) << why.ToString();
  EXPECT_NE(why.detail().find("hung[0]"), std::string::npos) << "the report does not name the partition: "
                                                             << why.detail();
  // Not past the hung message. Maybe below it: the messages before it in the
  // same slice of the lane complete with that slice.
  EXPECT_GE(committed[0], 0);
  EXPECT_LE(committed[0], kHungAt) << "committed past the hung message";
}

}  // namespace
}  // namespace kstrand::test
