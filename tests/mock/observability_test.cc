// The stats snapshot and member announcements on the embedded cluster: what
// Runtime::Stats() reports matches what was processed, lag is measured from the
// committed offset, and a MemberDirectory sees every member of a group with its
// assignment, and sees one leave.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "harness.h"
#include "kafka/client.h"
#include "group/members.h"

namespace kstrand::test {
namespace {

class ObservabilityTest : public MockTest {};

int64_t TotalLag(const RuntimeStats& s) {
  int64_t lag = 0;
  for (const auto& p : s.partitions) lag += p.lag < 0 ? 1'000'000 : p.lag;  // unknown counts as behind
  return lag;
}

TEST_F(ObservabilityTest, StatsCountLatencyEndOffsetsLagAndTheAssignment) {
  constexpr int kPartitions = 4;
  constexpr int kMessages = 400;
  ASSERT_TRUE(cluster_->CreateTopic("obs", kPartitions).ok());
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "obs", 40, kMessages / 40).ok());
  Handler handler = [](const Message&) {
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
    return Status::Ok();
  };
  RuntimeConfig c = BaseConfig(*cluster_, "obs", "obs-group", "obs", handler);
  c.kafka["statistics.interval.ms"] = "200";  // librdkafka's own figures, sooner than the default 5 s
  auto rt = MustCreate(c);
  ASSERT_TRUE(rt);
  const auto before_start = std::chrono::system_clock::now();
  ASSERT_TRUE(rt->Start().ok());

  ASSERT_TRUE(WaitUntil([&] { return rt->Stats().processed == kMessages; }, 30s));
  // Lag reaches 0 once the frontiers are committed and the watermarks refreshed.
  ASSERT_TRUE(WaitUntil([&] { return TotalLag(rt->Stats()) == 0; }, 10s)) << TotalLag(rt->Stats());
  ASSERT_TRUE(WaitUntil([&] { return rt->Stats().throughput > 0; }, 5s));
  EXPECT_TRUE(WaitUntil([&] { return rt->Stats().client.rx_messages >= uint64_t{kMessages}; }, 5s))
      << "librdkafka statistics: rx_messages " << rt->Stats().client.rx_messages;

  RuntimeStats s = rt->Stats();
  ASSERT_EQ(s.partitions.size(), size_t{kPartitions});
  int64_t end_sum = 0;
  uint64_t latency_sum = 0;
  for (const auto& p : s.partitions) {
    EXPECT_EQ(p.committed, p.end_offset) << p.partition.ToString();
    EXPECT_EQ(p.lag, 0) << p.partition.ToString();
    EXPECT_EQ(p.latency.count, p.processed) << "one observation per sync handler call";
    end_sum += p.end_offset;
    latency_sum += p.latency.count;
  }
  EXPECT_EQ(end_sum, kMessages);
  EXPECT_EQ(latency_sum, uint64_t{kMessages});
  EXPECT_EQ(s.latency.count, uint64_t{kMessages});
  EXPECT_GE(s.latency.Quantile(0.5), 0.001);  // every call slept 1.5 ms
  EXPECT_GE(s.latency.sum_seconds, kMessages * 0.0015);
  EXPECT_FALSE(s.member_id.empty());
  EXPECT_GE(s.started, before_start);
  ASSERT_FALSE(s.recent_rebalances.empty());
  EXPECT_EQ(s.recent_rebalances.front().kind, RebalanceKind::kAssigned);
  EXPECT_EQ(s.recent_rebalances.front().partitions.size(), size_t{kPartitions});
  EXPECT_GE(s.recent_rebalances.front().at, before_start);
  StopWithin(*rt);
}

TEST_F(ObservabilityTest, LagOfAPartitionHeldByAStuckHandlerCountsFromItsFrontier) {
  ASSERT_TRUE(cluster_->CreateTopic("stuck", 2).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "stuck", 2, 10).ok());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Handler handler = [released](const Message& m) {
    if (m.partition().value() == 0) released.wait();
    return Status::Ok();
  };
  auto rt = MustCreate(BaseConfig(*cluster_, "stuck", "stuck-group", "stuck", handler));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  auto lag_of = [&](int32_t partition) {
    for (const auto& p : rt->Stats().partitions) {
      if (p.partition.partition.value() == partition) return p.lag;
    }
    return int64_t{-2};
  };
  // Partition 1 drains; partition 0 holds at offset 0, nothing committed.
  EXPECT_TRUE(WaitUntil([&] { return lag_of(1) == 0 && lag_of(0) == 10; }, 10s))
      << "lag p0 " << lag_of(0) << ", p1 " << lag_of(1);
  release.set_value();
  EXPECT_TRUE(WaitUntil([&] { return lag_of(0) == 0; }, 10s)) << lag_of(0);
  StopWithin(*rt);
}

