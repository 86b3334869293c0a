// Runtime::Create validates the config without connecting.
#include "kstrand/runtime.h"

#include <gtest/gtest.h>

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
  RuntimeConfig c = Valid();
  c.brokers.clear();
  ExpectInvalid(std::move(c), "brokers");
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

}  // namespace
}  // namespace kstrand
