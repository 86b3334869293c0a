// RuntimeConfig::Set/Get and the settings table; -X key=value properties.
#include "kstrand/config.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "kstrand/parse.h"

namespace kstrand {
namespace {

using namespace std::chrono_literals;

TEST(RuntimeConfigTest, SetAcceptsGoodValuesForEverySetting) {
  RuntimeConfig c;
  ASSERT_TRUE(c.Set("workers", "8").ok());
  EXPECT_EQ(c.workers, 8u);
  ASSERT_TRUE(c.Set("commit.interval", "250ms").ok());
  EXPECT_EQ(c.commit_interval, 250ms);
  ASSERT_TRUE(c.Set("revoke.timeout", "2s").ok());
  EXPECT_EQ(c.revoke_timeout, 2s);
  ASSERT_TRUE(c.Set("shutdown.timeout", "1m").ok());
  EXPECT_EQ(c.shutdown_timeout, 60s);
  ASSERT_TRUE(c.Set("connect.timeout", "1500").ok());  // a bare number is milliseconds
  EXPECT_EQ(c.connect_timeout, 1500ms);
  ASSERT_TRUE(c.Set("lane.max.messages", "1").ok());
  EXPECT_EQ(c.lane_max_messages, 1u);
  ASSERT_TRUE(c.Set("lane.max.bytes", "1024").ok());
  EXPECT_EQ(c.lane_max_bytes, 1024u);
  ASSERT_TRUE(c.Set("delivery", "at-most-once").ok());
  EXPECT_EQ(c.delivery, Delivery::kAtMostOnce);
  ASSERT_TRUE(c.Set("delivery", "at-least-once").ok());
  EXPECT_EQ(c.delivery, Delivery::kAtLeastOnce);
  ASSERT_TRUE(c.Set("delivery", "exactly-once").ok());
  EXPECT_EQ(c.delivery, Delivery::kExactlyOnce);
  ASSERT_TRUE(c.Set("transactional.id", "orders-replica-1").ok());
  EXPECT_EQ(c.transactional_id, "orders-replica-1");
}

TEST(RuntimeConfigTest, GetFormatsValuesAsSetAcceptsThem) {
  RuntimeConfig c;
  ASSERT_TRUE(c.Set("commit.interval", "250ms").ok());
  EXPECT_EQ(c.Get("commit.interval"), "250ms");
  ASSERT_TRUE(c.Set("shutdown.timeout", "120000").ok());
  EXPECT_EQ(c.Get("shutdown.timeout"), "2m");
  ASSERT_TRUE(c.Set("workers", "16").ok());
  EXPECT_EQ(c.Get("workers"), "16");
  EXPECT_EQ(c.Get("no.such.setting"), "");
  // Round trip: feeding every Get back into Set changes nothing.
  RuntimeConfig copy;
  for (const Setting& s : Settings()) {
    ASSERT_TRUE(copy.Set(s.name, c.Get(s.name)).ok()) << s.name;
    EXPECT_EQ(copy.Get(s.name), c.Get(s.name)) << s.name;
  }
}

TEST(RuntimeConfigTest, SettingsTableDefaultsMatchADefaultConfig) {
  const RuntimeConfig defaults;
  std::set<std::string_view> names;
  for (const Setting& s : Settings()) {
    EXPECT_TRUE(names.insert(s.name).second) << "declared twice: " << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_EQ(defaults.Get(s.name), s.default_value) << s.name;
  }
  EXPECT_EQ(names.size(), 14u);
}

struct BadValue {
  const char* setting;
  const char* value;
};

void PrintTo(const BadValue& v, std::ostream* os) { *os << v.setting << "=" << v.value; }

class RuntimeConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(RuntimeConfigBadValueTest, SetRejectsWithInvalidArgumentNamingTheSettingAndValue) {
  RuntimeConfig c;
  const std::string before = c.Get(GetParam().setting);
  Status st = c.Set(GetParam().setting, GetParam().value);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(st.detail().find(GetParam().setting), std::string::npos) << st.detail();
  EXPECT_EQ(c.Get(GetParam().setting), before) << "a rejected value must not change the config";
}

INSTANTIATE_TEST_SUITE_P(
    AllSettings, RuntimeConfigBadValueTest,
    ::testing::Values(BadValue{"workers", "0"}, BadValue{"workers", "1025"}, BadValue{"workers", "four"},
                      BadValue{"workers", "-1"}, BadValue{"workers", "4x"}, BadValue{"workers", ""},
                      BadValue{"commit.interval", "fast"}, BadValue{"commit.interval", "-5s"},
                      BadValue{"commit.interval", "1.5s"}, BadValue{"commit.interval", "10d"},
                      BadValue{"commit.interval", ""}, BadValue{"revoke.timeout", "s"},
                      BadValue{"shutdown.timeout", "99999999999999999h"},
                      BadValue{"commit.interval", "100000000h"},  // over the 30-day bound
                      BadValue{"connect.timeout", "9223372036854775807s"},
                      BadValue{"lane.max.messages", "0"}, BadValue{"lane.max.bytes", "1023"},
                      BadValue{"max.in.flight", "0"}, BadValue{"max.ahead", "24001"},
                      BadValue{"batch.max.messages", "0"},
                      BadValue{"delivery", "exactly_once"}, BadValue{"delivery", "AT-LEAST-ONCE"}),
    [](const ::testing::TestParamInfo<BadValue>& info) {
      std::string name = std::to_string(info.index) + "_" + info.param.setting;
      for (char& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(RuntimeConfigTest, BadValueErrorSaysWhatWasExpected) {
  RuntimeConfig c;
  Status st = c.Set("workers", "0");
  EXPECT_NE(st.detail().find("1..1024"), std::string::npos) << st.detail();
  st = c.Set("commit.interval", "fast");
  EXPECT_NE(st.detail().find("'fast'"), std::string::npos) << st.detail();
  st = c.Set("delivery", "once");
  EXPECT_NE(st.detail().find("at-least-once, at-most-once or exactly-once"), std::string::npos) << st.detail();
}

TEST(RuntimeConfigTest, UnknownSettingIsInvalidArgumentNamingItAndListingTheSettings) {
  RuntimeConfig c;
  Status st = c.Set("worker.count", "4");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(st.detail().find("worker.count"), std::string::npos) << st.detail();
  EXPECT_NE(st.detail().find("unknown"), std::string::npos) << st.detail();
  for (const Setting& s : Settings()) EXPECT_NE(st.detail().find(s.name), std::string::npos) << s.name;
}

TEST(RuntimeConfigTest, ZeroDurationsAreRefusedForEveryTimeoutAndInterval) {
  RuntimeConfig c;
  for (const char* name : {"commit.interval", "revoke.timeout", "shutdown.timeout", "connect.timeout",
                           "members.interval"}) {
    Status st = c.Set(name, "0s");
    EXPECT_FALSE(st.ok()) << name;
    EXPECT_NE(st.detail().find(name), std::string::npos) << st.detail();
  }
}

TEST(ParsePropertiesTest, SplitsAtTheFirstEqualsAndKeepsTheLastValueOfAKey) {
  const std::vector<std::string> given{"sasl.password=a=b", "acks=all", "acks=1", "empty="};
  auto props = ParseProperties(given);
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_EQ(*props, (std::map<std::string, std::string>{{"sasl.password", "a=b"}, {"acks", "1"}, {"empty", ""}}));
}

TEST(ParsePropertiesTest, NamesTheFirstPairWithoutAKey) {
  // A pair without a key is not echoed: its value may be a password.
  for (const auto& [bad, message] : std::vector<std::pair<std::string, std::string>>{
           {"acks", "-X acks: expected key=value"}, {"=secret", "-X =...: expected key=value, the key is empty"}}) {
    const std::vector<std::string> given{"linger.ms=5", bad, "=2"};
    auto props = ParseProperties(given);
    ASSERT_FALSE(props.ok()) << bad;
    EXPECT_EQ(props.status().code(), make_error_code(Errc::kInvalidArgument));
    EXPECT_EQ(props.status().detail(), message);
  }
}

}  // namespace
}  // namespace kstrand
