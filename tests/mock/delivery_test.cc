// Delivery guarantees: at-most-once commits before the handler runs; shutdown
// commits everything processed. A group scenario (harness.h): the mock tier
// runs it on an embedded cluster, the kafka tier on a real broker.
#include <gtest/gtest.h>

#include <atomic>

#include "harness.h"

namespace kstrand::test {
namespace {

class DeliveryTest : public ScenarioTest {};
KSTRAND_SCENARIO_SUITE(DeliveryTest);

TEST_P(DeliveryTest, AtMostOnceCommitsPastTheMessageBeforeTheHandlerRuns) {
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = 50;
  constexpr size_t kTotal = kPartitions * kPerPartition;
  const std::string topic = NewTopic("amo", kPartitions);
  ASSERT_FALSE(topic.empty());
  const std::string group = UniqueName("amo-group");
  ASSERT_TRUE(ProduceToPartitions(bootstrap(), topic, kPartitions, kPerPartition).ok());

  // Same group id, never subscribes: sees the group's commits without joining.
  auto reader = OffsetReader::Create(bootstrap(), group);
  ASSERT_TRUE(reader);
  SeenLog seen;
  std::atomic<int> not_yet_committed{0}, checked{0};
  Handler handler = [&](const Message& m) {
    auto committed = reader->Committed(topic, kPartitions);
    auto it = committed.find(m.partition().value());
    checked++;
    if (it == committed.end() || it->second <= m.offset().value()) {
      not_yet_committed++;
      ADD_FAILURE() << "offset " << m.offset().value() << " of partition " << m.partition().value()
                    << " runs before a commit past it (committed: "
                    << (it == committed.end() ? -2 : it->second) << ")";
    }
    seen.Record(m);
    return Status::Ok();
  };
  RuntimeConfig c = Config("amo", group, topic, handler);
  ASSERT_TRUE(c.Set("delivery", "at-most-once").ok());
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return seen.unique() == kTotal; }, 60s)) << "seen " << seen.unique();
  StopWithin(*rt);

  EXPECT_EQ(checked.load(), static_cast<int>(kTotal));
  EXPECT_EQ(not_yet_committed.load(), 0);
  EXPECT_EQ(seen.duplicates(), 0u);
  EXPECT_EQ(reader->Committed(topic, kPartitions), reader->HighWatermarks(topic, kPartitions));
}

TEST_P(DeliveryTest, ShutdownCommitsEverythingProcessedSoTheGroupResumesAtTheEnd) {
  constexpr int kPartitions = 4;
  constexpr size_t kTotal = 20 * 30;
  const std::string topic = NewTopic("shutdown", kPartitions);
  ASSERT_FALSE(topic.empty());
  const std::string group = UniqueName("shutdown-group");
  ASSERT_TRUE(ProduceKeyed(bootstrap(), topic, 20, 30).ok());

  SeenLog seen;
  Handler handler = [&](const Message& m) {
    seen.Record(m);
    return Status::Ok();
  };
  RuntimeConfig c = Config("shutdown", group, topic, handler);
  c.commit_interval = std::chrono::hours(1);  // no periodic commit: only the shutdown commit counts
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == kTotal; }, 60s)) << "seen " << seen.unique();

  auto reader = OffsetReader::Create(bootstrap(), group);
  ASSERT_TRUE(reader);
  for (const auto& [p, offset] : reader->Committed(topic, kPartitions)) {
    EXPECT_EQ(offset, -1) << "partition " << p << " committed before shutdown; the test proves nothing";
  }
  StopWithin(*rt);
  EXPECT_TRUE(rt->Wait().ok());

  auto high = reader->HighWatermarks(topic, kPartitions);
  int64_t sum = 0;
  for (const auto& [p, h] : high) sum += h;
  EXPECT_EQ(sum, static_cast<int64_t>(kTotal));
  EXPECT_EQ(reader->Committed(topic, kPartitions), high);
  EXPECT_EQ(seen.duplicates(), 0u);
}

}  // namespace
}  // namespace kstrand::test
