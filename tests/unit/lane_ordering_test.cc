// Lane beyond partition order: key and unordered sub-lanes, async and batch
// handlers, the in-flight limit, out-of-order frontiers and their commit
// metadata, retries and failure policies, and the predecessor wait.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lane_rig.h"
#include "runtime/offset_metadata.h"

namespace kstrand::runtime {
namespace {

// Per-key bookkeeping shared by handlers: flags a key running on two threads
// at once, or out of its offset order.
class KeyChecker {
 public:
  void Enter(const Message& m) {
    std::lock_guard lock(mu_);
    auto& k = keys_[Key(m)];
    if (k.running) overlaps_++;
    k.running = true;
    if (m.offset().value() <= k.last) order_violations_++;
    k.last = m.offset().value();
    ++seen_;
  }
  void Leave(const Message& m) {
    std::lock_guard lock(mu_);
    keys_[Key(m)].running = false;
  }
  int overlaps() const { std::lock_guard lock(mu_); return overlaps_; }
  int order_violations() const { std::lock_guard lock(mu_); return order_violations_; }
  size_t seen() const { std::lock_guard lock(mu_); return seen_; }

 private:
  static std::string Key(const Message& m) { return m.key() ? "k:" + std::string(*m.key()) : "null"; }
  struct State {
    bool running = false;
    int64_t last = -1;
  };
  mutable std::mutex mu_;
  std::map<std::string, State> keys_;
  int overlaps_ = 0, order_violations_ = 0;
  size_t seen_ = 0;
};

// Messages of partition 0 with keys drawn from `keys` (some null when
// null_every > 0), offsets 0..n-1.
std::vector<Message> KeyedMessages(int n, int keys, int null_every = 0, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::vector<Message> out;
  for (int o = 0; o < n; ++o) {
    std::optional<std::string> key = "key" + std::to_string(rng() % keys);
    if (null_every > 0 && o % null_every == 0) key.reset();
    out.push_back(Msg(0, o, "v", key));
  }
  return out;
}

TEST(LaneOrderingTest, KeyOrderHoldsAndNoKeyRunsTwiceUnderRandomLatencyWithManyKeys) {
  constexpr int kMessages = 6000;
  KeyChecker check;
  std::atomic<int> concurrent{0}, max_concurrent{0};
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.handler = [&](const Message& m) {
    check.Enter(m);
    int now = ++concurrent;
    int prev = max_concurrent.load();
    while (now > prev && !max_concurrent.compare_exchange_weak(prev, now)) {
    }
    thread_local std::minstd_rand rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
    concurrent--;
    check.Leave(m);
    return Status::Ok();
  };
  Rig rig(8);
  auto lane = rig.MakeLane(0, std::move(spec));
  auto messages = KeyedMessages(kMessages, 300, /*null_every=*/17);
  ASSERT_TRUE(lane->Push(messages));
  ASSERT_TRUE(lane->WaitIdle(In(60s)));

  EXPECT_EQ(check.seen(), static_cast<size_t>(kMessages));
  EXPECT_EQ(check.overlaps(), 0);
  EXPECT_EQ(check.order_violations(), 0);
  EXPECT_GT(max_concurrent.load(), 1) << "key ordering should run different keys of one partition in parallel";
  EXPECT_EQ(CommitOffset(*lane), kMessages);
  EXPECT_EQ(lane->Committable()->metadata, "");  // nothing above the frontier
}

TEST(LaneOrderingTest, AsyncHandlerKeepsKeyOrderWithTimerCompletionsAndRespectsTheInFlightLimit) {
  constexpr int kMessages = 5000;
  constexpr size_t kLimit = 64;
  KeyChecker check;
  std::atomic<int> outstanding{0}, max_outstanding{0};
  TimerQueue io;  // simulated I/O: a completion later, on another thread
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.async_handler = [&](const Message& m, Completion done) {
    check.Enter(m);
    int now = ++outstanding;
    int prev = max_outstanding.load();
    while (now > prev && !max_outstanding.compare_exchange_weak(prev, now)) {
    }
    thread_local std::minstd_rand rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    io.After(std::chrono::microseconds(rng() % 2000), [&, &m = m, done] {
      outstanding--;
      check.Leave(m);
      done(Status::Ok());
    });
  };
  // One worker: parallelism comes from the limit, not from threads.
  Rig rig(1, LaneLimits{}, {}, kLimit);
  auto lane = rig.MakeLane(0, std::move(spec));
  auto messages = KeyedMessages(kMessages, 1000, /*null_every=*/50);
  ASSERT_TRUE(lane->Push(messages));
  ASSERT_TRUE(lane->WaitIdle(In(60s)));

  EXPECT_EQ(check.seen(), static_cast<size_t>(kMessages));
  EXPECT_EQ(check.overlaps(), 0);
  EXPECT_EQ(check.order_violations(), 0);
  EXPECT_LE(max_outstanding.load(), static_cast<int>(kLimit));
  EXPECT_GT(max_outstanding.load(), static_cast<int>(kLimit / 2)) << "async work should fill the limit";
  EXPECT_EQ(rig.env().in_flight().in_use(), 0u);
  EXPECT_EQ(CommitOffset(*lane), kMessages);
}

TEST(LaneOrderingTest, NullKeysShareOneSubLaneAndRunSerially) {
  KeyChecker check;
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.handler = [&](const Message& m) {
    check.Enter(m);
    std::this_thread::sleep_for(200us);
    check.Leave(m);
    return Status::Ok();
  };
  Rig rig(8);
  auto lane = rig.MakeLane(0, std::move(spec));
  std::vector<Message> messages;
  for (int o = 0; o < 400; ++o) messages.push_back(Msg(0, o, "v", std::nullopt));
  ASSERT_TRUE(lane->Push(messages));
  ASSERT_TRUE(lane->WaitIdle(In(30s)));
  EXPECT_EQ(check.seen(), 400u);
  EXPECT_EQ(check.overlaps(), 0);  // every null-key message on the one sub-lane
  EXPECT_EQ(check.order_violations(), 0);
}

TEST(LaneOrderingTest, UnorderedAsyncRunsAsManyAsTheLimitAllowsOnOneWorker) {
  std::mutex mu;
  std::vector<Completion> held;
  TopicHandler spec;
  spec.ordering = Ordering::kUnordered;
  spec.async_handler = [&](const Message&, Completion done) {
    std::lock_guard lock(mu);
    held.push_back(std::move(done));
  };
  Rig rig(1, LaneLimits{}, {}, /*max_in_flight=*/10);
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 25; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  auto held_count = [&] {
    std::lock_guard lock(mu);
    return held.size();
  };
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 2000 && held_count() < n; ++i) std::this_thread::sleep_for(1ms);
    return held_count();
  };
  EXPECT_EQ(wait_for(10), 10u);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(held_count(), 10u) << "the limit must hold the rest back";
  EXPECT_EQ(rig.env().in_flight().in_use(), 10u);

