// What handlers produce (Message::Produce) on the embedded cluster: a failed
// attempt's records are dropped, so a retry does not duplicate them.
// Exactly-once is refused there (see the test) and proven against real Kafka
// in the kafka tier.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"
#include "kafka/client.h"
#include "kafka/error.h"
#include "runtime/output.h"

namespace kstrand::test {
namespace {

class OutputTest : public MockTest {};

// The sequence numbers of the "key:seq" values a plain reader saw, per record key, in order.
std::map<std::string, std::vector<int64_t>> SequencesPerKey(const std::vector<ReadRecord>& records) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& r : records) out[r.key.value_or("")].push_back(ParseValue(r.value).second);
  return out;
}

TEST_F(OutputTest, RecordsOfAFailedAttemptAreDroppedSoTheRetryDoesNotDuplicateThem) {
  constexpr int kKeys = 10, kPerKey = 30;
  ASSERT_TRUE(cluster_->CreateTopic("in", 4).ok());
  ASSERT_TRUE(cluster_->CreateTopic("out", 4).ok());
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "in", kKeys, kPerKey).ok());

  std::mutex mu;
  std::set<std::pair<int32_t, int64_t>> failed_once;  // guarded by mu
  Handler handler = [&](const Message& m) {
    // Two records per input, produced before deciding the attempt fails.
    m.Produce({"out", std::string(*m.key()), std::string(m.value())});
    m.Produce({"out", std::string(*m.key()) + "-copy", std::string(m.value())});
    if (m.offset().value() % 3 == 0) {
      std::lock_guard lock(mu);
      if (failed_once.insert({m.partition().value(), m.offset().value()}).second) {
        return Status(Errc::kHandlerFailed, "first attempt fails");
      }
    }
    return Status::Ok();
  };
  RuntimeConfig c = BaseConfig(*cluster_, "a", "retry-group", "in", handler);
  c.topics[0].ordering = Ordering::kKey;
  c.topics[0].on_failure = FailurePolicy{2, 5ms, 50ms, FailureAction::kStopPartition, ""};
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return rt->Stats().processed == kKeys * kPerKey; }, 30s))
      << "processed " << rt->Stats().processed;
  auto stats = rt->Stats();
  StopWithin(*rt);
  EXPECT_GT(stats.retried, 0u);
  EXPECT_EQ(stats.failed, 0u);

  constexpr size_t kWant = 2 * kKeys * kPerKey;
  auto out = ReadTopic(cluster_->bootstrap(), "out", 4, kWant + 1, 5s);  // one more than expected: none may come
  EXPECT_EQ(out.size(), kWant);
  auto per_key = SequencesPerKey(out);
  ASSERT_EQ(per_key.size(), 2u * kKeys);
  for (const auto& [key, seqs] : per_key) {
    std::vector<int64_t> expected(kPerKey);
    for (int i = 0; i < kPerKey; ++i) expected[i] = i;
    EXPECT_EQ(seqs, expected) << "key " << key << ": each input's records once, in order";
  }
}

TEST_F(OutputTest, ExactlyOnceOnTheEmbeddedBrokerFailsStartSayingWhy) {
  // Its TxnOffsetCommit answers without storing the offsets, so exactly-once
  // would silently forward everything again after each rebalance.
  ASSERT_TRUE(cluster_->CreateTopic("in", 1).ok());
  RuntimeConfig c = BaseConfig(*cluster_, "a", "eos-group", "in", Noop());
  c.delivery = Delivery::kExactlyOnce;
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  Status st = rt->Start();
  EXPECT_EQ(st.code(), make_error_code(Errc::kInvalidArgument)) << st.ToString();
  EXPECT_NE(st.detail().find("exactly-once needs Apache Kafka"), std::string::npos) << st.ToString();
  EXPECT_FALSE(rt->running());
}

// An exactly-once Output whose commit meets a fatal error that is not fencing
// (EndTxn answered INVALID_TXN_STATE, as after a broker restart: librdkafka
// lacks KIP-890) replaces its producer on Reopen instead of failing, so the
// replica goes on; a fenced one fails Reopen. The embedded cluster serves
// transactions but not exactly-once offsets, which this needs none of.
constexpr int16_t kEndTxn = 26;  // the Kafka protocol's API keys
constexpr int16_t kFindCoordinator = 10;
constexpr int16_t kTxnOffsetCommit = 28;

