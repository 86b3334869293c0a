// The orders processor (examples/orders) on the embedded broker, at-least-once
// (the embedded broker refuses exactly-once; tests/kafka proves that tier):
// two replicas in one group turn every valid order into exactly its events, in
// each customer's order, and every invalid order into one dead letter naming
// the field that failed, with the group's offsets committed to the end.
#include <gtest/gtest.h>

#include "harness.h"
#include "orders/orders.h"
#include "orders_scenario.h"

namespace kstrand::test {
namespace {

constexpr int kPartitions = 6;

class OrdersTest : public MockTest {};

std::unique_ptr<Runtime> StartReplica(const EmbeddedCluster& cluster, const std::string& name,
                                      const orders::OrdersOptions& options) {
  RuntimeConfig c = BaseConfig(cluster, name, "order-processors", options.input_topic, Noop());
  c.topics[0] = orders::OrdersTopic(options);
  auto rt = MustCreate(std::move(c));
  if (!rt) return nullptr;
  Status st = rt->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return nullptr;
  return rt;
}

TEST_F(OrdersTest, TwoReplicasWriteEachValidOrdersEventsOnceInCustomerOrderAndDeadLetterTheInvalid) {
  const orders::OrdersOptions options;
  for (const auto& topic : {options.input_topic, options.events_topic, options.dead_letter_topic}) {
    ASSERT_TRUE(cluster_->CreateTopic(topic, kPartitions).ok());
  }
  auto a = StartReplica(*cluster_, "a", options);
  auto b = StartReplica(*cluster_, "b", options);
  ASSERT_TRUE(a && b);
  // Both own partitions before any order exists, so no partition changes
  // hands while orders are in flight: at-least-once then writes nothing twice.
  ASSERT_TRUE(WaitUntil([&] {
    return !a->Assignment().empty() && !b->Assignment().empty() &&
           a->Assignment().size() + b->Assignment().size() == kPartitions;
  }, 30s)) << "a owns " << Describe(a->Assignment()) << ", b owns " << Describe(b->Assignment());

  const auto generated =
      orders::GenerateOrders({.count = 600, .customers = 40, .invalid_share = 0.05, .seed = 2026, .max_lines = 4});
  size_t invalid = 0;
  for (const auto& g : generated) invalid += g.fault.empty() ? 0 : 1;
  ASSERT_GT(invalid, 10u);
  ProduceOrders(cluster_->bootstrap(), options.input_topic, generated);
  ASSERT_FALSE(HasFatalFailure());

  auto done = [&] {
    auto sa = a->Stats(), sb = b->Stats();
    return sa.processed + sb.processed + sa.dead_lettered + sb.dead_lettered;
  };
  ASSERT_TRUE(WaitUntil([&] { return done() >= generated.size(); }, 30s)) << "done " << done();
  auto offsets = OffsetReader::Create(cluster_->bootstrap(), "order-processors");
  ASSERT_TRUE(offsets);
  const auto ends = offsets->HighWatermarks(options.input_topic, kPartitions);
  ASSERT_TRUE(WaitUntil([&] { return offsets->Committed(options.input_topic, kPartitions) == ends; }, 10s))
      << "committed offsets did not reach the end of every partition";
  const auto sa = a->Stats(), sb = b->Stats();
  StopWithin(*a);
  StopWithin(*b);
  EXPECT_EQ(sa.processed + sb.processed, generated.size() - invalid);
  EXPECT_EQ(sa.dead_lettered + sb.dead_lettered, invalid);
  EXPECT_GT(sa.processed, 0u) << "both replicas took part";
  EXPECT_GT(sb.processed, 0u) << "both replicas took part";

  ExpectOrdersOutcome(cluster_->bootstrap(), options, kPartitions, generated);
}

}  // namespace
}  // namespace kstrand::test