  // Complete out of order: the frontier stays at the lowest incomplete offset.
  std::vector<Completion> batch;
  {
    std::lock_guard lock(mu);
    batch.assign(held.begin() + 1, held.end());  // all but offset 0
    held.erase(held.begin() + 1, held.end());
  }
  for (auto& done : batch) done(Status::Ok());
  EXPECT_EQ(wait_for(10), 10u);  // offset 0 and nine new ones
  EXPECT_EQ(rig.env().in_flight().in_use(), 10u);
  EXPECT_EQ(CommitOffset(*lane), 0);
  auto commit = lane->Committable();
  auto above = DecodeCompletions(commit->offset, commit->metadata);
  ASSERT_TRUE(above.ok()) << above.status().ToString();
  EXPECT_EQ(*above, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));

  // Finish everything, late starters included.
  for (;;) {
    std::vector<Completion> now;
    {
      std::lock_guard lock(mu);
      now.swap(held);
    }
    for (auto& done : now) done(Status::Ok());
    if (lane->Idle()) break;
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(CommitOffset(*lane), 25);
  EXPECT_EQ(lane->Snapshot().processed, 25u);
}

TEST(LaneOrderingTest, FrontierNeverPassesAnIncompleteMessageAndMetadataListsTheCompletedAboveIt) {
  Gate release;
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.handler = [&](const Message& m) {
    if (m.offset().value() == 3) release.Wait();  // key "slow" holds offset 3
    return Status::Ok();
  };
  Rig rig(4);
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 10; ++o) ASSERT_TRUE(lane->Push(Msg(0, o, "v", o == 3 ? "slow" : "k" + std::to_string(o))));
  for (int i = 0; i < 2000 && lane->Snapshot().processed < 9; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(lane->Snapshot().processed, 9u);
  auto commit = lane->Committable();
  EXPECT_EQ(commit->offset, 3);
  auto above = DecodeCompletions(commit->offset, commit->metadata);
  ASSERT_TRUE(above.ok());
  EXPECT_EQ(*above, (std::vector<int64_t>{4, 5, 6, 7, 8, 9}));
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(CommitOffset(*lane), 10);
  EXPECT_EQ(lane->Committable()->metadata, "");
}

