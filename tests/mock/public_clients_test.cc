// The public clients a program uses beside its Runtime: Producer (sync and
// async sends), Admin (create, describe, list) and GlobalTable, against an
// in-process embedded cluster.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "harness.h"
#include "kstrand/admin.h"
#include "kstrand/global_table.h"
#include "kstrand/producer.h"

namespace kstrand::test {
namespace {

class PublicClientsTest : public MockTest {
 protected:
  std::unique_ptr<Producer> MakeProducer() {
    auto producer = Producer::Create({.brokers = cluster_->bootstrap(), .kafka = {{"log_level", "4"}}});
    EXPECT_TRUE(producer.ok()) << producer.status().ToString();
    return producer.ok() ? std::move(producer.value()) : nullptr;
  }
  std::unique_ptr<Admin> MakeAdmin() {
    auto admin = Admin::Connect({.brokers = cluster_->bootstrap(), .timeout = 5s});
    EXPECT_TRUE(admin.ok()) << admin.status().ToString();
    return admin.ok() ? std::move(admin.value()) : nullptr;
  }
};

TEST_F(PublicClientsTest, SyncSendReturnsTheOffsetItWasReadBackAt) {
  ASSERT_TRUE(cluster_->CreateTopic("events", 3).ok());
  auto producer = MakeProducer();
  ASSERT_TRUE(producer);
  std::vector<RecordPosition> positions;
  for (int i = 0; i < 5; ++i) {
    auto sent = producer->Send({.topic = "events", .key = "k", .value = "v" + std::to_string(i),
                                .headers = {{"h", "x"}}});
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    positions.push_back(*sent);
  }
  // One key: one partition, consecutive offsets from 0.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(positions[i].partition, positions[0].partition);
    EXPECT_EQ(positions[i].offset.value(), i);
  }
  auto read = ReadTopic(cluster_->bootstrap(), "events", 3, 5);
  ASSERT_EQ(read.size(), 5u);
  for (const auto& r : read) {
    EXPECT_EQ(r.partition, positions[0].partition.value());
    EXPECT_EQ(r.value, "v" + std::to_string(r.offset));
    EXPECT_EQ(r.key, std::optional<std::string>("k"));
    EXPECT_EQ(r.headers.at("h"), "x");
  }
  EXPECT_EQ(producer->delivered(), 5u);
  EXPECT_EQ(producer->failed(), 0u);
}

TEST_F(PublicClientsTest, AsyncSendReportsEachRecordsPositionOnce) {
  ASSERT_TRUE(cluster_->CreateTopic("events", 2).ok());
  auto producer = MakeProducer();
  ASSERT_TRUE(producer);
  constexpr int kRecords = 200;
  std::atomic<int> reports{0};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<std::pair<int32_t, int64_t>> positions;
  for (int i = 0; i < kRecords; ++i) {
    Status st = producer->SendAsync({.topic = "events", .key = std::to_string(i % 7), .value = "x"},
                                    [&](Result<RecordPosition> where) {
                                      ++reports;
                                      if (!where.ok()) {
                                        ++failures;
                                        return;
                                      }
                                      std::lock_guard lock(mu);
                                      positions.insert({where->partition.value(), where->offset.value()});
                                    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ASSERT_TRUE(producer->Flush(30s).ok());
  EXPECT_EQ(reports.load(), kRecords);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(positions.size(), static_cast<size_t>(kRecords));  // every position distinct
  EXPECT_EQ(ReadTopic(cluster_->bootstrap(), "events", 2, kRecords).size(), static_cast<size_t>(kRecords));
}

TEST_F(PublicClientsTest, TombstoneIsANullValueThatDeletesTheKeyFromAGlobalTable) {
  ASSERT_TRUE(cluster_->CreateTopic("users", 2).ok());
  auto producer = MakeProducer();
  ASSERT_TRUE(producer);
  ASSERT_TRUE(producer->Send({.topic = "users", .key = "a", .value = "1"}).ok());
  ASSERT_TRUE(producer->Send({.topic = "users", .key = "b", .value = "2"}).ok());
  ASSERT_TRUE(producer->Send({.topic = "users", .key = "b", .value = ""}).ok());  // empty, not null
  ASSERT_TRUE(producer->Send({.topic = "users", .key = "a", .tombstone = true}).ok());
  auto table = GlobalTable::Start({.brokers = cluster_->bootstrap(), .topic = "users"});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_TRUE((*table)->WaitCaughtUp(10s));
  EXPECT_EQ((*table)->Snapshot(), (std::map<std::string, std::string>{{"b", ""}}));
  EXPECT_EQ((*table)->Get("a"), std::nullopt);
  // Acknowledged before WaitCaughtUp: visible after it.
  ASSERT_TRUE(producer->Send({.topic = "users", .key = "c", .value = "3"}).ok());
  ASSERT_TRUE((*table)->WaitCaughtUp(10s));
  EXPECT_EQ((*table)->Get("c"), std::optional<std::string>("3"));
}

TEST_F(PublicClientsTest, CreatingAnExistingTopicFailsNamingIt) {
  ASSERT_TRUE(cluster_->CreateTopic("orders", 4).ok());
  auto admin = MakeAdmin();
  ASSERT_TRUE(admin);
  Status st = admin->CreateTopic({.name = "orders", .partitions = 4});
  EXPECT_EQ(st.code(), make_error_code(Errc::kAlreadyExists));
  EXPECT_EQ(st.detail(), "topic orders already exists");
  // EnsureTopic takes it as it is.
  EXPECT_TRUE(admin->EnsureTopic({.name = "orders", .partitions = 8}).ok());
  auto described = admin->DescribeTopic("orders");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->partitions.size(), 4u);
}

TEST_F(PublicClientsTest, DescribingAMissingTopicSaysNotFound) {
  auto admin = MakeAdmin();
  ASSERT_TRUE(admin);
  auto described = admin->DescribeTopic("nowhere");
  ASSERT_FALSE(described.ok());
  EXPECT_EQ(described.status().code(), make_error_code(Errc::kNotFound));
  EXPECT_EQ(described.status().detail(), "topic nowhere does not exist");
}

TEST_F(PublicClientsTest, DescribeAndListShowPartitionsAndWatermarks) {
  ASSERT_TRUE(cluster_->CreateTopic("b-topic", 3).ok());
  ASSERT_TRUE(cluster_->CreateTopic("a-topic", 1).ok());
  auto producer = MakeProducer();
  ASSERT_TRUE(producer);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(producer->Send({.topic = "a-topic", .value = "x", .partition = 0}).ok());
  auto admin = MakeAdmin();
  ASSERT_TRUE(admin);
  auto described = admin->DescribeTopic("a-topic", /*watermarks=*/true);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  ASSERT_EQ(described->partitions.size(), 1u);
  EXPECT_EQ(described->partitions[0].low.value(), 0);
  EXPECT_EQ(described->partitions[0].high.value(), 4);
  auto listed = admin->ListTopics();
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> names;
  for (const auto& t : *listed) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a-topic", "b-topic"}));
  EXPECT_EQ(listed->at(1).partitions.size(), 3u);
}

TEST_F(PublicClientsTest, CreatingATopicOnAnInProcessClusterSaysToUseTheCluster) {
  auto admin = MakeAdmin();
  ASSERT_TRUE(admin);
  Status st = admin->CreateTopic({.name = "fresh", .partitions = 2});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.detail().find("create topic fresh"), std::string::npos) << st.detail();
  EXPECT_NE(st.detail().find("EmbeddedCluster::CreateTopic"), std::string::npos) << st.detail();
}

TEST_F(PublicClientsTest, BadPropertyIsRefusedNamingIt) {
  auto producer = Producer::Create({.brokers = cluster_->bootstrap(), .kafka = {{"no.such.property", "1"}}});
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(producer.status().detail().find("no.such.property"), std::string::npos);
}

}  // namespace
}  // namespace kstrand::test
