// Exactly-once on a real broker, in process: two runtimes forward a keyed
// stream while one joins and the other leaves mid-stream; every revoke commits
// the open transaction before releasing its partitions, so a read_committed
// reader sees each input once, in per-key order, and the transactions carried
// the input offsets to the end. A transaction that cannot commit is aborted
// and the runtime goes on from the last commit. (Crashes:
// exactly_once_sigkill_test.sh.)
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "kafka/client.h"
#include "kafka/consumer.h"
#include "mock/harness.h"

namespace kstrand::test {
namespace {

class ExactlyOnceTest : public ScenarioTest {};

TEST_P(ExactlyOnceTest, EveryInputIsForwardedOnceAcrossAJoinAndALeave) {
  constexpr int kPartitions = 4, kKeys = 24, kPerKey = 60;
  constexpr size_t kTotal = kKeys * kPerKey;
  const std::string in = NewTopic("eos-in", kPartitions);
  const std::string out = NewTopic("eos-out", kPartitions);
  ASSERT_FALSE(in.empty() || out.empty());
  const std::string group = UniqueName("eos-group");
  Handler forward = [out](const Message& m) {
    std::this_thread::sleep_for(1ms);  // keep work in flight when partitions move
    m.Produce({out, std::string(*m.key()), std::string(m.value())});
    return Status::Ok();
  };
  auto config = [&](const std::string& name) {
    RuntimeConfig c = Config(name, group, in, forward);
    c.delivery = Delivery::kExactlyOnce;
    c.transactional_id = group + "-" + name;
    return c;
  };
  auto a = MustCreate(config("a"));
  auto b = MustCreate(config("b"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->Assignment().size() == kPartitions; }, 60s));

  Status produced;
  std::jthread producer([&] { produced = ProduceKeyed(bootstrap(), in, kKeys, kPerKey, 4ms); });
  ASSERT_TRUE(WaitUntil([&] { return a->Stats().processed > 100; }, 30s));
  ASSERT_TRUE(b->Start().ok());  // joins mid-stream: a commits its transaction before releasing partitions
  EXPECT_TRUE(WaitUntil([&] { return !b->Assignment().empty() && a->Assignment().size() < kPartitions; }, 60s));
  const uint64_t before_leave = a->Stats().processed + b->Stats().processed;
  StopWithin(*a);  // leaves mid-stream
  producer.join();
  ASSERT_TRUE(produced.ok()) << produced.ToString();
  EXPECT_LT(before_leave, kTotal) << "the leave did not happen mid-stream; the test proves less";
  auto reader = OffsetReader::Create(bootstrap(), group);
  ASSERT_TRUE(reader);
  EXPECT_TRUE(WaitUntil([&] { return reader->Committed(in, kPartitions) == reader->HighWatermarks(in, kPartitions); },
                        60s))
      << "the transactions carry the input offsets to the end";
  auto a_stats = a->Stats();
  StopWithin(*b);
  EXPECT_GT(a_stats.commits, 0u);
  // Under the classic protocol a periodic commit can race the join's second
  // round and meet ILLEGAL_GENERATION; the runtime aborts that transaction and
  // rewinds (what the output checks below prove). At most one per rebalance a
  // went through (the join's two rounds).
  EXPECT_LE(a_stats.commit_errors, 2u);

