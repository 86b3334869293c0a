// Lane in partition ordering: per-partition order on a shared pool, failure stops a
// lane without committing past it, revoke stops feeding, WaitIdle waits.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lane_rig.h"

namespace kstrand::runtime {
namespace {

using Clock = std::chrono::steady_clock;

TEST(LaneTest, PerPartitionOrderIsKeptWithManyWorkersAndManyLanes) {
  constexpr int kLanes = 16;
  constexpr int64_t kPerLane = 2000;
  // Written by whichever worker runs the lane; the lane's serial execution is
  // what makes these plain ints safe (ThreadSanitizer checks that claim).
  std::array<int64_t, kLanes> last{};
  std::array<int64_t, kLanes> seen{};
  std::array<std::atomic<int>, kLanes> running{};
  std::atomic<int> order_violations{0}, overlaps{0};
  last.fill(-1);

  Handler handler = [&](const Message& m) {
    const int32_t p = m.partition().value();
    if (running[p].fetch_add(1) != 0) overlaps++;
    if (m.offset().value() != last[p] + 1) order_violations++;
    last[p] = m.offset().value();
    seen[p]++;
    if (m.offset().value() % 97 == 0) std::this_thread::yield();  // shuffle the interleaving
    running[p].fetch_sub(1);
    return Status::Ok();
  };
  Rig rig(8);
  std::vector<std::shared_ptr<Lane>> lanes;
  for (int p = 0; p < kLanes; ++p) lanes.push_back(rig.MakeLane(p, handler));

  for (int64_t o = 0; o < kPerLane; ++o) {
    for (int p = 0; p < kLanes; ++p) ASSERT_TRUE(lanes[p]->Push(Msg(p, o)));
  }
  for (auto& lane : lanes) ASSERT_TRUE(lane->WaitIdle(In(30s))) << lane->partition().ToString();

  EXPECT_EQ(order_violations.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
  for (int p = 0; p < kLanes; ++p) {
    EXPECT_EQ(seen[p], kPerLane) << "partition " << p;
    EXPECT_EQ(last[p], kPerLane - 1) << "partition " << p;
    EXPECT_EQ(CommitOffset(*lanes[p]), kPerLane) << "partition " << p;
    auto s = lanes[p]->Snapshot();
    EXPECT_EQ(s.processed, static_cast<uint64_t>(kPerLane));
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.in_flight, 0u);
    EXPECT_EQ(s.queued, 0u);
  }
}

TEST(LaneTest, FailingHandlerStopsTheLaneAndCommittableStaysAtTheFailedOffset) {
  std::atomic<int64_t> max_seen{-1};
  std::atomic<int> calls{0};
  Handler handler = [&](const Message& m) {
    calls++;
    max_seen = std::max(max_seen.load(), m.offset().value());
    if (m.offset().value() == 5) return Status(Errc::kHandlerFailed, "boom");
    return Status::Ok();
  };
  Rig rig(4);
  auto lane = rig.MakeLane(0, handler);
  for (int64_t o = 0; o < 20; ++o) (void)lane->Push(Msg(0, o));  // later pushes may be refused
  ASSERT_TRUE(lane->WaitIdle(In(10s)));

  EXPECT_TRUE(lane->stopped());
  EXPECT_EQ(CommitOffset(*lane), 5);
  EXPECT_EQ(max_seen.load(), 5);  // nothing after the failed message ran
  EXPECT_EQ(calls.load(), 6);
  EXPECT_FALSE(lane->Push(Msg(0, 20)));  // a stopped lane refuses new messages
  EXPECT_EQ(CommitOffset(*lane), 5);
  auto s = lane->Snapshot();
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.processed, 5u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.frontier, 5);
}

TEST(LaneTest, ThrowingHandlerStopsTheLaneAndCommittableStaysAtTheThrowingOffset) {
  std::atomic<int64_t> max_seen{-1};
  Handler handler = [&](const Message& m) -> Status {
    max_seen = std::max(max_seen.load(), m.offset().value());
    if (m.offset().value() == 3) throw std::runtime_error("handler exploded");
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, handler);
  for (int64_t o = 0; o < 10; ++o) (void)lane->Push(Msg(0, o));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));

  EXPECT_TRUE(lane->stopped());
  EXPECT_EQ(CommitOffset(*lane), 3);
  EXPECT_EQ(max_seen.load(), 3);
  EXPECT_FALSE(lane->Push(Msg(0, 10)));
  EXPECT_EQ(lane->Snapshot().failed, 1u);
  EXPECT_EQ(lane->Snapshot().processed, 3u);
}

