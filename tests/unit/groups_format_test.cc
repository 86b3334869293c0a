// `kstrand groups describe` output from a hand-built GroupDescription: the
// kafka-consumer-groups layout, '-' for unknowns, the members table, the
// summary line naming where members came from, and the JSON.
#include "cli/groups_format.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace kstrand::cli {
namespace {

TopicPartition Tp(const std::string& topic, int32_t p) { return {topic, Partition(p)}; }

// Two members from announcements, one partition without an owner, one never committed.
GroupDescription Sample() {
  GroupDescription g;
  g.group = "billing";
  g.state = "Stable";
  g.members_from = "announcements";
  g.members = {{"a-0000000a", "a", "host-a", "http://10.0.0.1:8080", {Tp("orders", 0), Tp("orders", 1)}},
               {"b-0000000b", "b", "host-b", "", {Tp("orders", 2)}}};
  g.partitions = {{Tp("orders", 0), 100, 110, 10, "a-0000000a"},
                  {Tp("orders", 1), 50, 50, 0, "a-0000000a"},
                  {Tp("orders", 2), -1, 7, 7, "b-0000000b"},
                  {Tp("orders", 3), 3, -1, -1, ""}};
  return g;
}

std::vector<std::vector<std::string>> Split(const std::string& table) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find_last_not_of(' '), line.size() - 1) << "trailing blanks: '" << line << "'";
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    rows.push_back(row);
  }
  return rows;
}

TEST(GroupsFormatTest, TotalLagSumsKnownLagsOnly) {
  EXPECT_EQ(Sample().TotalLag(), 17);
  EXPECT_EQ(GroupDescription().TotalLag(), 0);
}

TEST(GroupsFormatTest, OffsetsTableHasKafkaColumnsOneRowPerPartitionAndDashesForUnknowns) {
  std::string table = FormatOffsetsTable(Sample());
  auto rows = Split(table);
  ASSERT_EQ(rows.size(), 5u) << table;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                                               "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"billing", "orders", "0", "100", "110", "10", "a-0000000a", "host-a", "a"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"billing", "orders", "1", "50", "50", "0", "a-0000000a", "host-a", "a"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"billing", "orders", "2", "-", "7", "7", "b-0000000b", "host-b", "b"}));
  EXPECT_EQ(rows[4], (std::vector<std::string>{"billing", "orders", "3", "3", "-", "-", "-", "-", "-"}));
}

TEST(GroupsFormatTest, OffsetsTableColumnsAreAligned) {
  std::string table = FormatOffsetsTable(Sample());
  std::istringstream lines(table);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  // Each column starts where its header starts.
  for (const char* column : {"TOPIC", "PARTITION", "CURRENT-OFFSET", "LAG", "CLIENT-ID"}) {
    size_t at = header.find(column);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(row[at - 1], ' ') << column;
    EXPECT_NE(row[at], ' ') << column;
  }
}

TEST(GroupsFormatTest, MembersTableListsAssignmentsAndEndpointsWhenAnyMemberHasOne) {
  auto rows = Split(FormatMembersTable(Sample()));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS",
                                               "ASSIGNMENT", "ENDPOINT"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"billing", "a-0000000a", "host-a", "a", "2", "orders[0,1]",
                                               "http://10.0.0.1:8080"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"billing", "b-0000000b", "host-b", "b", "1", "orders[2]", "-"}));

  GroupDescription no_endpoints = Sample();
  for (auto& m : no_endpoints.members) m.endpoint.clear();
  no_endpoints.members[1].assignment.clear();
  rows = Split(FormatMembersTable(no_endpoints));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].back(), "ASSIGNMENT");
  EXPECT_EQ(rows[2], (std::vector<std::string>{"billing", "b-0000000b", "host-b", "b", "0", "-"}));
}

TEST(GroupsFormatTest, SummarySaysStateMembersSourceAndTotalLag) {
  std::string s = GroupSummary(Sample(), "__kstrand_members");
  EXPECT_NE(s.find("'billing' is Stable with 2 members"), std::string::npos) << s;
  EXPECT_NE(s.find("announcements on __kstrand_members"), std::string::npos) << s;
  EXPECT_NE(s.find("total lag 17."), std::string::npos) << s;

  GroupDescription empty;
  empty.group = "idle";
  empty.state = "Empty";
  empty.members_from = "broker";
  s = GroupSummary(empty, "__kstrand_members");
  EXPECT_EQ(s, "Consumer group 'idle' is Empty, no active members; total lag 0.");
}

TEST(GroupsFormatTest, JsonCarriesEveryFieldWithNullForUnknowns) {
  nlohmann::json j = GroupToJson(Sample());
  // Round trip through text, as a script reading --json would.
  j = nlohmann::json::parse(j.dump());
  EXPECT_EQ(j["group"], "billing");
  EXPECT_EQ(j["state"], "Stable");
  EXPECT_EQ(j["members_from"], "announcements");
  EXPECT_EQ(j["total_lag"], 17);
  ASSERT_EQ(j["members"].size(), 2u);
  EXPECT_EQ(j["members"][0]["member_id"], "a-0000000a");
  EXPECT_EQ(j["members"][0]["client_id"], "a");
  EXPECT_EQ(j["members"][0]["host"], "host-a");
  EXPECT_EQ(j["members"][0]["endpoint"], "http://10.0.0.1:8080");
  EXPECT_EQ(j["members"][0]["assignment"],
            nlohmann::json::parse(R"([{"topic":"orders","partition":0},{"topic":"orders","partition":1}])"));
  EXPECT_TRUE(j["members"][1]["endpoint"].is_null());
  ASSERT_EQ(j["partitions"].size(), 4u);
  EXPECT_EQ(j["partitions"][0],
            nlohmann::json::parse(
                R"({"topic":"orders","partition":0,"committed":100,"end_offset":110,"lag":10,"owner":"a-0000000a"})"));
  EXPECT_TRUE(j["partitions"][2]["committed"].is_null());
  EXPECT_EQ(j["partitions"][2]["lag"], 7);
  EXPECT_TRUE(j["partitions"][3]["end_offset"].is_null());
  EXPECT_TRUE(j["partitions"][3]["lag"].is_null());
  EXPECT_TRUE(j["partitions"][3]["owner"].is_null());
}

}  // namespace
}  // namespace kstrand::cli
