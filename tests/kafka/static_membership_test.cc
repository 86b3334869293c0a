// Static membership (group.instance.id) on a real broker; the embedded broker
// ignores it. A static member that stops does not leave the group: librdkafka
// sends no LeaveGroup for it in the classic protocol (KIP-345) and a
// "leave for now" heartbeat (member epoch -2) in KIP-848, so the broker keeps
// its partitions for the session timeout. A new process with the same instance
// id gets them back, and the other members see no rebalance at all.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mock/harness.h"

namespace kstrand::test {
namespace {

class StaticMembershipTest : public ScenarioTest {
 protected:
  RuntimeConfig StaticConfig(const std::string& name, const std::string& instance_id, const std::string& group,
                             const std::string& topic, std::atomic<int>* rebalance_events) {
    RuntimeConfig c = Config(name, group, topic, Noop());
    c.kafka["group.instance.id"] = instance_id;
    // Classic: the broker keeps a static member for its session timeout; long
    // enough for the restart below. KIP-848 takes it from the broker
    // (group.consumer.session.timeout.ms, 10 s in scripts/kafka.sh) and librdkafka
    // rejects the property.
    if (GetParam() == GroupProtocol::kClassic) c.kafka["session.timeout.ms"] = "30000";
    c.on_rebalance = [log = c.on_rebalance, rebalance_events](const RebalanceEvent& ev) {
      log(ev);
      (*rebalance_events)++;
    };
    return c;
  }
};
KSTRAND_SCENARIO_SUITE(StaticMembershipTest);

TEST_P(StaticMembershipTest, RestartedStaticMemberGetsItsPartitionsBackWithoutARebalanceOfTheOthers) {
  constexpr int kPartitions = 6;
  const std::string topic = NewTopic("static", kPartitions);
  ASSERT_FALSE(topic.empty());
  const std::string group = UniqueName("static-group");
  const std::string instance_a = UniqueName("a"), instance_b = UniqueName("b"), instance_c = UniqueName("c");
  std::atomic<int> events_a{0}, events_b{0}, events_c{0}, events_c2{0};

  // One after another, so `a` is the classic group's leader and `c`, restarted
  // below, a follower: a rejoining static leader is a different broker path.
  auto a = MustCreate(StaticConfig("a", instance_a, group, topic, &events_a));
  auto b = MustCreate(StaticConfig("b", instance_b, group, topic, &events_b));
  auto c = MustCreate(StaticConfig("c", instance_c, group, topic, &events_c));
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->Assignment().size() == kPartitions; }, 30s));
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(c->Start().ok());
  auto balanced = [&] {
    return a->Assignment().size() == 2 && b->Assignment().size() == 2 && c->Assignment().size() == 2;
  };
  ASSERT_TRUE(WaitUntil(balanced, 60s)) << "a=" << Describe(a->Assignment()) << " b=" << Describe(b->Assignment())
                                        << " c=" << Describe(c->Assignment());
  // Settled: no rebalance callback for two seconds (two classic heartbeats,
  // two KIP-848 heartbeats on the test broker).
  int settled_a = -1, settled_b = -1;
  ASSERT_TRUE(WaitUntil([&] {
    settled_a = events_a.load();
    settled_b = events_b.load();
    std::this_thread::sleep_for(2s);
    return events_a.load() == settled_a && events_b.load() == settled_b && balanced();
  }, 30s));
  const auto owned_a = Partitions(a->Assignment()), owned_b = Partitions(b->Assignment());
  const auto owned_c = Partitions(c->Assignment());
  const uint64_t rebalances_a = a->Stats().rebalances, rebalances_b = b->Stats().rebalances;

  StopWithin(*c);  // a static member's close: no LeaveGroup (classic), epoch -2 (KIP-848)
  c.reset();
  // Down for longer than a heartbeat. Had c left the group, a and b would have
  // heard of it by now: a rebalance (classic), or c's partitions in their next
  // heartbeat's assignment (KIP-848). A restart quicker than that proves
  // nothing under KIP-848: the broker hands a dynamic member's partitions to
  // whoever heartbeats first, so the quick newcomer can get them back too.
  std::this_thread::sleep_for(3s);
  auto c2 = MustCreate(StaticConfig("c2", instance_c, group, topic, &events_c2));
  ASSERT_TRUE(c2);
  const auto restarted_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(c2->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return Partitions(c2->Assignment()) == owned_c; }, 20s))
      << "c owned " << ::testing::PrintToString(owned_c) << ", the restarted c owns " << Describe(c2->Assignment());
  const auto back_after = std::chrono::steady_clock::now() - restarted_at;
  // Long enough for a rebalance the restart caused to have reached the others.
  std::this_thread::sleep_for(3s);

  EXPECT_EQ(events_a.load(), settled_a) << "a saw a rebalance";
  EXPECT_EQ(events_b.load(), settled_b) << "b saw a rebalance";
  EXPECT_EQ(a->Stats().rebalances, rebalances_a);
  EXPECT_EQ(b->Stats().rebalances, rebalances_b);
  EXPECT_EQ(Partitions(a->Assignment()), owned_a);
  EXPECT_EQ(Partitions(b->Assignment()), owned_b);
  EXPECT_EQ(Partitions(c2->Assignment()), owned_c);
  // The partitions came back by the static member's return, well inside the
  // session timeout (10 s KIP-848, 30 s classic), not after its expiry.
  EXPECT_LT(back_after, 5s);

  StopWithin(*c2);
  StopWithin(*b);
  StopWithin(*a);
}

}  // namespace
}  // namespace kstrand::test