class OutputRenewalTest : public MockTest {
 protected:
  void SetUp() override {
    MockTest::SetUp();
    ASSERT_TRUE(cluster_->CreateTopic("out", 1).ok());
    auto created = runtime::Output::Create({{"bootstrap.servers", cluster_->bootstrap()}}, "renewal-tx", 10000);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    out_ = std::move(created.value());
  }
  Status Send(const std::string& value) {
    Status result(Errc::kInternal, "done not called");
    out_->Send({OutputRecord{.topic = "out", .key = "k", .value = value}}, [] { return true; },
               [&](Status st) { result = std::move(st); });
    return result;
  }
  Status Commit() {
    auto committed = out_->Commit(nullptr, [] { return kafka::TopicPartitionListPtr(); }, 10000);
    return committed.ok() ? Status::Ok() : committed.status();
  }
  // Reopen, with Interrupt called from another thread `after` it began.
  Status ReopenInterruptedAfter(std::chrono::nanoseconds after, std::chrono::nanoseconds* waited) {
    std::thread interrupter([&] {
      std::this_thread::sleep_for(after);
      out_->Interrupt();
    });
    const auto started = std::chrono::steady_clock::now();
    Status reopened = out_->Reopen();
    *waited = std::chrono::steady_clock::now() - started;
    interrupter.join();
    return reopened;
  }
  std::unique_ptr<runtime::Output> out_;
};

TEST_F(OutputRenewalTest, AFatalErrorThatIsNotFencingGetsANewProducer) {
  ASSERT_TRUE(Send("before").ok());
  ASSERT_TRUE(Commit().ok());
  ASSERT_TRUE(Send("lost").ok());
  ASSERT_TRUE(cluster_->PushRequestErrors(kEndTxn, {RD_KAFKA_RESP_ERR_INVALID_TXN_STATE}).ok());
  Status failed = Commit();
  EXPECT_EQ(failed.code(), kafka::MakeErrorCode(RD_KAFKA_RESP_ERR_INVALID_TXN_STATE)) << failed.ToString();
  EXPECT_EQ(Send("refused").code(), failed.code()) << "nothing is sent before Reopen";

  Status reopened = out_->Reopen();
  ASSERT_TRUE(reopened.ok()) << reopened.ToString();
  EXPECT_EQ(out_->renewals(), 1);
  ASSERT_TRUE(Send("after").ok());
  Status committed = Commit();
  ASSERT_TRUE(committed.ok()) << committed.ToString();

  std::vector<std::string> values;
  for (const auto& r : ReadTopic(cluster_->bootstrap(), "out", 1, 3, 5s)) values.push_back(r.value);
  EXPECT_NE(std::find(values.begin(), values.end(), "before"), values.end());
  EXPECT_NE(std::find(values.begin(), values.end(), "after"), values.end());
  EXPECT_EQ(std::find(values.begin(), values.end(), "refused"), values.end());
}

// An abort that outlasts its call (the broker answers EndTxn after 11 s; the call
// waits 10) is still running inside librdkafka. Reopen must wait for it to end
// before beginning the next transaction: begun at once, librdkafka refuses with
// "Conflicting abort_transaction API call is already in progress", which stopped
// exactly-once replicas after broker restarts (kafka-eos chaos seeds 5 and 9).
TEST_F(OutputRenewalTest, AnAbortThatTimedOutIsWaitedForBeforeTheNextTransaction) {
  ASSERT_TRUE(Send("before").ok());
  ASSERT_TRUE(Commit().ok());
  ASSERT_TRUE(Send("aborted").ok());
  // Delivered, so the partition is in the transaction and the abort needs an EndTxn
  // (librdkafka aborts a transaction with no partitions without asking the broker).
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 11s).ok());
  const auto abort_started = std::chrono::steady_clock::now();
  out_->Abort("test: the abort times out");
  ASSERT_GE(std::chrono::steady_clock::now() - abort_started, 9s) << "the abort did not wait for the slow EndTxn";
  // Answers the EndTxn in flight now; the abort's call gave up on it already.
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 0ms).ok());

  Status reopened = out_->Reopen();
  ASSERT_TRUE(reopened.ok()) << reopened.ToString();
  EXPECT_EQ(out_->renewals(), 0) << "a timed-out abort needs no new producer";
  ASSERT_TRUE(Send("after").ok());
  Status committed = Commit();
  ASSERT_TRUE(committed.ok()) << committed.ToString();

  // The embedded broker writes no abort markers, so "aborted" may be read too.
  std::vector<std::string> values;
  for (const auto& r : ReadTopic(cluster_->bootstrap(), "out", 1, 3, 5s)) values.push_back(r.value);
  EXPECT_EQ(values.back(), "after");
}