TEST(LaneTest, InvokeHandlerTurnsExceptionsIntoHandlerFailedWithTheirText) {
  Message m = Msg(0, 0);
  Handler std_throw = [](const Message&) -> Status { throw std::runtime_error("disk on fire"); };
  Status st = InvokeHandler(std_throw, m);
  EXPECT_EQ(st.code(), make_error_code(Errc::kHandlerFailed));
  EXPECT_NE(st.detail().find("disk on fire"), std::string::npos) << st.detail();

  Handler odd_throw = [](const Message&) -> Status { throw 42; };
  st = InvokeHandler(odd_throw, m);
  EXPECT_EQ(st.code(), make_error_code(Errc::kHandlerFailed));

  Handler returns_error = [](const Message&) { return Status(Errc::kNotFound, "no such customer"); };
  st = InvokeHandler(returns_error, m);
  EXPECT_EQ(st.code(), make_error_code(Errc::kNotFound));  // the handler's own code is kept
  EXPECT_EQ(st.detail(), "no such customer");

  Handler fine = [](const Message&) { return Status::Ok(); };
  EXPECT_TRUE(InvokeHandler(fine, m).ok());
}

TEST(LaneTest, RevokeWithDropStopsFeedingAndFrontierStopsAtTheFirstDroppedOffset) {
  Gate entered, release;
  std::atomic<int64_t> max_seen{-1};
  std::atomic<int> calls{0};
  Handler handler = [&](const Message& m) {
    calls++;
    max_seen = std::max(max_seen.load(), m.offset().value());
    if (m.offset().value() == 10) {
      entered.Open();
      release.Wait();
    }
    return Status::Ok();
  };
  Rig rig(4);
  auto lane = rig.MakeLane(0, handler);
  for (int64_t o = 0; o < 200; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(entered.Wait());

  lane->Revoke(/*drop_buffered=*/true);
  EXPECT_FALSE(lane->Push(Msg(0, 200)));  // no more feeding after revoke
  EXPECT_FALSE(lane->WaitIdle(In(50ms)));  // offset 10 is still in flight
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));

  EXPECT_EQ(max_seen.load(), 10);  // the in-flight slice stopped after the running message
  EXPECT_EQ(calls.load(), 11);
  EXPECT_EQ(CommitOffset(*lane), 11);  // the first dropped offset: the next owner reads it
  auto s = lane->Snapshot();
  EXPECT_EQ(s.processed, 11u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_FALSE(s.stopped);  // revoked, not failed
}