TEST(LaneOrderingTest, OffsetsCompletedByAPreviousOwnerAreSkipped) {
  std::mutex mu;
  std::vector<int64_t> ran;
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.handler = [&](const Message& m) {
    std::lock_guard lock(mu);
    ran.push_back(m.offset().value());
    return Status::Ok();
  };
  Rig rig(1);
  auto lane = rig.MakeLane(0, std::move(spec), /*already_done=*/{5, 6, 9, 42});
  for (int o = 3; o < 12; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(ran, (std::vector<int64_t>{3, 4, 7, 8, 10, 11}));
  EXPECT_EQ(CommitOffset(*lane), 12);
}

TEST(LaneOrderingTest, RetriesWaitWithBackoffAndKeepPartitionOrder) {
  std::mutex mu;
  std::vector<int64_t> ran;
  std::map<int64_t, int> attempts;
  TopicHandler spec;
  spec.on_failure.max_attempts = 3;
  spec.on_failure.backoff = 20ms;
  spec.handler = [&](const Message& m) {
    std::lock_guard lock(mu);
    ran.push_back(m.offset().value());
    if (m.offset().value() == 2 && ++attempts[2] < 3) return Status(Errc::kHandlerFailed, "flaky");
    return Status::Ok();
  };
  Rig rig(4);
  auto lane = rig.MakeLane(0, std::move(spec));
  auto start = std::chrono::steady_clock::now();
  for (int o = 0; o < 6; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  // Attempt 2 after ~20 ms, attempt 3 after ~40 ms more (both +-20%).
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  EXPECT_EQ(ran, (std::vector<int64_t>{0, 1, 2, 2, 2, 3, 4, 5}));
  auto s = lane->Snapshot();
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.processed, 6u);
  EXPECT_EQ(CommitOffset(*lane), 6);
}

TEST(LaneOrderingTest, ARetryingKeyHoldsOnlyItsOwnKeyBack) {
  std::mutex mu;
  std::vector<std::string> ran;  // "key@offset"
  std::atomic<bool> failed_once{false};
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.on_failure.max_attempts = 2;
  spec.on_failure.backoff = 300ms;
  spec.handler = [&](const Message& m) {
    std::lock_guard lock(mu);
    ran.push_back(std::string(*m.key()) + "@" + std::to_string(m.offset().value()));
    if (m.offset().value() == 0 && !failed_once.exchange(true)) return Status(Errc::kHandlerFailed, "once");
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, std::move(spec));
  ASSERT_TRUE(lane->Push(Msg(0, 0, "v", "a")));
  ASSERT_TRUE(lane->Push(Msg(0, 1, "v", "a")));
  ASSERT_TRUE(lane->Push(Msg(0, 2, "v", "b")));
  ASSERT_TRUE(lane->Push(Msg(0, 3, "v", "b")));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  // Each key kept its own order; b ran while a waited out its backoff.
  std::vector<std::string> a, b;
  for (const auto& r : ran) (r[0] == 'a' ? a : b).push_back(r);
  EXPECT_EQ(a, (std::vector<std::string>{"a@0", "a@0", "a@1"}));
  EXPECT_EQ(b, (std::vector<std::string>{"b@2", "b@3"}));
  auto retry = std::find(std::find(ran.begin(), ran.end(), "a@0") + 1, ran.end(), "a@0");
  EXPECT_LT(std::find(ran.begin(), ran.end(), "b@3"), retry) << "b waited for a's retry";
  EXPECT_EQ(CommitOffset(*lane), 4);
}

TEST(LaneOrderingTest, SkipPolicyCountsTheMessageAsDoneAfterItsLastAttempt) {
  std::atomic<int> calls_for_poison{0};
  TopicHandler spec;
  spec.on_failure.max_attempts = 2;
  spec.on_failure.backoff = 1ms;
  spec.on_failure.then = FailureAction::kSkip;
  spec.handler = [&](const Message& m) {
    if (m.offset().value() == 4) {
      calls_for_poison++;
      throw std::runtime_error("poison");
    }
    return Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 10; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_EQ(calls_for_poison.load(), 2);
  auto s = lane->Snapshot();
  EXPECT_EQ(s.processed, 9u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(CommitOffset(*lane), 10);
}

TEST(LaneOrderingTest, StopRuntimePolicyStopsThePartitionAndAsksTheRuntimeToStop) {
  TopicHandler spec;
  spec.on_failure.then = FailureAction::kStopRuntime;
  spec.handler = [](const Message& m) {
    return m.offset().value() == 2 ? Status(Errc::kHandlerFailed, "bad record") : Status::Ok();
  };
  Rig rig(2);
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 5; ++o) (void)lane->Push(Msg(0, o));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_TRUE(lane->stopped());
  EXPECT_EQ(CommitOffset(*lane), 2);
  auto why = rig.env().stop_request();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->detail().find("t[0] offset 2"), std::string::npos) << why->detail();
  EXPECT_NE(why->detail().find("bad record"), std::string::npos) << why->detail();
}

TEST(LaneOrderingTest, ADroppedCompletionFailsItsMessageInsteadOfHangingThePartition) {
  TopicHandler spec;
  spec.async_handler = [](const Message& m, Completion done) {
    if (m.offset().value() != 1) done(Status::Ok());
    // offset 1: the completion is dropped uncalled
  };
  Rig rig(1);
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 4; ++o) (void)lane->Push(Msg(0, o));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_TRUE(lane->stopped());
  EXPECT_EQ(CommitOffset(*lane), 1);
  EXPECT_EQ(lane->Snapshot().failed, 1u);
  EXPECT_EQ(rig.env().in_flight().in_use(), 0u);
}