// A Reopen waits for an unfinished abort as long as the broker takes (a restart
// can take minutes), but a shutdown must not wait with it: Interrupt ends the wait.
TEST_F(OutputRenewalTest, InterruptEndsAReopenWaitingForTheBroker) {
  ASSERT_TRUE(Send("before").ok());
  ASSERT_TRUE(Commit().ok());
  ASSERT_TRUE(Send("aborted").ok());
  std::this_thread::sleep_for(500ms);  // delivered: the abort needs an EndTxn
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 60s).ok());
  out_->Abort("test: the abort times out");
  std::chrono::nanoseconds waited{};
  Status reopened = ReopenInterruptedAfter(1s, &waited);
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 0ms).ok());
  EXPECT_EQ(reopened.code(), make_error_code(Errc::kShuttingDown)) << reopened.ToString();
  EXPECT_GE(waited, 1s) << "Reopen returned before the interrupt";
  EXPECT_LT(waited, 4s) << "Reopen did not see the interrupt within a resume slice";
}

// A fence that comes once the transaction has been open for transaction.timeout.ms
// is the coordinator's own abort (it bumps the epoch), as after a broker outage
// longer than the timeout (Kafka 4.4, the kafka tier's broker-restart test): the
// replica goes on with a new producer. A fence sooner is another instance.
TEST_F(OutputRenewalTest, AFenceAfterTheTransactionTimeoutGetsANewProducer) {
  auto created = runtime::Output::Create(
      {{"bootstrap.servers", cluster_->bootstrap()}, {"transaction.timeout.ms", "1000"}}, "timeout-tx", 10000);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  out_ = std::move(created.value());
  ASSERT_TRUE(Send("timed out").ok());
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE(cluster_->PushRequestErrors(kEndTxn, {RD_KAFKA_RESP_ERR_PRODUCER_FENCED}).ok());
  EXPECT_FALSE(Commit().ok());
  Status reopened = out_->Reopen();
  ASSERT_TRUE(reopened.ok()) << reopened.ToString();
  EXPECT_EQ(out_->renewals(), 1);
  ASSERT_TRUE(Send("after").ok());
  Status committed = Commit();
  EXPECT_TRUE(committed.ok()) << committed.ToString();
}

TEST_F(OutputRenewalTest, AFencedProducerIsNotReplaced) {
  ASSERT_TRUE(Send("lost").ok());
  ASSERT_TRUE(cluster_->PushRequestErrors(kEndTxn, {RD_KAFKA_RESP_ERR_PRODUCER_FENCED}).ok());
  EXPECT_FALSE(Commit().ok());
  Status reopened = out_->Reopen();
  EXPECT_EQ(reopened.code(), kafka::MakeErrorCode(RD_KAFKA_RESP_ERR__FENCED)) << reopened.ToString();
  EXPECT_NE(reopened.detail().find("fenced"), std::string::npos) << reopened.ToString();
  EXPECT_EQ(out_->renewals(), 0);
  EXPECT_FALSE(Send("refused").ok());
}

// After a broker restart the group coordinator answers FindCoordinator with
// COORDINATOR_NOT_AVAILABLE while it loads the offsets topic. librdkafka
// retried that lookup twice and then waited for a broker to change state,
// which a broker that stays up never does: send_offsets_to_transaction sat in
// librdkafka for minutes, and with it the replica's poll thread (the kafka
// tier's broker-restart test). scripts/librdkafka-patches/coord-request-timeout.patch
// retries the lookup every second and fails it at the call's timeout.
class CoordinatorLookupTest : public OutputRenewalTest {
 protected:
  // Commits `offset` of "out" [0] for `group` in the open transaction, within
  // 3 s; a commit still inside librdkafka after 30 s ends the test binary,
  // since the call cannot be cancelled nor its producer destroyed.
  Status CommitOffsetFor(const std::string& group, int64_t offset, std::chrono::milliseconds* took) {
    auto consumer = kafka::NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", cluster_->bootstrap()}, {"group.id", group}});
    if (!consumer.ok()) return consumer.status();
    std::atomic<bool> returned{false};
    std::thread watchdog([&] {
      for (int i = 0; i < 300 && !returned; ++i) std::this_thread::sleep_for(100ms);
      if (returned) return;
      std::fprintf(stderr, "FAILED: the commit is still inside send_offsets_to_transaction after 30 s\n");
      std::_Exit(1);
    });
    const auto started = std::chrono::steady_clock::now();
    auto committed = out_->Commit(
        consumer->get(),
        [&] {
          kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
          rd_kafka_topic_partition_list_add(list.get(), "out", 0)->offset = offset;
          return list;
        },
        3000);
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    returned = true;
    watchdog.join();
    return committed.ok() ? Status::Ok() : committed.status();
  }
  // Each lookup is tried three times (librdkafka's two retries): `lookups`
  // lookups fail.
  void FailLookups(int lookups) {
    ASSERT_TRUE(cluster_
                    ->PushRequestErrors(kFindCoordinator, std::vector<int32_t>(3 * lookups,
                                                                               RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE))
                    .ok());
  }
};

