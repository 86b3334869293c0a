// The status server over a running group member: what /metrics, /status and
// the probes report matches what the runtime processed and committed; and
// RenderPrometheusMetrics, its /metrics for an application's own endpoint.
#include "kstrand/status_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "harness.h"
#include "kstrand/http.h"
#include "kstrand/metrics.h"

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

// An IPv4 address of this machine outside 127/8, or "" if it has none.
std::string NonLoopbackAddress() {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return "";
  std::string found;
  for (ifaddrs* i = all; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) found = text;
  }
  freeifaddrs(all);
  return found;
}

// An application with its own /metrics appends RenderPrometheusMetrics: the
// same series StatusServer serves, from the same code.
TEST_F(StatusServerTest, RenderPrometheusMetricsGivesAnApplicationTheSeriesStatusServerServes) {
  constexpr int kPartitions = 2;
  constexpr int kPerPartition = 30;
  ASSERT_TRUE(cluster_->CreateTopic("rendered", kPartitions).ok());
  auto server = StatusServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto rt = MustCreate(BaseConfig(*cluster_, "renderer", "render-group", "rendered", Noop()));
  ASSERT_TRUE(rt);
  (*server)->Add(*rt);
  EXPECT_EQ(RenderPrometheusMetrics({}), "");
  ASSERT_TRUE(rt->Start().ok());
  ASSERT_TRUE(ProduceToPartitions(cluster_->bootstrap(), "rendered", kPartitions, kPerPartition).ok());
  ASSERT_TRUE(WaitUntil([&] { return rt->Stats().processed == kPartitions * kPerPartition; }, 30s));
  std::string text;
  ASSERT_TRUE(WaitUntil(
      [&] {
        text = RenderPrometheusMetrics({rt.get()});
        // The end offsets (so the lag) are known once librdkafka's statistics or a commit report them.
        return Sum(text, "kstrand_committed_offset") == std::pair<double, int>(kPartitions * kPerPartition, kPartitions) &&
               Sum(text, "kstrand_lag") == std::pair<double, int>(0, kPartitions);
      },
      20s))
      << text;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string labels = R"({member="renderer",topic="rendered",partition=")" + std::to_string(p) + R"("})";
    EXPECT_NE(text.find("kstrand_processed_total" + labels + " 30\n"), std::string::npos) << text;
    EXPECT_NE(text.find("kstrand_lag" + labels + " 0\n"), std::string::npos) << text;
  }
  EXPECT_NE(text.find("# TYPE kstrand_processed_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kstrand_running{member=\"renderer\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(Sum(text, "kstrand_handler_latency_seconds_count").first, kPartitions * kPerPartition) << text;

  // StatusServer's /metrics: the same series, the same values (nothing moves now).
  httplib::Client client((*server)->url());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), kPrometheusContentType);
  for (const char* metric : {"kstrand_processed_total", "kstrand_committed_offset", "kstrand_lag",
                             "kstrand_handler_latency_seconds_count", "kstrand_assigned_partitions"}) {
    EXPECT_EQ(Sum(res->body, metric), Sum(text, metric)) << metric;
  }
  (*server)->Remove(*rt);
  StopWithin(*rt);
}

