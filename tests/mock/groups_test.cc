// GroupInspector on the embedded cluster, which has no ListGroups or
// DescribeGroups: members come from kstrand's announcements, committed offsets
// and end offsets from the broker; lag, owners, unknown groups and unreachable
// brokers.
#include "kstrand/groups.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace kstrand::test {
namespace {

using Clock = std::chrono::steady_clock;

class GroupsTest : public MockTest {
 protected:
  std::unique_ptr<GroupInspector> Inspector(std::chrono::milliseconds timeout = 10s) {
    GroupInspector::Options options;
    options.brokers = cluster_->bootstrap();
    options.kafka = {{"log_level", "4"}};
    options.timeout = timeout;
    auto inspector = GroupInspector::Connect(options);
    EXPECT_TRUE(inspector.ok()) << inspector.status().ToString();
    return inspector.ok() ? std::move(inspector.value()) : nullptr;
  }

  // Describe until `done` holds for the answer (announcements arrive once per
  // members.interval); returns the last answer.
  static Result<GroupDescription> DescribeUntil(GroupInspector& inspector, const std::string& group,
                                                const std::function<bool(const GroupDescription&)>& done,
                                                std::chrono::milliseconds timeout = 30s) {
    Result<GroupDescription> last = Status(Errc::kTimedOut, "not described yet");
    WaitUntil(
        [&] {
          last = inspector.Describe(group);
          return last.ok() && done(*last);
        },
        timeout);
    return last;
  }

  // Waits until the group committed `offset` on every partition of `topic`.
  void WaitCommitted(const std::string& group, const std::string& topic, int partitions, int64_t offset) {
    auto reader = OffsetReader::Create(cluster_->bootstrap(), group);
    ASSERT_TRUE(reader);
    std::map<int32_t, int64_t> committed;
    bool done = WaitUntil(
        [&] {
          committed = reader->Committed(topic, partitions);
          return std::all_of(committed.begin(), committed.end(), [&](auto& c) { return c.second == offset; }) &&
                 committed.size() == static_cast<size_t>(partitions);
        },
        60s);
    ASSERT_TRUE(done) << "committed offsets of " << group << " did not reach " << offset;
  }
};

std::string Owners(const GroupDescription& g) {
  std::string out;
  for (const auto& m : g.members) out += m.client_id + "=" + Describe(m.assignment) + " ";
  return out;
}

TEST_F(GroupsTest, DrainedGroupShowsCommittedAtTheEndOffsetAndLagZero) {
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = 50;
  ASSERT_TRUE(cluster_->CreateTopic("drain", kPartitions).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "drain", kPartitions, kPerPartition).ok());
  auto rt = MustCreate(BaseConfig(*cluster_, "r", "drain-group", "drain", Noop()));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  WaitCommitted("drain-group", "drain", kPartitions, kPerPartition);

  auto inspector = Inspector();
  ASSERT_TRUE(inspector);
  auto g = DescribeUntil(*inspector, "drain-group", [](const GroupDescription& d) {
    return d.members.size() == 1 && d.members[0].assignment.size() == kPartitions;
  });
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->members.size(), 1u) << Owners(*g);
  EXPECT_EQ(g->group, "drain-group");
  EXPECT_EQ(g->state, "Stable");
  EXPECT_EQ(g->members_from, "announcements");
  const GroupMember& member = g->members[0];
  EXPECT_EQ(member.client_id, "r");
  EXPECT_FALSE(member.member_id.empty());
  EXPECT_FALSE(member.host.empty());
  ASSERT_EQ(g->partitions.size(), static_cast<size_t>(kPartitions));
  for (int p = 0; p < kPartitions; ++p) {
    const GroupPartition& gp = g->partitions[p];
    EXPECT_EQ(gp.partition, (TopicPartition{"drain", Partition(p)}));
    EXPECT_EQ(gp.committed, kPerPartition) << gp.partition.ToString();
    EXPECT_EQ(gp.end_offset, kPerPartition) << gp.partition.ToString();
    EXPECT_EQ(gp.lag, 0) << gp.partition.ToString();
    EXPECT_EQ(gp.owner, member.member_id) << gp.partition.ToString();
  }
  EXPECT_EQ(g->TotalLag(), 0);
  StopWithin(*rt);
}

