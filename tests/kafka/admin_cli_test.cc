// The kstrand command's admin subcommands against a real broker: `topics
// create` through the Admin API, and `groups describe` through
// DescribeConsumerGroups (the embedded broker has neither).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "mock/harness.h"

namespace kstrand::test {
namespace {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs the kstrand binary built next to this test with `args` (no shell
// metacharacters in them: they are topic and group names from UniqueName).
CliResult RunCli(const std::string& args) {
  CliResult r;
  std::string command = std::string(KSTRAND_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen " << command;
    return r;
  }
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// No group involved: once, not once per protocol.
class TopicsCliTest : public ScenarioTest {};
INSTANTIATE_TEST_SUITE_P(, TopicsCliTest, ::testing::Values(GroupProtocol::kClassic),
                         [](const auto&) { return std::string("admin"); });

class GroupsCliTest : public ScenarioTest {};
KSTRAND_SCENARIO_SUITE(GroupsCliTest);

TEST_P(TopicsCliTest, CreateMakesTheRequestedPartitionsAndRefusesADuplicate) {
  const std::string topic = UniqueName("cli-created");
  CliResult created = RunCli("topics create -b " + bootstrap() + " -t " + topic + " -p 5");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("created topic " + topic + " with 5 partitions"), std::string::npos)
      << created.output;

  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap()}, {"log_level", "4"}});
  ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  size_t partitions = 0;
  EXPECT_TRUE(WaitUntil([&] {
    auto topics = kafka::DescribeTopics(rk->get(), 5000, topic);
    partitions = topics.ok() ? topics->front().partitions.size() : 0;
    return partitions == 5;
  }, 15s)) << "metadata shows " << partitions << " partitions";

  CliResult again = RunCli("topics create -b " + bootstrap() + " -t " + topic + " -p 5");
  EXPECT_NE(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("created topic"), std::string::npos) << again.output;
}

TEST_P(GroupsCliTest, DescribeShowsBothMembersTheirPartitionsCommittedOffsetsAndLag) {
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = 25;
  const std::string topic = NewTopic("cli-described", kPartitions);
  ASSERT_FALSE(topic.empty());
  const std::string group = UniqueName("cli-group");
  ASSERT_TRUE(ProduceToPartitions(bootstrap(), topic, kPartitions, kPerPartition).ok());

  SeenLog seen;
  Handler handler = [&](const Message& m) {
    seen.Record(m);
    return Status::Ok();
  };
  auto a = MustCreate(Config("a", group, topic, handler));
  auto b = MustCreate(Config("b", group, topic, handler));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return a->Assignment().size() == 2 && b->Assignment().size() == 2; }, 60s))
      << "a=" << Describe(a->Assignment()) << " b=" << Describe(b->Assignment());
  ASSERT_TRUE(WaitUntil([&] { return seen.unique() == kPartitions * kPerPartition; }, 30s)) << seen.unique();
  auto reader = OffsetReader::Create(bootstrap(), group);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(WaitUntil([&] {
    auto committed = reader->Committed(topic, kPartitions);
    return std::all_of(committed.begin(), committed.end(), [&](auto& c) { return c.second == kPerPartition; });
  }, 15s)) << "the members did not commit every partition's end";

  CliResult described = RunCli("groups describe -b " + bootstrap() + " -G " + group + " --json");
  ASSERT_EQ(described.exit_code, 0) << described.output;
  nlohmann::json j = nlohmann::json::parse(described.output, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << described.output;
  EXPECT_EQ(j["group"], group);
  EXPECT_EQ(j["state"], "Stable") << described.output;
  EXPECT_EQ(j["members_from"], "broker") << described.output;
  EXPECT_EQ(j["total_lag"], 0) << described.output;

  // Both members, each with the partitions its runtime reports.
  ASSERT_TRUE(j["members"].is_array()) << described.output;
  ASSERT_EQ(j["members"].size(), 2u) << described.output;
  std::map<std::string, std::set<int32_t>> by_member;
  for (const auto& m : j["members"]) {
    std::set<int32_t>& parts = by_member[m["member_id"].get<std::string>()];
    for (const auto& tp : m["assignment"]) {
      EXPECT_EQ(tp["topic"], topic);
      parts.insert(tp["partition"].get<int32_t>());
    }
  }
  const std::string id_a = a->Stats().member_id, id_b = b->Stats().member_id;
  ASSERT_TRUE(by_member.count(id_a)) << "a (" << id_a << ") is not among the members: " << described.output;
  ASSERT_TRUE(by_member.count(id_b)) << "b (" << id_b << ") is not among the members: " << described.output;
  EXPECT_EQ(by_member[id_a], Partitions(a->Assignment()));
  EXPECT_EQ(by_member[id_b], Partitions(b->Assignment()));

  // Every partition: committed at its end, lag 0, owned by the member that has it.
  ASSERT_EQ(j["partitions"].size(), static_cast<size_t>(kPartitions)) << described.output;
  for (const auto& p : j["partitions"]) {
    const int32_t partition = p["partition"].get<int32_t>();
    EXPECT_EQ(p["committed"], kPerPartition) << p.dump();
    EXPECT_EQ(p["end_offset"], kPerPartition) << p.dump();
    EXPECT_EQ(p["lag"], 0) << p.dump();
    const std::string owner = p["owner"].is_string() ? p["owner"].get<std::string>() : "";
    EXPECT_EQ(owner, by_member[id_a].count(partition) ? id_a : id_b) << p.dump();
  }
  StopWithin(*a);
  StopWithin(*b);
}

}  // namespace
}  // namespace kstrand::test