TEST_F(StatusServerTest, APortAloneListensOnLoopbackOnly) {
  auto server = StatusServer::Start("0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string url = (*server)->url();
  ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  EXPECT_EQ(Get(url, "/healthz").status, 200);
  const std::string other = NonLoopbackAddress();
  if (other.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address to try";
  const std::string port = url.substr(url.rfind(':') + 1);
  // Reachable through loopback, not through the machine's other address.
  EXPECT_EQ(Get("http://" + other + ":" + port, "/healthz").status, 0) << "answered at " << other;
}

TEST_F(StatusServerTest, AnOversizedBodyGets413AndTheServerGoesOn) {
  auto server = StatusServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client((*server)->url());
  client.set_read_timeout(10);
  auto big = client.Post("/status", std::string(http::kDefaultMaxBodyBytes + 1, 'x'), "text/plain");
  ASSERT_TRUE(big) << "no answer to an oversized body";
  EXPECT_EQ(big->status, 413);
  // At the cap exactly: read, then refused by routing (no POST routes), not by size.
  auto fits = client.Post("/status", std::string(http::kDefaultMaxBodyBytes, 'x'), "text/plain");
  ASSERT_TRUE(fits);
  EXPECT_NE(fits->status, 413);
  EXPECT_EQ(Get((*server)->url(), "/healthz").status, 200);
}

// A password given as a librdkafka property, with librdkafka's configuration
// and security debug logging on, shows up in no log line (ours or
// librdkafka's), no page the status server serves, and no announcement on the
// members topic; and an error about a secret property does not echo it.
TEST_F(StatusServerTest, SecretPropertiesAppearInNoLogPageOrAnnouncement) {
  const std::string marker = "pw-marker-5e1f0c9a";
  ASSERT_TRUE(cluster_->CreateTopic("secretive", 2).ok());
  auto server = StatusServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string url = (*server)->url();

  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  std::string pages;
  std::vector<ReadRecord> announced;
  {
    RuntimeConfig config = BaseConfig(*cluster_, "secret-keeper", "secret-group", "secretive", Noop());
    config.endpoint = url;
    config.kafka["sasl.username"] = "keeper";
    config.kafka["sasl.password"] = marker;
    config.kafka["ssl.key.password"] = marker;
    config.kafka["debug"] = "conf,security,broker";
    auto rt = MustCreate(std::move(config));
    if (rt) {
      (*server)->Add(*rt);
      if (rt->Start().ok()) {
        WaitUntil([&] { return Get(url, "/readyz").status == 200; }, 20s);
        (void)ProduceToPartitions(cluster_->bootstrap(), "secretive", 2, 10);
        WaitUntil([&] { return rt->Stats().processed == 20; }, 20s);
      }
      for (const char* path : {"/", "/status", "/metrics", "/readyz"}) pages += Get(url, path).body;
      announced = ReadTopic(cluster_->bootstrap(), rt->config().members_topic, 4, 1, 10s);
      StopWithin(*rt);
      (*server)->Remove(*rt);
    }
  }
  // An error about a secret property names the property, not the value.
  RuntimeConfig bad = BaseConfig(*cluster_, "bad", "bad-group", "secretive", Noop());
  bad.kafka["sasl.oauthbearer.client.secret.typo"] = marker;
  auto refused = Runtime::Create(std::move(bad));
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();

  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().detail().find("sasl.oauthbearer.client.secret.typo"), std::string::npos)
      << refused.status().detail();
  EXPECT_EQ(refused.status().detail().find(marker), std::string::npos) << refused.status().detail();
  // The checks below see real output: librdkafka's conf dump, a full status page, an announcement.
  EXPECT_NE((out + err).find("sasl.password"), std::string::npos) << "no configuration debug output";
  EXPECT_NE(pages.find("secret-group"), std::string::npos) << pages.substr(0, 500);
  ASSERT_FALSE(announced.empty()) << "no announcement on the members topic";
  EXPECT_NE(announced.front().value.find("secret-group"), std::string::npos) << announced.front().value;

  EXPECT_EQ(out.find(marker), std::string::npos) << "stdout";
  EXPECT_EQ(err.find(marker), std::string::npos) << "stderr";
  EXPECT_EQ(pages.find(marker), std::string::npos) << "status server";
  for (const auto& r : announced) EXPECT_EQ(r.value.find(marker), std::string::npos) << r.value;
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

  // Drained and committed: every partition's lag gauge reaches 0 and its
  // committed offset is known. (Before the first commit the lag counts from the
  // frontier, so a lag of 0 alone does not mean committed: under load the
  // asynchronous commit can come later.)
  std::string metrics;
  EXPECT_TRUE(WaitUntil(
      [&] {
        Reply r = Get(url, "/metrics");
        metrics = r.body;
        auto [lag, lag_samples] = Sum(metrics, "kstrand_lag");
        auto [committed, committed_samples] = Sum(metrics, "kstrand_committed_offset");
        return r.status == 200 && lag_samples == kPartitions && lag == 0 && committed_samples == kPartitions &&
               committed == kMessages;
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