// Key order: a revoke drops the sub-lanes waiting in the pool's queue, and the
// pool runs each of them once more; they must leave the lane only once (the
// second time, the lane's bookkeeping must not take another sub-lane with it).
TEST(LaneTest, SubLanesDroppedByARevokeWhileQueuedInThePoolLeaveTheLaneOnce) {
  Gate entered, release;
  std::atomic<int> calls{0};
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.handler = [&](const Message& m) {
    calls++;
    if (m.offset().value() == 0) {
      entered.Open();
      release.Wait();
    }
    return Status::Ok();
  };
  Rig rig(1);  // one worker: while offset 0 runs, every other key waits in the pool's queue
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int64_t o = 0; o < 50; ++o) ASSERT_TRUE(lane->Push(Msg(0, o, "v", "key-" + std::to_string(o))));
  ASSERT_TRUE(entered.Wait());
  lane->Revoke(/*drop_buffered=*/true);
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(CommitOffset(*lane), 1);
  auto s = lane->Snapshot();
  EXPECT_EQ(s.processed, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

TEST(LaneTest, RevokeWithoutDropStillRunsEverythingQueued) {
  Gate entered, release;
  std::atomic<int64_t> count{0};
  Handler handler = [&](const Message& m) {
    if (m.offset().value() == 10) {
      entered.Open();
      release.Wait();
    }
    count++;
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, handler);
  for (int64_t o = 0; o < 200; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(entered.Wait());
  lane->Revoke(/*drop_buffered=*/false);
  EXPECT_FALSE(lane->Push(Msg(0, 200)));
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(count.load(), 200);
  EXPECT_EQ(CommitOffset(*lane), 200);
}

TEST(LaneTest, WaitIdleWaitsForAnInFlightSlowMessage) {
  Gate entered;
  std::atomic<bool> finished{false};
  Handler handler = [&](const Message&) {
    entered.Open();
    std::this_thread::sleep_for(300ms);
    finished = true;
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, handler);
  ASSERT_TRUE(lane->Push(Msg(0, 0)));
  ASSERT_TRUE(entered.Wait());
  auto start = Clock::now();

  EXPECT_FALSE(lane->WaitIdle(In(20ms)));  // a deadline before the handler ends: false
  EXPECT_FALSE(finished.load());
  EXPECT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_TRUE(finished.load());
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_EQ(CommitOffset(*lane), 1);
}

TEST(LaneTest, FullAtTheMessageLimitAndOnRoomCalledWhenAPausedLaneDrains) {
  Gate entered, release;
  std::atomic<int> on_room_calls{0};
  Handler handler = [&](const Message& m) {
    if (m.offset().value() == 0) {
      entered.Open();
      release.Wait();
    }
    return Status::Ok();
  };
  Rig rig(2, LaneLimits{10, 1 << 20}, [&] { on_room_calls++; });
  auto lane = rig.MakeLane(0, handler);
  ASSERT_TRUE(lane->Push(Msg(0, 0)));
  ASSERT_TRUE(entered.Wait());  // offset 0 is in flight; everything below stays buffered
  for (int64_t o = 1; o <= 9; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  EXPECT_FALSE(lane->Full());  // 9 buffered
  ASSERT_TRUE(lane->Push(Msg(0, 10)));
  EXPECT_TRUE(lane->Full());  // 10 buffered: at the limit
  EXPECT_FALSE(lane->HasRoom());
  lane->SetPaused(true);  // what the poll thread does on Full()

  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_FALSE(lane->Full());
  EXPECT_TRUE(lane->HasRoom());
  EXPECT_GE(on_room_calls.load(), 1);
  EXPECT_EQ(CommitOffset(*lane), 11);
}

TEST(LaneTest, FullAtTheByteLimit) {
  Gate entered, release;
  Handler handler = [&](const Message& m) {
    if (m.offset().value() == 0) {
      entered.Open();
      release.Wait();
    }
    return Status::Ok();
  };
  Rig rig(1, LaneLimits{1000, 1024});
  auto lane = rig.MakeLane(0, handler);
  ASSERT_TRUE(lane->Push(Msg(0, 0)));
  ASSERT_TRUE(entered.Wait());
  const std::string value(99, 'x');  // 100 bytes with the one-byte key
  for (int64_t o = 1; o <= 10; ++o) ASSERT_TRUE(lane->Push(Msg(0, o, value)));
  EXPECT_FALSE(lane->Full());  // 1000 bytes
  ASSERT_TRUE(lane->Push(Msg(0, 11, value)));
  EXPECT_TRUE(lane->Full());  // 1100 bytes >= 1024
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_TRUE(lane->HasRoom());
}

}  // namespace
}  // namespace kstrand::runtime
