// The log sink (kstrand/log.h): kstrand's lines and librdkafka's reach it, one
// line per event, repeats of a warning limited, levels filtered, and a sink
// that throws harms nobody.
#include "kstrand/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "kafka/client.h"

namespace kstrand {
namespace {

struct Captured {
  LogLevel level;
  std::string component;
  std::string message;
};

// Installs a sink collecting every record for the test's lifetime.
class CapturingSink {
 public:
  CapturingSink() {
    SetLogSink([this](const LogRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back({r.level, std::string(r.component), std::string(r.message)});
    });
  }
  ~CapturingSink() { SetLogSink(nullptr); }
  std::vector<Captured> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  size_t Count(const std::string& part) const {
    size_t n = 0;
    for (const auto& r : records()) n += r.message.find(part) != std::string::npos;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Captured> records_;
};

// What reaches fd 2 while `body` runs.
template <typename F>
std::string Stderr(F body) {
  std::fflush(stderr);
  char path[] = "/tmp/kstrand-log-test-XXXXXX";
  int fd = mkstemp(path);
  int saved = dup(2);
  dup2(fd, 2);
  body();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  return text.str();
}

TEST(LogTest, KstrandLinesReachTheSinkWithLevelAndComponent) {
  CapturingSink sink;
  spdlog::info("log-test: assigned {}", 3);
  spdlog::error("log-test: commit failed");
  auto records = sink.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].level, LogLevel::kInfo);
  EXPECT_EQ(records[0].component, "kstrand");
  EXPECT_EQ(records[0].message, "log-test: assigned 3");
  EXPECT_EQ(records[1].level, LogLevel::kError);
}

TEST(LogTest, RepeatedWarningPassesOncePerIntervalWhileInfoLinesAreNeverLimited) {
  CapturingSink sink;
  // The same text up to its numbers counts as a repeat (librdkafka's
  // "after 0ms", "after 1ms" ...).
  for (int i = 0; i < 200; ++i) spdlog::warn("repeat-test: 1/1 brokers are down (after {}ms)", i);
  spdlog::warn("repeat-test: 1/1 brokers are down (after 0ms, 4 identical error(s) suppressed)");
  for (int i = 0; i < 5; ++i) spdlog::info("repeat-test: partitions assigned");
  spdlog::warn("repeat-test: another warning");
  // A number that ends a name tells two members apart.
  spdlog::warn("repeat-test-2: 1/1 brokers are down (after 0ms)");
  spdlog::warn("repeat-test-2: 0/2 brokers are down (after 3ms)");
  EXPECT_EQ(sink.Count("repeat-test: 1/1 brokers are down"), 1u);
  EXPECT_EQ(sink.Count("repeat-test-2: 1/1 brokers are down"), 1u);
  EXPECT_EQ(sink.Count("brokers are down"), 2u);
  EXPECT_EQ(sink.Count("partitions assigned"), 5u);
  EXPECT_EQ(sink.Count("another warning"), 1u);
}

TEST(LogTest, LinesBelowTheMinimumLevelAreDropped) {
  CapturingSink sink;
  SetLogLevel(LogLevel::kWarning);
  spdlog::info("level-test: info");
  spdlog::warn("level-test: warning");
  SetLogLevel(LogLevel::kDebug);
  spdlog::debug("level-test: debug");
  SetLogLevel(LogLevel::kInfo);
  spdlog::debug("level-test: debug hidden");
  EXPECT_EQ(sink.Count("level-test: info"), 0u);
  EXPECT_EQ(sink.Count("level-test: warning"), 1u);
  EXPECT_EQ(sink.Count("level-test: debug"), 1u);
  EXPECT_EQ(GetLogLevel(), LogLevel::kInfo);
}

TEST(LogTest, ASinkThatThrowsLosesItsLineAndNothingElse) {
  SetLogSink([](const LogRecord&) { throw std::runtime_error("sink broke"); });
  spdlog::error("throw-test: dropped");
  SetLogSink(nullptr);
  std::string out = Stderr([] { spdlog::error("throw-test: after"); });
  EXPECT_NE(out.find("throw-test: after"), std::string::npos) << out;
  EXPECT_EQ(out.find("throw-test: dropped"), std::string::npos) << out;
}

TEST(LogTest, DefaultOutputIsOneStderrLinePerRecord) {
  std::string out = Stderr([] { spdlog::warn("default-test: {}", "on stderr"); });
  EXPECT_NE(out.find(" warning default-test: on stderr\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// librdkafka warns about a consumer property given to a producer; the line
// comes through the sink as "librdkafka", and librdkafka prints nothing itself.
TEST(LogTest, LibrdkafkaLinesGoThroughTheSinkNotStraightToStderr) {
  CapturingSink sink;
  std::string out = Stderr([] {
    auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", "127.0.0.1:1"},
                                                    {"fetch.wait.max.ms", "20"}});
    ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  });
  EXPECT_EQ(out, "");
  bool seen = false;
  for (const auto& r : sink.records()) {
    if (r.component == "librdkafka" && r.message.find("fetch.wait.max.ms") != std::string::npos) {
      seen = true;
      EXPECT_EQ(r.level, LogLevel::kWarning);
      EXPECT_NE(r.message.find("CONFWARN"), std::string::npos) << r.message;
    }
  }
  EXPECT_TRUE(seen) << "no librdkafka record about fetch.wait.max.ms";
}

}  // namespace
}  // namespace kstrand

// -X debug=... on a member must trace its helper clients too (the output
// producer of --forward-to is where exactly-once problems show), while the
// consumer's own tuning stays the consumer's.
TEST(LogTest, DebugContextsReachAMembersHelperClients) {
  kstrand::kafka::Properties consumer{
      {"debug", "eos,broker"}, {"sasl.username", "u"}, {"session.timeout.ms", "6000"}};
  auto helper = kstrand::kafka::ConnectionProperties("127.0.0.1:9092", consumer, "m-output");
  EXPECT_EQ(helper["debug"], "eos,broker");
  EXPECT_EQ(helper["sasl.username"], "u");
  EXPECT_EQ(helper["client.id"], "m-output");
  EXPECT_EQ(helper.count("session.timeout.ms"), 0u);
}
