// Start-up failures are fast and say what is wrong: unreachable brokers, a
// missing topic, a bad librdkafka property.
#include <gtest/gtest.h>

#include "harness.h"

namespace kstrand::test {
namespace {

using Clock = std::chrono::steady_clock;

class StartupTest : public MockTest {};

RuntimeConfig Config(const std::string& brokers, const std::string& topic) {
  RuntimeConfig c;
  c.name = "startup";
  c.brokers = brokers;
  c.group_id = "startup-group";
  c.kafka = EmbeddedCluster::ClientProperties();
  c.topics.push_back({topic, Noop()});
  return c;
}

TEST(StartupNoBrokerTest, UnreachableBrokersFailStartWithTimedOutWithinConnectTimeout) {
  RuntimeConfig c = Config("127.0.0.1:1", "orders");
  ASSERT_TRUE(c.Set("connect.timeout", "2s").ok());
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  auto start = Clock::now();
  Status st = rt->Start();
  auto took = Clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), make_error_code(Errc::kTimedOut)) << st.ToString();
  EXPECT_NE(st.detail().find("127.0.0.1:1"), std::string::npos) << st.detail();
  EXPECT_LT(took, 4s) << "Start() did not respect connect.timeout";
  EXPECT_FALSE(rt->running());
}

TEST_F(StartupTest, MissingTopicFailsStartWithNotFoundNamingTheTopic) {
  ASSERT_TRUE(cluster_->CreateTopic("present", 2).ok());
  RuntimeConfig c = Config(cluster_->bootstrap(), "present");
  c.topics.push_back({"absent-topic", Noop()});
  auto rt = MustCreate(std::move(c));
  ASSERT_TRUE(rt);
  Status st = rt->Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), make_error_code(Errc::kNotFound)) << st.ToString();
  EXPECT_NE(st.detail().find("absent-topic"), std::string::npos) << st.detail();
  EXPECT_FALSE(rt->running());
}

TEST_F(StartupTest, StartSucceedsWhenEveryTopicExistsAndSecondStartIsRefused) {
  ASSERT_TRUE(cluster_->CreateTopic("present", 2).ok());
  auto rt = MustCreate(Config(cluster_->bootstrap(), "present"));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  EXPECT_TRUE(rt->running());
  Status again = rt->Start();
  EXPECT_EQ(again.code(), make_error_code(Errc::kInvalidArgument)) << again.ToString();
  rt->Stop();
  EXPECT_FALSE(rt->running());
  rt->Stop();  // idempotent
  EXPECT_TRUE(rt->Wait().ok());
}

TEST(StartupNoBrokerTest, UnknownLibrdkafkaPropertyFailsCreateWithLibrdkafkasText) {
  RuntimeConfig c = Config("127.0.0.1:1", "orders");
  c.kafka["no.such.property"] = "1";
  auto rt = Runtime::Create(std::move(c));
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(rt.status().detail().find("No such configuration property"), std::string::npos) << rt.status().detail();
  EXPECT_NE(rt.status().detail().find("no.such.property"), std::string::npos) << rt.status().detail();
}

TEST(StartupNoBrokerTest, BadLibrdkafkaValueFailsCreateWithLibrdkafkasText) {
  RuntimeConfig c = Config("127.0.0.1:1", "orders");
  c.kafka["session.timeout.ms"] = "soon";
  auto rt = Runtime::Create(std::move(c));
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(rt.status().detail().find("session.timeout.ms"), std::string::npos) << rt.status().detail();
  EXPECT_NE(rt.status().detail().find("Invalid value"), std::string::npos) << rt.status().detail();
}

}  // namespace
}  // namespace kstrand::test