TEST_F(GroupsTest, StoppedGroupsLagIsWhatWasProducedAfterItsLastCommit) {
  constexpr int kPartitions = 3;
  constexpr int kConsumed = 20;
  constexpr int kLater = 7;
  ASSERT_TRUE(cluster_->CreateTopic("backlog", kPartitions).ok());
  ASSERT_TRUE(cluster_->CreateTopic("other", 2).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "backlog", kPartitions, kConsumed).ok());
  auto rt = MustCreate(BaseConfig(*cluster_, "r", "backlog-group", "backlog", Noop()));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  WaitCommitted("backlog-group", "backlog", kPartitions, kConsumed);
  StopWithin(*rt);
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "backlog", kPartitions, kLater).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "other", 2, 5).ok());

  auto inspector = Inspector();
  ASSERT_TRUE(inspector);
  // No topics given: the embedded broker cannot list a group's commits, so the
  // inspector finds "backlog" among all topics; "other" has no commits.
  auto g = inspector->Describe("backlog-group");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->state, "Empty");  // the member's tombstone removed it
  EXPECT_TRUE(g->members.empty()) << Owners(*g);
  ASSERT_EQ(g->partitions.size(), static_cast<size_t>(kPartitions));
  for (const auto& p : g->partitions) {
    EXPECT_EQ(p.partition.topic, "backlog");
    EXPECT_EQ(p.committed, kConsumed) << p.partition.ToString();
    EXPECT_EQ(p.end_offset, kConsumed + kLater) << p.partition.ToString();
    EXPECT_EQ(p.lag, kLater) << p.partition.ToString();
    EXPECT_TRUE(p.owner.empty()) << p.partition.ToString();
  }
  EXPECT_EQ(g->TotalLag(), kPartitions * kLater);

  // A named topic the group never committed to: lag from its low watermark.
  auto both = inspector->Describe("backlog-group", {"other", "backlog"});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->partitions.size(), static_cast<size_t>(kPartitions + 2));
  for (const auto& p : both->partitions) {
    if (p.partition.topic != "other") continue;
    EXPECT_EQ(p.committed, -1) << p.partition.ToString();
    EXPECT_EQ(p.end_offset, 5) << p.partition.ToString();
    EXPECT_EQ(p.lag, 5) << p.partition.ToString();
  }
  EXPECT_EQ(both->TotalLag(), kPartitions * kLater + 2 * 5);

  auto missing = inspector->Describe("backlog-group", {"no-such-topic"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), make_error_code(Errc::kNotFound));
  EXPECT_NE(missing.status().detail().find("no-such-topic"), std::string::npos) << missing.status().detail();
}

