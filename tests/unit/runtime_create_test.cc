// Runtime::Create validates the config without connecting.
#include "kstrand/runtime.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <tuple>
#include <vector>

namespace kstrand {
namespace {

RuntimeConfig Valid() {
  RuntimeConfig c;
  c.brokers = "127.0.0.1:1";  // never contacted by Create
  c.group_id = "g";
  c.topics.push_back({"orders", [](const Message&) { return Status::Ok(); }});
  return c;
}

void ExpectInvalid(RuntimeConfig c, const std::string& mention) {
  auto rt = Runtime::Create(std::move(c));
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(rt.status().detail().find(mention), std::string::npos) << rt.status().detail();
}

TEST(RuntimeCreateTest, ValidConfigCreatesAStoppedRuntimeWithoutConnecting) {
  auto rt = Runtime::Create(Valid());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_FALSE((*rt)->running());
  EXPECT_TRUE((*rt)->Assignment().empty());
  EXPECT_EQ((*rt)->config().group_id, "g");
  EXPECT_EQ((*rt)->Stats().processed, 0u);
  (*rt)->Stop();  // stopping a runtime that never started is harmless
  EXPECT_TRUE((*rt)->Wait().ok());
}

TEST(RuntimeCreateTest, MissingBrokersGroupOrTopicsAreInvalidArguments) {
  // Empty brokers mean the `kstrand broker` recorded in XDG_RUNTIME_DIR: look
  // where none is, whatever runs on this machine.
  char dir[] = "/tmp/kstrand-no-broker-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  const std::string restore = saved ? saved : "";
  setenv("XDG_RUNTIME_DIR", dir, 1);
  RuntimeConfig c = Valid();
  c.brokers.clear();
  ExpectInvalid(std::move(c), "no embedded broker is running");
  if (saved) setenv("XDG_RUNTIME_DIR", restore.c_str(), 1);
  else unsetenv("XDG_RUNTIME_DIR");
  rmdir(dir);
  c = Valid();
  c.group_id.clear();
  ExpectInvalid(std::move(c), "group");
  c = Valid();
  c.topics.clear();
  ExpectInvalid(std::move(c), "topics");
}

TEST(RuntimeCreateTest, TopicWithoutHandlerOrGivenTwiceIsInvalidArgument) {
  RuntimeConfig c = Valid();
  c.topics.push_back({"payments", nullptr});
  ExpectInvalid(std::move(c), "payments");
  c = Valid();
  c.topics.push_back({"orders", [](const Message&) { return Status::Ok(); }});
  ExpectInvalid(std::move(c), "twice");
  c = Valid();
  c.topics.push_back({"", [](const Message&) { return Status::Ok(); }});
  ExpectInvalid(std::move(c), "empty topic");
}

// The settings table's validation applies to the fields, not only to Set():
// a field assigned directly fails as its flag would, naming the setting.
TEST(RuntimeCreateTest, OutOfRangeFieldsAreRefusedNamingTheSetting) {
  using std::chrono::milliseconds;
  const std::vector<std::pair<std::function<void(RuntimeConfig&)>, std::string>> cases = {
      {[](RuntimeConfig& c) { c.workers = 0; }, "setting workers"},
      {[](RuntimeConfig& c) { c.workers = 5000; }, "setting workers"},
      {[](RuntimeConfig& c) { c.commit_interval = milliseconds(0); }, "setting commit.interval"},
      {[](RuntimeConfig& c) { c.revoke_timeout = milliseconds(-5); }, "setting revoke.timeout"},
      {[](RuntimeConfig& c) { c.shutdown_timeout = milliseconds(0); }, "setting shutdown.timeout"},
      {[](RuntimeConfig& c) { c.connect_timeout = milliseconds(-1); }, "setting connect.timeout"},
      {[](RuntimeConfig& c) { c.members_interval = milliseconds(0); }, "setting members.interval"},
      {[](RuntimeConfig& c) { c.lane_max_messages = 0; }, "setting lane.max.messages"},
      {[](RuntimeConfig& c) { c.lane_max_bytes = 10; }, "setting lane.max.bytes"},
      {[](RuntimeConfig& c) { c.max_in_flight = 0; }, "setting max.in.flight"},
      {[](RuntimeConfig& c) { c.max_ahead = 0; }, "setting max.ahead"},
      {[](RuntimeConfig& c) { c.batch_max_messages = 0; }, "setting batch.max.messages"},
      {[](RuntimeConfig& c) { c.delivery = static_cast<Delivery>(42); }, "setting delivery"},
  };
  for (const auto& [spoil, mention] : cases) {
    RuntimeConfig c = Valid();
    spoil(c);
    ExpectInvalid(std::move(c), mention);
  }
}

// librdkafka properties that would undo a guarantee are refused, naming the
// field to use instead; the values kstrand itself uses are accepted.
TEST(RuntimeCreateTest, KafkaPropertiesKstrandOwnsAreRefusedNamingTheFieldToUse) {
  const std::vector<std::tuple<std::string, std::string, Delivery, std::string>> refused = {
      {"group.id", "other", Delivery::kAtLeastOnce, "group_id"},
      {"bootstrap.servers", "h:9092", Delivery::kAtLeastOnce, "brokers"},
      {"enable.auto.commit", "true", Delivery::kAtLeastOnce, "enable.auto.commit"},
      {"enable.auto.offset.store", "true", Delivery::kAtLeastOnce, "enable.auto.offset.store"},
      {"transactional.id", "t-1", Delivery::kAtLeastOnce, "transactional_id"},
      {"transactional.id", "t-1", Delivery::kExactlyOnce, "transactional_id"},
      {"isolation.level", "read_uncommitted", Delivery::kExactlyOnce, "isolation.level"},
  };
  for (const auto& [name, value, delivery, mention] : refused) {
    RuntimeConfig c = Valid();
    c.delivery = delivery;
    c.kafka[name] = value;
    ExpectInvalid(std::move(c), mention);
  }
  RuntimeConfig c = Valid();
  c.kafka = {{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"},
             {"isolation.level", "read_uncommitted"}, {"session.timeout.ms", "10000"}};
  EXPECT_TRUE(Runtime::Create(std::move(c)).ok());
}

}  // namespace
}  // namespace kstrand
