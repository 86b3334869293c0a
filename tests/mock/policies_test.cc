// Key ordering, async handlers and failure policies on the embedded cluster:
// a poison message goes to the dead-letter topic and its partition flows on;
// a rebalance in the middle of out-of-order work hands the completed messages
// over in the commit metadata (nothing runs twice); kStopRuntime ends Wait().
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>

#include "harness.h"
#include "runtime/timer_queue.h"

namespace kstrand::test {
namespace {

class PoliciesTest : public MockTest {};

TEST_F(PoliciesTest, PoisonMessageReachesTheDeadLetterTopicAfterItsAttemptsAndItsPartitionKeepsFlowing) {
  constexpr int kPerPartition = 50;
  ASSERT_TRUE(cluster_->CreateTopic("orders", 2).ok());
  ASSERT_TRUE(cluster_->CreateTopic("orders-dlq", 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "orders", 2, kPerPartition).ok());

  std::atomic<int> poison_attempts{0};
  SeenLog seen;
  Handler handler = [&](const Message& m) {
    if (m.partition().value() == 0 && m.offset().value() == 7) {
      poison_attempts++;
      return Status(Errc::kHandlerFailed, "cannot parse order");
    }
    seen.Record(m);
    return Status::Ok();
  };
  RuntimeConfig c = BaseConfig(*cluster_, "a", "orders-group", "orders", handler);
  c.topics[0].ordering = Ordering::kKey;
  c.topics[0].on_failure = FailurePolicy{3, 10ms, 100ms, FailureAction::kDeadLetter, "orders-dlq"};
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());

  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == 2 * kPerPartition - 1; }, 30s)) << "seen " << seen.unique();
  auto reader = OffsetReader::Create(cluster_->bootstrap(), "orders-group");
  ASSERT_TRUE(reader);
  EXPECT_TRUE(WaitUntil(
      [&] { return reader->Committed("orders", 2) == std::map<int32_t, int64_t>{{0, 50}, {1, 50}}; }, 10s))
      << "the dead-lettered message must not hold its partition's offset back";
  auto stats = rt->Stats();
  StopWithin(*rt);

  EXPECT_EQ(poison_attempts.load(), 3);
  EXPECT_EQ(stats.dead_lettered, 1u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(seen.duplicates(), 0u);

  auto dlq = ReadTopic(cluster_->bootstrap(), "orders-dlq", 1, 2, 3s);  // asks for 2: exactly 1 must come
  ASSERT_EQ(dlq.size(), 1u);
  const ReadRecord& r = dlq[0];
  EXPECT_EQ(r.key, "p0");
  EXPECT_EQ(r.value, "p0:7");
  EXPECT_EQ(r.headers.at("kstrand-source-topic"), "orders");
  EXPECT_EQ(r.headers.at("kstrand-source-partition"), "0");
  EXPECT_EQ(r.headers.at("kstrand-source-offset"), "7");
  EXPECT_EQ(r.headers.at("kstrand-attempts"), "3");
  EXPECT_NE(r.headers.at("kstrand-error").find("cannot parse order"), std::string::npos)
      << r.headers.at("kstrand-error");
}

TEST_F(PoliciesTest, RebalanceInTheMiddleOfOutOfOrderWorkProcessesNothingTwice) {
  constexpr int kKeys = 40;
  constexpr int kPerKey = 25;
  constexpr size_t kTotal = kKeys * kPerKey;
  ASSERT_TRUE(cluster_->CreateTopic("events", 2).ok());
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "events", kKeys, kPerKey).ok());

  // Offset 0 of each partition blocks its key; every other key completes, out
  // of order, above a frontier stuck at 0. When A's revoke begins, the blocked
  // attempt fails: on the revoked partition the lane drops it (the next owner
  // runs it), on the kept one it succeeds on its retry.
  std::atomic<Runtime*> a_rt{nullptr};
  std::atomic<uint64_t> rebalances_before_join{UINT64_MAX};
  std::map<int32_t, std::atomic<int>> attempts_at_zero;
  attempts_at_zero[0];
  attempts_at_zero[1];
  SeenLog seen;
  std::mutex mu;
  std::map<int32_t, int> b_processed;  // guarded by mu
  Handler a_handler = [&](const Message& m) {
    if (m.offset().value() == 0 && attempts_at_zero.at(m.partition().value())++ == 0) {
      WaitUntil([&] { return a_rt.load()->Stats().rebalances > rebalances_before_join.load(); }, 60s);
      return Status(Errc::kHandlerFailed, "interrupted by the rebalance");
    }
    seen.Record(m);
    return Status::Ok();
  };
  Handler b_handler = [&](const Message& m) {
    seen.Record(m);
    std::lock_guard lock(mu);
    b_processed[m.partition().value()]++;
    return Status::Ok();
  };
  auto key_ordered = [&](const std::string& name, Handler h) {
    RuntimeConfig c = BaseConfig(*cluster_, name, "events-group", "events", std::move(h));
    c.topics[0].ordering = Ordering::kKey;
    c.topics[0].on_failure.max_attempts = 2;
    c.topics[0].on_failure.backoff = 300ms;
    c.workers = 4;
    return c;
  };
  auto a = MustCreate(key_ordered("a", a_handler));
  ASSERT_TRUE(a);
  a_rt = a.get();
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->Assignment().size() == 2; }, 30s));
  // Everything but the two blocked keys (kPerKey messages each) completes.
  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == kTotal - 2 * kPerKey; }, 30s)) << "seen " << seen.unique();
  rebalances_before_join = a->Stats().rebalances;
  // The periodic commit carries the completions; let one pass so the handover
  // does not depend on it only.
  std::this_thread::sleep_for(300ms);

  auto b = MustCreate(key_ordered("b", b_handler));
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == kTotal; }, 60s))
      << "seen " << seen.unique() << " of " << kTotal << "; B owns " << Describe(b->Assignment());
  auto b_owns = b->Assignment();
  StopWithin(*b);
  StopWithin(*a);

  EXPECT_EQ(seen.duplicates(), 0u) << seen.DescribeDuplicates();
  ASSERT_EQ(b_owns.size(), 1u) << "B should have taken one of A's two partitions";
  std::lock_guard lock(mu);
  // B ran only the blocked key's messages: the rest came with the commit metadata.
  EXPECT_EQ(b_processed[b_owns[0].partition.value()], kPerKey);
}