TEST(LaneOrderingTest, BatchHandlerGetsConsecutiveMessagesOfOneKeyAndARetryRepeatsTheWholeBatch) {
  std::mutex mu;
  std::vector<std::vector<int64_t>> batches;
  std::atomic<bool> failed_once{false};
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.on_failure.max_attempts = 2;
  spec.on_failure.backoff = 1ms;
  Gate first_batch_may_finish;
  spec.batch_handler = [&](std::span<const Message> ms) {
    std::vector<int64_t> offsets;
    std::string key(*ms.front().key());
    for (const Message& m : ms) {
      EXPECT_EQ(*m.key(), key) << "a batch mixes keys";
      offsets.push_back(m.offset().value());
    }
    {
      std::lock_guard lock(mu);
      batches.push_back(offsets);
    }
    if (key == "a" && !failed_once.exchange(true)) return Status(Errc::kHandlerFailed, "batch failed");
    return Status::Ok();
  };
  Rig rig(1, LaneLimits{10000, 1 << 20, 20000, /*batch_max_messages=*/3});
  auto lane = rig.MakeLane(0, std::move(spec));
  std::vector<Message> ms;
  for (int o = 0; o < 8; ++o) ms.push_back(Msg(0, o, "v", o % 2 == 0 ? "a" : "b"));
  ASSERT_TRUE(lane->Push(ms));
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  std::lock_guard lock(mu);
  // a: [0,2,4] failed, then [0,2,4] again, then [6]; b: [1,3,5], [7].
  std::vector<std::vector<int64_t>> a, b;
  for (auto& batch : batches) (batch.front() % 2 == 0 ? a : b).push_back(batch);
  EXPECT_EQ(a, (std::vector<std::vector<int64_t>>{{0, 2, 4}, {0, 2, 4}, {6}}));
  EXPECT_EQ(b, (std::vector<std::vector<int64_t>>{{1, 3, 5}, {7}}));
  EXPECT_EQ(CommitOffset(*lane), 8);
  EXPECT_EQ(lane->Snapshot().processed, 8u);
}