TEST_F(CoordinatorLookupTest, ALookupThatFailedPastItsRetriesIsTriedAgain) {
  ASSERT_TRUE(Send("first").ok());
  FailLookups(2);
  std::chrono::milliseconds took{};
  Status committed = CommitOffsetFor("offsets-group", 1, &took);
  EXPECT_TRUE(committed.ok()) << committed.ToString();
  EXPECT_LT(took, 3000ms) << "the third lookup, a second after the second, finds the coordinator";
}

TEST_F(CoordinatorLookupTest, ACoordinatorThatStaysUnavailableFailsTheCommitAtItsTimeout) {
  ASSERT_TRUE(Send("first").ok());
  FailLookups(8);
  std::chrono::milliseconds took{};
  Status failed = CommitOffsetFor("offsets-group", 1, &took);
  EXPECT_FALSE(failed.ok()) << "the offsets never reached the coordinator";
  // 3 s for the offsets, then the abort, whose EndTxn the failing lookups
  // (all of the embedded broker's, the transaction coordinator's too) hold up
  // for the abort call's whole wait.
  EXPECT_LT(took, 15000ms) << "3 s for the offsets, 10 s for the abort call (Output::kAbortCallMs), 2 s to spare";
}

// A producer whose commits keep timing out is replaced by a new one at the
// third in a row: librdkafka can be left unable to reach a coordinator after a
// broker restart (a kafka-eos chaos replica failed every commit that way for
// minutes while the others went on), and a new producer starts from nothing.
// Here the group coordinator answers every TxnOffsetCommit REQUEST_TIMED_OUT.
class TimedOutCommitsTest : public CoordinatorLookupTest {
 protected:
  void SetUp() override {
    CoordinatorLookupTest::SetUp();
    ASSERT_TRUE(cluster_
                    ->PushRequestErrors(kTxnOffsetCommit,
                                        std::vector<int32_t>(100, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT))
                    .ok());
  }
  // The `attempt`th commit in a row fails.
  void FailCommit(int attempt) {
    ASSERT_TRUE(Send("try " + std::to_string(attempt)).ok());
    std::chrono::milliseconds took{};
    Status failed = CommitOffsetFor("offsets-group", attempt, &took);
    ASSERT_FALSE(failed.ok()) << "attempt " << attempt;
  }
};

TEST_F(TimedOutCommitsTest, TheThirdInARowGetsANewProducer) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    FailCommit(attempt);
    Status reopened = out_->Reopen();
    ASSERT_TRUE(reopened.ok()) << reopened.ToString();
    EXPECT_EQ(out_->renewals(), attempt < 3 ? 0 : 1) << "after " << attempt << " timed-out commits";
  }
  ASSERT_TRUE(Send("after").ok());
  Status committed = Commit();  // records only: no TxnOffsetCommit
  EXPECT_TRUE(committed.ok()) << committed.ToString();
}

// The new producer registers in slices, so a shutdown does not wait for a
// broker that stopped answering.
TEST_F(TimedOutCommitsTest, InterruptEndsARenewalWaitingForTheBroker) {
  for (int attempt = 1; attempt <= 2; ++attempt) {
    FailCommit(attempt);
    ASSERT_TRUE(out_->Reopen().ok());
  }
  FailCommit(3);
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 60s).ok());
  std::chrono::nanoseconds waited{};
  Status reopened = ReopenInterruptedAfter(1s, &waited);
  ASSERT_TRUE(cluster_->SetBrokerRtt(1, 0ms).ok());
  EXPECT_FALSE(reopened.ok()) << "the new producer never registered";
  EXPECT_GE(waited, 1s) << "Reopen returned before the interrupt";
  EXPECT_LT(waited, 4s) << "Reopen did not see the interrupt within a slice";
}

}  // namespace
}  // namespace kstrand::test
