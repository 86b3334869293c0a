// What handlers produce (Message::Produce) on the embedded cluster: a failed
// attempt's records are dropped, so a retry does not duplicate them.
// Exactly-once is refused there (see the test) and proven against real Kafka
// in the kafka tier.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"

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

}  // namespace
}  // namespace kstrand::test