TEST_F(GroupsTest, TwoRuntimesAreTwoMembersWithDisjointAssignmentsCoveringEveryPartition) {
  constexpr int kPartitions = 6;
  ASSERT_TRUE(cluster_->CreateTopic("pair", kPartitions).ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "pair", kPartitions, 10).ok());
  auto a = MustCreate(BaseConfig(*cluster_, "a", "pair-group", "pair", Noop()));
  auto b = MustCreate(BaseConfig(*cluster_, "b", "pair-group", "pair", Noop()));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return !a->Assignment().empty() && !b->Assignment().empty() &&
               a->Assignment().size() + b->Assignment().size() == kPartitions;
      },
      60s))
      << "a=" << Describe(a->Assignment()) << " b=" << Describe(b->Assignment());

  auto inspector = Inspector();
  ASSERT_TRUE(inspector);
  // The announcements match the runtimes' own view once both re-announced
  // after the last rebalance.
  auto g = DescribeUntil(*inspector, "pair-group", [&](const GroupDescription& d) {
    return d.members.size() == 2 && d.members[0].assignment == a->Assignment() &&
           d.members[1].assignment == b->Assignment();
  });
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->members.size(), 2u) << Owners(*g);
  EXPECT_EQ(g->state, "Stable");
  EXPECT_EQ(g->members_from, "announcements");
  EXPECT_EQ(g->members[0].client_id, "a");  // sorted by client id
  EXPECT_EQ(g->members[1].client_id, "b");
  EXPECT_EQ(g->members[0].assignment, a->Assignment()) << Owners(*g);
  EXPECT_EQ(g->members[1].assignment, b->Assignment()) << Owners(*g);
  EXPECT_NE(g->members[0].member_id, g->members[1].member_id);

  std::map<TopicPartition, std::string> owner;  // from the members' assignments
  for (const auto& m : g->members) {
    for (const auto& tp : m.assignment) {
      EXPECT_TRUE(owner.emplace(tp, m.member_id).second) << tp.ToString() << " owned twice";
    }
  }
  EXPECT_EQ(owner.size(), static_cast<size_t>(kPartitions));
  ASSERT_EQ(g->partitions.size(), static_cast<size_t>(kPartitions));
  for (const auto& p : g->partitions) {
    EXPECT_EQ(p.owner, owner[p.partition]) << p.partition.ToString();
    EXPECT_EQ(p.end_offset, 10) << p.partition.ToString();
  }

  std::string groups_from;
  auto groups = inspector->ListGroups(&groups_from);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(groups_from, "announcements");
  EXPECT_EQ(*groups, std::vector<std::string>{"pair-group"});
  StopWithin(*a);
  StopWithin(*b);
}

TEST_F(GroupsTest, UnknownGroupIsNotFoundNamingIt) {
  ASSERT_TRUE(cluster_->CreateTopic("quiet", 2).ok());
  auto inspector = Inspector();
  ASSERT_TRUE(inspector);
  auto g = inspector->Describe("nobody-home");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), make_error_code(Errc::kNotFound));
  EXPECT_NE(g.status().detail().find("nobody-home"), std::string::npos) << g.status().detail();

  auto named = inspector->Describe("nobody-home", {"quiet"});
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().code(), make_error_code(Errc::kNotFound));

  auto empty = inspector->Describe("");
  EXPECT_EQ(empty.status().code(), make_error_code(Errc::kInvalidArgument));

  auto groups = inspector->ListGroups();
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_TRUE(groups->empty());
}

TEST_F(GroupsTest, UnreachableBrokersFailWithTimedOutNamingThemWithinTheTimeout) {
  GroupInspector::Options options;
  options.brokers = "127.0.0.1:1";
  options.kafka = {{"log_level", "0"}};
  options.timeout = 1500ms;
  auto start = Clock::now();
  auto inspector = GroupInspector::Connect(options);
  auto took = Clock::now() - start;
  ASSERT_FALSE(inspector.ok());
  EXPECT_EQ(inspector.status().code(), make_error_code(Errc::kTimedOut));
  EXPECT_NE(inspector.status().detail().find("127.0.0.1:1"), std::string::npos) << inspector.status().detail();
  EXPECT_LT(took, 3s);
}

TEST_F(GroupsTest, BrokerGoingDownFailsDescribeWithTimedOutWithinTheTimeout) {
  ASSERT_TRUE(cluster_->CreateTopic("gone", 2).ok());
  auto inspector = Inspector(2s);
  ASSERT_TRUE(inspector);
  ASSERT_TRUE(cluster_->SetBrokerDown(1).ok());
  auto start = Clock::now();
  auto g = inspector->Describe("any-group");
  auto took = Clock::now() - start;
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), make_error_code(Errc::kTimedOut)) << g.status().ToString();
  EXPECT_NE(g.status().detail().find(cluster_->bootstrap()), std::string::npos) << g.status().detail();
  EXPECT_LT(took, 3500ms);
  ASSERT_TRUE(cluster_->SetBrokerUp(1).ok());
}

}  // namespace
}  // namespace kstrand::test
