// A broker going down while a runtime runs: the log sink gets a few lines,
// not hundreds (before: 195 copies of "1/1 brokers are down" in 10 s, plus
// librdkafka's own FAIL lines on stderr), and says how many repeats it held back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "harness.h"
#include "kstrand/log.h"

namespace kstrand::test {
namespace {

class LogSinkTest : public MockTest {};

struct Record {
  LogLevel level;
  std::string component;
  std::string message;
  std::chrono::steady_clock::time_point at;
};

TEST_F(LogSinkTest, ABrokerDownForTenSecondsLogsAFewLinesAndCountsTheRepeatsItHeldBack) {
  ASSERT_TRUE(cluster_->CreateTopic("orders", 4).ok());
  auto rt = MustCreate(BaseConfig(*cluster_, "member-1", "g", "orders", Noop()));
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return rt->Assignment().size() == 4; }, 30s));

  std::mutex mu;
  std::vector<Record> records;
  SetLogSink([&](const LogRecord& r) {
    std::lock_guard lock(mu);
    records.push_back({r.level, std::string(r.component), std::string(r.message), std::chrono::steady_clock::now()});
  });
  const auto down = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster_->SetBrokerDown(1).ok());
  std::this_thread::sleep_for(10s);
  std::vector<Record> in_ten_seconds;
  {
    std::lock_guard lock(mu);
    in_ten_seconds = records;
  }
  // A little past the repeat interval: a repeat passes again, with its count.
  std::this_thread::sleep_for(kLogRepeatInterval - 10s + 3s);
  ASSERT_TRUE(cluster_->SetBrokerUp(1).ok());
  SetLogSink(nullptr);

  for (const auto& r : in_ten_seconds) {
    std::printf("%5.2f s %s %s: %s\n", std::chrono::duration<double>(r.at - down).count(),
                std::string(LogLevelName(r.level)).c_str(), r.component.c_str(), r.message.c_str());
  }
  std::printf("%zu lines in the 10 s the broker was down\n", in_ten_seconds.size());
  RecordProperty("lines_in_10s_broker_down", static_cast<int>(in_ten_seconds.size()));
  EXPECT_GE(in_ten_seconds.size(), 1u) << "the outage was not reported at all";
  // Per client that reports it (the consumer, the members producer): all
  // brokers down, and a refused connection per broker connection (bootstrap,
  // broker 1, the group coordinator).
  EXPECT_LE(in_ten_seconds.size(), 10u);
  // One text passes at most once per interval (its repeats may differ in numbers).
  std::map<std::string, std::chrono::steady_clock::time_point> last_seen;
  for (const auto& r : records) {
    if (r.level < LogLevel::kWarning) continue;
    auto [it, fresh] = last_seen.try_emplace(r.component + ": " + r.message, r.at);
    if (!fresh) {
      EXPECT_GE(r.at - it->second, kLogRepeatInterval - 100ms) << "passed twice within the interval: " << it->first;
      it->second = r.at;
    }
  }
  size_t down_lines = 0;
  for (const auto& r : in_ten_seconds) down_lines += r.message.find("brokers are down") != std::string::npos;
  EXPECT_LE(down_lines, 3u);  // once per client that reports it, at most

  bool counted = false;
  for (const auto& r : records) {
    counted |= r.message.find("brokers are down") != std::string::npos &&
               r.message.find("suppressed in the last") != std::string::npos;
  }
  EXPECT_TRUE(counted) << "no line said how many repeats were suppressed";
  StopWithin(*rt);
}

}  // namespace
}  // namespace kstrand::test