TEST_F(PoliciesTest, AsyncKeyOrderedRuntimeProcessesEveryMessageOnceInKeyOrder) {
  constexpr int kPartitions = 6;
  constexpr int kKeys = 200;
  constexpr int kPerKey = 20;
  constexpr size_t kTotal = kKeys * kPerKey;
  ASSERT_TRUE(cluster_->CreateTopic("async", kPartitions).ok());
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "async", kKeys, kPerKey).ok());

  runtime::TimerQueue io;
  std::mutex mu;
  std::unordered_map<std::string, int64_t> last_seq;  // guarded by mu
  int seq_violations = 0;                             // guarded by mu
  SeenLog seen;
  std::atomic<size_t> peak_in_flight{0};
  std::atomic<Runtime*> rt_ptr{nullptr};
  RuntimeConfig c = BaseConfig(*cluster_, "a", "async-group", "async", nullptr);
  c.topics[0].ordering = Ordering::kKey;
  c.topics[0].async_handler = [&](const Message& m, Completion done) {
    {
      std::lock_guard lock(mu);
      auto [key, seq] = ParseValue(m.value());
      auto [it, first] = last_seq.emplace(key, seq);
      if (first ? seq != 0 : seq != it->second + 1) seq_violations++;
      it->second = seq;
    }
    seen.Record(m);
    if (Runtime* rt = rt_ptr.load()) {
      size_t now = rt->Stats().in_flight;
      size_t prev = peak_in_flight.load();
      while (now > prev && !peak_in_flight.compare_exchange_weak(prev, now)) {
      }
    }
    thread_local std::minstd_rand rng(7);
    io.After(std::chrono::microseconds(500 + rng() % 3000), [done] { done(Status::Ok()); });
  };
  c.workers = 1;
  c.max_in_flight = 100;
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  rt_ptr = rt.get();
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == kTotal; }, 60s)) << "seen " << seen.unique();
  auto reader = OffsetReader::Create(cluster_->bootstrap(), "async-group");
  ASSERT_TRUE(reader);
  auto ends = reader->HighWatermarks("async", kPartitions);
  EXPECT_TRUE(WaitUntil([&] { return reader->Committed("async", kPartitions) == ends; }, 10s));
  StopWithin(*rt);

  std::lock_guard lock(mu);
  EXPECT_EQ(seq_violations, 0);
  EXPECT_EQ(seen.duplicates(), 0u);
  EXPECT_EQ(last_seq.size(), static_cast<size_t>(kKeys));
  EXPECT_LE(peak_in_flight.load(), 100u);
  EXPECT_GT(peak_in_flight.load(), 10u) << "one worker thread should still keep many messages in flight";
}

TEST_F(PoliciesTest, StopRuntimePolicyEndsWaitWithTheFailureNamingTheMessage) {
  ASSERT_TRUE(cluster_->CreateTopic("strict", 1).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "strict", 1, 20).ok());
  RuntimeConfig c = BaseConfig(*cluster_, "a", "strict-group", "strict", [](const Message& m) {
    return m.offset().value() == 12 ? Status(Errc::kHandlerFailed, "invariant broken") : Status::Ok();
  });
  c.topics[0].on_failure.then = FailureAction::kStopRuntime;
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return !rt->running(); }, 30s)) << "the runtime did not stop";
  Status st = rt->Wait();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.detail().find("strict[0] offset 12"), std::string::npos) << st.ToString();
  EXPECT_NE(st.detail().find("invariant broken"), std::string::npos) << st.ToString();
  auto reader = OffsetReader::Create(cluster_->bootstrap(), "strict-group");
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->Committed("strict", 1)[0], 12) << "committed past the failed message";
}

}  // namespace
}  // namespace kstrand::test
