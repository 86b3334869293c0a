// The status server over a running group member: what /metrics, /status and
// the probes report matches what the runtime processed and committed.
#include "kstrand/status_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "harness.h"

namespace kstrand::test {
namespace {

using nlohmann::json;

class StatusServerTest : public MockTest {};

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
};

Reply Get(const std::string& url, const std::string& path) {
  httplib::Client client(url);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto res = client.Get(path.c_str());
  if (!res) return {};
  return {res->status, res->body};
}

// Sum of the samples of `metric` (exactly that name, any labels) in a
// Prometheus text exposition, and how many samples there were.
std::pair<double, int> Sum(const std::string& text, const std::string& metric) {
  std::istringstream in(text);
  double sum = 0;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(metric + "{", 0) != 0 && line.rfind(metric + " ", 0) != 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    ++n;
  }
  return {sum, n};
}

TEST_F(StatusServerTest, MetricsStatusAndProbesMatchWhatWasProcessedAndCommitted) {
  constexpr int kPartitions = 4;
  constexpr int kPerPartition = 50;
  constexpr int kMessages = kPartitions * kPerPartition;
  ASSERT_TRUE(cluster_->CreateTopic("watched", kPartitions).ok());
  auto server = StatusServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string url = (*server)->url();

  RuntimeConfig config = BaseConfig(*cluster_, "watcher", "watch-group", "watched", Noop());
  config.endpoint = url;
  auto rt = MustCreate(std::move(config));
  ASSERT_TRUE(rt);
  (*server)->Add(*rt);

  EXPECT_EQ(Get(url, "/healthz").status, 200);
  EXPECT_EQ(Get(url, "/healthz").body, "ok\n");
  Reply before = Get(url, "/readyz");
  EXPECT_EQ(before.status, 503) << "ready before Start()";
  EXPECT_NE(before.body.find("watcher: not running"), std::string::npos) << before.body;

  ASSERT_TRUE(rt->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return Get(url, "/readyz").status == 200; }, 20s)) << Get(url, "/readyz").body;
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "watched", kPartitions, kPerPartition).ok());
  ASSERT_TRUE(WaitUntil([&] { return rt->Stats().processed == kMessages; }, 30s)) << rt->Stats().processed;

  // Drained and committed: every partition's lag gauge reaches 0.
  std::string metrics;
  EXPECT_TRUE(WaitUntil(
      [&] {
        Reply r = Get(url, "/metrics");
        metrics = r.body;
        auto [lag, lag_samples] = Sum(metrics, "kstrand_lag");
        return r.status == 200 && lag_samples == kPartitions && lag == 0;
      },
      20s))
      << metrics;
  auto [processed, processed_samples] = Sum(metrics, "kstrand_processed_total");
  EXPECT_EQ(processed, kMessages) << metrics;
  EXPECT_EQ(processed_samples, kPartitions) << metrics;
  auto [committed, committed_samples] = Sum(metrics, "kstrand_committed_offset");
  EXPECT_EQ(committed, kMessages) << metrics;
  EXPECT_EQ(committed_samples, kPartitions);
  EXPECT_EQ(Sum(metrics, "kstrand_end_offset").first, kMessages) << metrics;
  EXPECT_EQ(Sum(metrics, "kstrand_handler_latency_seconds_count").first, kMessages) << metrics;
  EXPECT_EQ(Sum(metrics, "kstrand_running").first, 1);
  EXPECT_GE(Sum(metrics, "kstrand_rebalances_total").first, 1);
  EXPECT_NE(metrics.find(R"(kstrand_processed_total{member="watcher",topic="watched",partition="3"} 50)"),
            std::string::npos)
      << metrics;

  Reply status = Get(url, "/status");
  ASSERT_EQ(status.status, 200);
  json j = json::parse(status.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << status.body;
  ASSERT_TRUE(j["members"].is_array());
  ASSERT_EQ(j["members"].size(), 1u);
  const json& m = j["members"][0];
  EXPECT_EQ(m["name"], "watcher");
  EXPECT_EQ(m["group"], "watch-group");
  EXPECT_EQ(m["running"], true);
  EXPECT_TRUE(m["member_id"].is_string());
  EXPECT_FALSE(m["member_id"].get<std::string>().empty());
  EXPECT_TRUE(m["started"].is_string());
  EXPECT_EQ(m["processed"], kMessages);
  EXPECT_TRUE(m["throughput"].is_number());
  EXPECT_TRUE(m["latency"]["p99_ms"].is_number());
  ASSERT_TRUE(m["recent_rebalances"].is_array());
  ASSERT_FALSE(m["recent_rebalances"].empty());
  EXPECT_EQ(m["recent_rebalances"][0]["kind"], "assigned");
  EXPECT_TRUE(m["recent_rebalances"][0]["duration_ms"].is_number());
  ASSERT_EQ(m["partitions"].size(), static_cast<size_t>(kPartitions));
  for (const json& p : m["partitions"]) {
    EXPECT_EQ(p["topic"], "watched");
    EXPECT_EQ(p["processed"], kPerPartition);
    EXPECT_EQ(p["lag"], 0);
  }
  EXPECT_EQ(m["settings"]["commit.interval"], "200ms");
  const json& g = j["group"];
  EXPECT_EQ(g["name"], "watch-group");
  ASSERT_EQ(g["partitions"].size(), static_cast<size_t>(kPartitions));
  for (const json& p : g["partitions"]) {
    EXPECT_EQ(p["owner"], "watcher");
    EXPECT_EQ(p["committed"], kPerPartition);
    EXPECT_EQ(p["end_offset"], kPerPartition);
  }
  ASSERT_FALSE(g["members"].empty());
  EXPECT_EQ(g["members"][0]["name"], "watcher");
  EXPECT_EQ(g["members"][0]["partitions"], kPartitions);

  Reply page = Get(url, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<table id=\"partitions\""), std::string::npos);
  EXPECT_NE(page.body.find("\"owner\":\"watcher\""), std::string::npos) << "first status not inlined";
  EXPECT_EQ(Get(url, "/no/such/page").status, 404);

  StopWithin(*rt);
  Reply after = Get(url, "/readyz");
  EXPECT_EQ(after.status, 503) << "ready after Stop()";
  EXPECT_EQ(Get(url, "/healthz").status, 200);

  (*server)->Remove(*rt);
  json gone = json::parse(Get(url, "/status").body);
  EXPECT_TRUE(gone["members"].empty());
  ASSERT_EQ(gone["departed"].size(), 1u) << "a removed member's rebalances stay on the timeline";
  EXPECT_EQ(gone["departed"][0]["name"], "watcher");
  EXPECT_FALSE(gone["departed"][0]["recent_rebalances"].empty());
  EXPECT_EQ(Sum(Get(url, "/metrics").body, "kstrand_processed_total").second, 0);
  EXPECT_EQ(Get(url, "/readyz").status, 503);
}

}  // namespace
}  // namespace kstrand::test
