// A library application on the embedded broker gets the group behaviour the
// CLI gets, configured as the README's minimal program (brokers and a group,
// no librdkafka properties): RuntimeConfig::brokers, kafka/local_broker.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "harness.h"

namespace kstrand::test {
namespace {

using Clock = std::chrono::steady_clock;

class EmbeddedDefaultsTest : public MockTest {
 protected:
  // A private state-file directory: what `kstrand broker` records is this
  // test's alone, whatever broker runs on the machine.
  void SetUp() override {
    MockTest::SetUp();
    const char* old = std::getenv("XDG_RUNTIME_DIR");
    saved_dir_ = old ? std::optional<std::string>(old) : std::nullopt;
    dir_ = std::filesystem::temp_directory_path() / ("kstrand-state-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (saved_dir_) setenv("XDG_RUNTIME_DIR", saved_dir_->c_str(), 1);
    else unsetenv("XDG_RUNTIME_DIR");
    std::filesystem::remove_all(dir_);
  }
  // What `kstrand broker` writes (src/cli/broker.cc).
  void RecordBroker(const std::string& bootstrap, int64_t pid) const {
    std::ofstream(dir_ / ("kstrand-broker-" + std::to_string(getuid()) + "-" + std::to_string(pid) + ".json"))
        << R"({"bootstrap":")" << bootstrap << R"(","control":"http://127.0.0.1:1","pid":)" << pid << "}\n";
  }

  std::filesystem::path dir_;
  std::optional<std::string> saved_dir_;
};

RuntimeConfig LibraryConfig(const std::string& brokers, const std::string& name, Handler handler) {
  RuntimeConfig c;
  c.name = name;
  c.brokers = brokers;
  c.group_id = "billing";
  c.topics.push_back({"orders", std::move(handler)});
  return c;
}

// Before: with librdkafka's defaults (classic protocol, session.timeout.ms
// 45 s) the mock held the restarted member's join for ~44 s.
TEST_F(EmbeddedDefaultsTest, RestartedMemberOfALibraryAppGetsItsPartitionsBackWithinSeconds) {
  ASSERT_TRUE(cluster_->CreateTopic("orders", 4).ok());
  std::atomic<int> first_seen{0}, second_seen{0};
  auto first = MustCreate(LibraryConfig(cluster_->bootstrap(), "first", [&](const Message&) {
    ++first_seen;
    return Status::Ok();
  }));
  ASSERT_TRUE(first);
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "orders", 16, 25).ok());
  ASSERT_TRUE(first->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return first_seen == 400; }, 60s)) << first_seen;
  StopWithin(*first);

  // The same group, a new process's runtime: what a restart does.
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "orders", 16, 25).ok());
  auto second = MustCreate(LibraryConfig(cluster_->bootstrap(), "second", [&](const Message&) {
    ++second_seen;
    return Status::Ok();
  }));
  ASSERT_TRUE(second);
  const auto start = Clock::now();
  ASSERT_TRUE(second->Start().ok());
  const bool assigned = WaitUntil([&] { return second->Assignment().size() == 4; }, 20s);
  const auto rejoin = std::chrono::duration<double>(Clock::now() - start).count();
  RecordProperty("rejoin_seconds", std::to_string(rejoin));
  std::printf("restarted member owns %zu partitions after %.2f s\n", second->Assignment().size(), rejoin);
  EXPECT_TRUE(assigned) << "after 20 s the restarted member owns " << Describe(second->Assignment());
  EXPECT_LT(rejoin, 5.0);
  // Exactly what the first left: its offsets were committed, the backlog kept.
  EXPECT_TRUE(WaitUntil([&] { return second_seen >= 400; }, 10s)) << second_seen;
  EXPECT_EQ(second_seen, 400);
  StopWithin(*second);
}

TEST_F(EmbeddedDefaultsTest, EmptyBrokersMeanTheRecordedKstrandBrokerAndFailClearlyWithoutOne) {
  auto none = Runtime::Create(LibraryConfig("", "m", Noop()));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(none.status().detail().find("no embedded broker is running: start one with `kstrand broker`"),
            std::string::npos)
      << none.status().detail();

  // A broker whose process is gone (killed before removing its file) is not running.
  RecordBroker(cluster_->bootstrap(), 2147483646);
  EXPECT_FALSE(Runtime::Create(LibraryConfig("", "m", Noop())).ok());

  RecordBroker(cluster_->bootstrap(), getpid());
  auto rt = Runtime::Create(LibraryConfig("", "m", Noop()));
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_EQ((*rt)->config().brokers, cluster_->bootstrap());
  EXPECT_EQ((*rt)->config().kafka, EmbeddedCluster::ClientProperties());
}

TEST_F(EmbeddedDefaultsTest, EmbeddedPropertiesGoUnderTheUsersAndOnlyForEmbeddedBrokers) {
  // The user's properties win; their group.protocol picks the set.
  RuntimeConfig c = LibraryConfig(cluster_->bootstrap(), "m", Noop());
  c.kafka = {{"group.protocol", "classic"}, {"fetch.wait.max.ms", "50"}};
  auto classic = Runtime::Create(c);
  ASSERT_TRUE(classic.ok()) << classic.status().ToString();
  auto expected = EmbeddedCluster::ClientProperties("classic");
  expected["fetch.wait.max.ms"] = "50";
  EXPECT_EQ((*classic)->config().kafka, expected);

  // "localhost" is the embedded broker's 127.0.0.1 too.
  std::string localhost = cluster_->bootstrap();
  localhost.replace(0, localhost.find(':'), "localhost");
  auto by_name = Runtime::Create(LibraryConfig(localhost, "m", Noop()));
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ((*by_name)->config().kafka, EmbeddedCluster::ClientProperties());

  // Any other broker: exactly what the user gave.
  auto other = Runtime::Create(LibraryConfig("127.0.0.1:1", "m", Noop()));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE((*other)->config().kafka.empty());
  EXPECT_EQ((*other)->config().brokers, "127.0.0.1:1");

  // A cluster that stopped is no longer an embedded broker of this process.
  const std::string gone = cluster_->bootstrap();
  cluster_.reset();
  auto after = Runtime::Create(LibraryConfig(gone, "m", Noop()));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE((*after)->config().kafka.empty());
}

}  // namespace
}  // namespace kstrand::test