TEST_F(ObservabilityTest, DirectorySeesEachMemberWithItsAssignmentAndSeesOneLeave) {
  constexpr int kPartitions = 6;
  ASSERT_TRUE(cluster_->CreateTopic("dir", kPartitions).ok());
  auto directory = group::MemberDirectory::Start(kafka::ConnectionProperties(cluster_->bootstrap(), {}, "dir-test"));
  ASSERT_TRUE(directory.ok()) << directory.status().ToString();

  RuntimeConfig a = BaseConfig(*cluster_, "dir-a", "dir-group", "dir", Noop());
  a.endpoint = "http://127.0.0.1:1001";
  RuntimeConfig b = BaseConfig(*cluster_, "dir-b", "dir-group", "dir", Noop());
  b.endpoint = "http://127.0.0.1:1002";
  auto rt_a = MustCreate(a);
  auto rt_b = MustCreate(b);
  ASSERT_TRUE(rt_a && rt_b);
  ASSERT_TRUE(rt_a->Start().ok());
  ASSERT_TRUE(rt_b->Start().ok());

  // Both members announced, with disjoint assignments covering the topic.
  auto split_between_two = [&] {
    auto members = (*directory)->Members("dir-group");
    if (members.size() != 2) return false;
    std::set<int32_t> seen;
    size_t total = 0;
    for (const auto& m : members) {
      for (const auto& p : m.partitions) seen.insert(p.partition.partition.value());
      total += m.partitions.size();
      if (m.partitions.empty()) return false;
    }
    return seen.size() == size_t{kPartitions} && total == size_t{kPartitions};
  };
  ASSERT_TRUE(WaitUntil(split_between_two, 30s));
  auto members = (*directory)->Members("dir-group");
  EXPECT_EQ(members[0].member, "dir-a");
  EXPECT_EQ(members[0].endpoint, "http://127.0.0.1:1001");
  EXPECT_EQ(members[1].member, "dir-b");
  EXPECT_EQ(members[1].endpoint, "http://127.0.0.1:1002");
  EXPECT_NE(members[0].instance, members[1].instance);
  for (const auto& m : members) {
    EXPECT_EQ(m.pid, getpid());
    EXPECT_EQ(m.group, "dir-group");
    EXPECT_EQ(m.interval, a.members_interval);
  }
  EXPECT_EQ((*directory)->Groups(), std::vector<std::string>{"dir-group"});
  EXPECT_TRUE((*directory)->Members("other-group").empty());

  // b leaves: its tombstone removes it at once, and a announces the whole topic.
  StopWithin(*rt_b);
  auto a_owns_all = [&] {
    auto left = (*directory)->Members("dir-group");
    return left.size() == 1 && left[0].member == "dir-a" && left[0].partitions.size() == size_t{kPartitions};
  };
  EXPECT_TRUE(WaitUntil(a_owns_all, 20s));
  StopWithin(*rt_a);
  EXPECT_TRUE(WaitUntil([&] { return (*directory)->Members("dir-group").empty(); }, 5s));
}

TEST_F(ObservabilityTest, AFreshDirectoryCatchesUpWithMembersAnnouncedBeforeIt) {
  ASSERT_TRUE(cluster_->CreateTopic("late", 2).ok());
  auto rt = MustCreate(BaseConfig(*cluster_, "late", "late-group", "late", Noop()));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return rt->Assignment().size() == 2; }, 20s));
  std::this_thread::sleep_for(300ms);  // the announcement after the assignment is on its way
  auto directory = group::MemberDirectory::Start(kafka::ConnectionProperties(cluster_->bootstrap(), {}, "late-test"));
  ASSERT_TRUE(directory.ok());
  ASSERT_TRUE((*directory)->WaitCaughtUp(10s));
  auto members = (*directory)->Members("late-group");
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].partitions.size(), 2u);
  StopWithin(*rt);
}

}  // namespace
}  // namespace kstrand::test