TEST(LaneOrderingTest, MaxAheadPausesAPartitionWhoseFrontierIsStuck) {
  Gate release;
  TopicHandler spec;
  spec.ordering = Ordering::kUnordered;
  spec.handler = [&](const Message& m) {
    if (m.offset().value() == 0) release.Wait();
    return Status::Ok();
  };
  Rig rig(4, LaneLimits{10000, 1 << 20, /*max_ahead=*/100, 64});
  auto lane = rig.MakeLane(0, std::move(spec));
  for (int o = 0; o < 99; ++o) ASSERT_TRUE(lane->Push(Msg(0, o)));
  for (int i = 0; i < 2000 && lane->Snapshot().processed < 98; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(lane->Full());  // 99 offsets past a frontier at 0
  ASSERT_TRUE(lane->Push(Msg(0, 99)));
  EXPECT_TRUE(lane->Full()) << "nothing is buffered, but the span would outgrow the metadata";
  EXPECT_TRUE(lane->TryPause());
  release.Open();
  ASSERT_TRUE(lane->WaitIdle(In(10s)));
  EXPECT_TRUE(lane->HasRoom());
  EXPECT_EQ(CommitOffset(*lane), 100);
}

TEST(LaneOrderingTest, ANewLaneForThePartitionWaitsUntilTheRevokedOnesWorkIsDone) {
  std::mutex mu;
  std::vector<Completion> held;
  std::atomic<int> running_key_a{0}, overlaps{0};
  TopicHandler spec;
  spec.ordering = Ordering::kKey;
  spec.async_handler = [&](const Message&, Completion done) {
    if (running_key_a.fetch_add(1) != 0) overlaps++;
    std::lock_guard lock(mu);
    held.push_back(std::move(done));
  };
  Rig rig(2);
  auto old_lane = rig.MakeLane(0, spec);
  ASSERT_TRUE(old_lane->Push(Msg(0, 0, "v", "a")));
  for (int i = 0; i < 2000 && running_key_a.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  old_lane->Revoke(/*drop_buffered=*/true);
  EXPECT_FALSE(old_lane->WaitIdle(In(20ms)));  // a revoke that timed out

  auto new_lane = rig.MakeLane(0, spec);
  new_lane->After(old_lane);
  ASSERT_TRUE(new_lane->Push(Msg(0, 0, "v", "a")));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(running_key_a.load(), 1) << "the new lane ran key a beside the old lane's in-flight message";

  running_key_a--;
  Completion old_done = [&] {
    std::lock_guard lock(mu);
    Completion c = held.front();
    held.clear();
    return c;
  }();
  old_done(Status::Ok());
  for (int i = 0; i < 2000 && running_key_a.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(running_key_a.load(), 1) << "the new lane never started after its predecessor finished";
  running_key_a--;
  {
    std::lock_guard lock(mu);
    for (auto& done : held) done(Status::Ok());
  }
  ASSERT_TRUE(new_lane->WaitIdle(In(10s)));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(CommitOffset(*new_lane), 1);
}

}  // namespace
}  // namespace kstrand::runtime
