// librdkafka's statistics JSON reduced to ClientStats (src/runtime/client_stats.h).
#include "runtime/client_stats.h"

#include <gtest/gtest.h>

namespace kstrand::runtime {
namespace {

TEST(ClientStatsTest, TakesTotalsTheSlowestBrokerAndEveryRealPartitionsFetchQueue) {
  const char* json = R"({
    "rxmsgs": 1200, "rx_bytes": 345678,
    "brokers": {
      "a:9092/1": {"rtt": {"p99": 1500}},
      "b:9092/2": {"rtt": {"p99": 4200}},
      "GroupCoordinator": {"rtt": {}}
    },
    "topics": {
      "orders": {"partitions": {"0": {"fetchq_cnt": 10}, "1": {"fetchq_cnt": 5}, "-1": {"fetchq_cnt": 99}}},
      "users": {"partitions": {"0": {"fetchq_cnt": 7}}}
    }
  })";
  auto c = ParseClientStatistics(json);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->rx_messages, 1200u);
  EXPECT_EQ(c->rx_bytes, 345678u);
  EXPECT_EQ(c->broker_rtt_p99_us, 4200);
  EXPECT_EQ(c->fetch_queue_messages, 22u) << "partition -1 is librdkafka's own, not fetched data";
}

TEST(ClientStatsTest, MissingOrMistypedFieldsCountAsZeroAndNonJsonIsRefused) {
  auto c = ParseClientStatistics(R"({"rxmsgs": "many", "brokers": [], "topics": {"t": {"partitions": 3}}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->rx_messages, 0u);
  EXPECT_EQ(c->broker_rtt_p99_us, 0);
  EXPECT_EQ(c->fetch_queue_messages, 0u);
  EXPECT_FALSE(ParseClientStatistics("{not json").has_value());
  EXPECT_FALSE(ParseClientStatistics("[1, 2]").has_value());
}

}  // namespace
}  // namespace kstrand::runtime