  auto records = ReadTopic(bootstrap(), out, kPartitions, kTotal + 1, 4s);  // one more: none may come
  EXPECT_EQ(records.size(), kTotal) << "every input forwarded exactly once";
  std::map<std::string, std::vector<int64_t>> per_key;
  for (const auto& r : records) per_key[r.key.value_or("")].push_back(ParseValue(r.value).second);
  ASSERT_EQ(per_key.size(), static_cast<size_t>(kKeys));
  std::vector<int64_t> expected(kPerKey);
  for (int i = 0; i < kPerKey; ++i) expected[i] = i;
  for (const auto& [key, seqs] : per_key) EXPECT_EQ(seqs, expected) << "key " << key;
}

TEST_P(ExactlyOnceTest, AFailedTransactionIsAbortedAndEveryPartitionResumesFromItsLastCommit) {
  constexpr int kPartitions = 3, kKeys = 12, kPerKey = 50;
  constexpr size_t kTotal = kKeys * kPerKey;
  const std::string in = NewTopic("eos-abort-in", kPartitions);
  const std::string out = NewTopic("eos-abort-out", kPartitions);
  ASSERT_FALSE(in.empty() || out.empty());
  ASSERT_TRUE(ProduceKeyed(bootstrap(), in, kKeys, kPerKey).ok());
  std::atomic<int> attempts_of_300{0};
  Handler forward = [&, out](const Message& m) {
    m.Produce({out, std::string(*m.key()), std::string(m.value())});
    auto [key, seq] = ParseValue(m.value());
    if (key == "k3" && seq == 25 && attempts_of_300++ == 0) {
      // Over the producer's message.max.bytes: the transaction cannot commit.
      m.Produce({out, std::string(*m.key()), std::string(2 << 20, 'x')});
    }
    return Status::Ok();
  };
  RuntimeConfig c = Config("a", UniqueName("eos-abort-group"), in, forward);
  c.delivery = Delivery::kExactlyOnce;
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  auto reader = OffsetReader::Create(bootstrap(), rt->config().group_id);
  ASSERT_TRUE(reader);
  EXPECT_TRUE(WaitUntil([&] { return reader->Committed(in, kPartitions) == reader->HighWatermarks(in, kPartitions); },
                        60s));
  auto stats = rt->Stats();
  EXPECT_TRUE(rt->running()) << "an aborted transaction must not stop the runtime";
  StopWithin(*rt);
  EXPECT_TRUE(rt->Wait().ok()) << rt->Wait().ToString();
  EXPECT_GE(attempts_of_300.load(), 2) << "the poisoned message ran again after the rewind";
  EXPECT_EQ(stats.commit_errors, 1u);

  auto records = ReadTopic(bootstrap(), out, kPartitions, kTotal + 1, 4s);
  EXPECT_EQ(records.size(), kTotal) << "the aborted transaction's records are invisible, the rest once";
  std::map<std::string, std::vector<int64_t>> per_key;
  for (const auto& r : records) per_key[r.key.value_or("")].push_back(ParseValue(r.value).second);
  std::vector<int64_t> expected(kPerKey);
  for (int i = 0; i < kPerKey; ++i) expected[i] = i;
  for (const auto& [key, seqs] : per_key) EXPECT_EQ(seqs, expected) << "key " << key;
}

// The exactly-once rewind (commit_strategy.cc) reads the committed offsets
// right after a failed transaction, whose offset commit the broker may still
// hold open. It relies on the read failing, never on it answering "nothing
// committed" (offset -1), which would seek to the start of the partition and
// write its records again. The broker answers UNSTABLE_OFFSET_COMMIT per
// partition; this checks that librdkafka keeps retrying it to the timeout.
TEST_P(ExactlyOnceTest, AnOffsetAnOpenTransactionHoldsIsNotReadUntilItEnds) {
  const std::string in = NewTopic("eos-unstable-in", 1);
  ASSERT_FALSE(in.empty());
  const std::string group = UniqueName("eos-unstable-group");
  auto created = kafka::NewClient(
      RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap()}, {"transactional.id", UniqueName("eos-unstable-txn")}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  kafka::ClientPtr producer = std::move(created.value());
  auto ok = [](rd_kafka_error_t* e) {
    std::string what = e ? rd_kafka_error_string(e) : "";
    if (e) rd_kafka_error_destroy(e);
    return what;
  };
  ASSERT_EQ(ok(rd_kafka_init_transactions(producer.get(), 30000)), "");
  ASSERT_EQ(ok(rd_kafka_begin_transaction(producer.get())), "");
  kafka::TopicPartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), in.c_str(), 0)->offset = 7;
  rd_kafka_consumer_group_metadata_t* cgmd = rd_kafka_consumer_group_metadata_new(group.c_str());
  ASSERT_EQ(ok(rd_kafka_send_offsets_to_transaction(producer.get(), offsets.get(), cgmd, 30000)), "");
  rd_kafka_consumer_group_metadata_destroy(cgmd);

  auto consumer = kafka::Consumer::Create(
      {{"bootstrap.servers", bootstrap()}, {"group.id", group}, {"isolation.level", "read_committed"}}, {});
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  kafka::TopicPartitionListPtr read(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(read.get(), in.c_str(), 0);
  EXPECT_NE((*consumer)->ReadCommitted(read.get(), 5000), RD_KAFKA_RESP_ERR_NO_ERROR)
      << "the offset is not known while the transaction is open; read " << read->elems[0].offset;
  EXPECT_EQ(read->elems[0].offset, RD_KAFKA_OFFSET_INVALID);

  ASSERT_EQ(ok(rd_kafka_commit_transaction(producer.get(), 30000)), "");
  EXPECT_EQ((*consumer)->ReadCommitted(read.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(read->elems[0].offset, 7);
}

KSTRAND_SCENARIO_SUITE(ExactlyOnceTest);

}  // namespace
}  // namespace kstrand::test
