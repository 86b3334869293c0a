// The status server's pure parts: listen addresses, the Prometheus text and
// the /status JSON rendered from hand-built snapshots, the group view merge,
// readiness, and the dashboard page with its inlined first status.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "kstrand/http.h"
#include "http/dashboard.h"
#include "http/metrics.h"
#include "http/snapshot.h"
#include "http/status_json.h"
#include "kstrand/status_server.h"

namespace kstrand::http {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using std::chrono::system_clock;

// ---- addresses ----

TEST(ListenAddressTest, PortAloneMeansLoopback) {
  auto a = ParseListenAddress("8080");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
}

TEST(ListenAddressTest, HostPortAndBracketedIpv6AndPortZeroParse) {
  auto a = ParseListenAddress("0.0.0.0:9000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 9000);
  auto b = ParseListenAddress("[::1]:80");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 80);
  auto c = ParseListenAddress("localhost:0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "localhost");
  EXPECT_EQ(c->port, 0);
}

TEST(ListenAddressTest, MalformedAddressesAreInvalidArgumentsNamingTheAddress) {
  for (std::string_view bad : {"", "http", "65536", "-1", "80a", ":8080", "host:", "::1:80", "[::1]80", "[::1",
                               "a b:80", "1.2.3.4:99999"}) {
    auto a = ParseListenAddress(bad);
    ASSERT_FALSE(a.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(a.status().code(), make_error_code(Errc::kInvalidArgument));
    EXPECT_NE(a.status().detail().find("'" + std::string(bad) + "'"), std::string::npos) << a.status().detail();
  }
}

TEST(ListenAddressTest, UrlBracketsIpv6AndNamesTheMachineForAWildcard) {
  EXPECT_EQ(UrlFor("127.0.0.1", 8080), "http://127.0.0.1:8080");
  EXPECT_EQ(UrlFor("::1", 80), "http://[::1]:80");
  EXPECT_EQ(UrlFor("0.0.0.0", 81).find("0.0.0.0"), std::string::npos) << UrlFor("0.0.0.0", 81);
}

TEST(StatusServerStartTest, MalformedOrBusyAddressFailsWithInvalidArgument) {
  auto bad = StatusServer::Start("not-a-port");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), make_error_code(Errc::kInvalidArgument));

  auto first = StatusServer::Start("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string url = (*first)->url();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  const std::string port = url.substr(url.rfind(':') + 1);
  EXPECT_NE(port, "0");
  auto busy = StatusServer::Start("127.0.0.1:" + port);
  ASSERT_FALSE(busy.ok()) << "bound " << port << " twice";
  EXPECT_EQ(busy.status().code(), make_error_code(Errc::kInvalidArgument));
  EXPECT_NE(busy.status().detail().find("127.0.0.1:" + port), std::string::npos) << busy.status().detail();
}

// ---- snapshots by hand ----

PartitionStats Part(std::string topic, int32_t partition, uint64_t processed, int64_t lag) {
  PartitionStats p;
  p.partition = {std::move(topic), Partition(partition)};
  p.processed = processed;
  p.lag = lag;
  p.committed = lag < 0 ? -1 : 100;
  p.end_offset = lag < 0 ? -1 : 100 + lag;
  return p;
}

MemberSnapshot Member(std::string name, std::vector<PartitionStats> parts) {
  MemberSnapshot m;
  m.name = std::move(name);
  m.group = "billing";
  m.running = true;
  m.topics = {"orders"};
  m.settings = {{"workers", "4"}};
  m.stats.member_id = "id-" + m.name;
  m.stats.started = system_clock::time_point(1700000000s);
  for (const auto& p : parts) {
    m.stats.processed += p.processed;
  }
  m.stats.partitions = std::move(parts);
  return m;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool HasLine(const std::string& text, const std::string& line) {
  auto lines = Lines(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

size_t CountPrefix(const std::string& text, const std::string& prefix) {
  auto lines = Lines(text);
  return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

// ---- /metrics ----

TEST(MetricsRenderTest, CountersCarryMemberTopicPartitionLabelsWithValuesEscaped) {
  std::string text = RenderMetrics({Member("a\"b\\c", {Part("orders", 3, 42, 7)})});
  EXPECT_TRUE(HasLine(text, "# TYPE kstrand_processed_total counter")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_processed_total{member="a\"b\\c",topic="orders",partition="3"} 42)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_lag{member="a\"b\\c",topic="orders",partition="3"} 7)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_end_offset{member="a\"b\\c",topic="orders",partition="3"} 107)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_committed_offset{member="a\"b\\c",topic="orders",partition="3"} 100)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_paused{member="a\"b\\c",topic="orders",partition="3"} 0)")) << text;
}

TEST(MetricsRenderTest, UnknownOffsetsAreLeftOutNotExportedAsMinusOne) {
  std::string text = RenderMetrics({Member("m", {Part("orders", 0, 0, -1)})});
  EXPECT_EQ(CountPrefix(text, "kstrand_lag{"), 0u) << text;
  EXPECT_EQ(CountPrefix(text, "kstrand_end_offset{"), 0u) << text;
  EXPECT_EQ(CountPrefix(text, "kstrand_committed_offset{"), 0u) << text;
  EXPECT_EQ(text.find(" -1\n"), std::string::npos) << text;
  EXPECT_EQ(CountPrefix(text, "kstrand_processed_total{"), 1u) << text;
}

TEST(MetricsRenderTest, LatencyBucketsAreCumulativeWithInfEqualToTheCount) {
  MemberSnapshot m = Member("m", {});
  LatencyStats& l = m.stats.latency;
  l.counts[0] = 1;                      // <= 0.1 ms
  l.counts[3] = 2;                      // <= 1 ms
  l.counts[LatencyStats::kBounds.size()] = 1;  // above the last bound (10 s)
  l.count = 4;
  l.sum_seconds = 12.5;
  std::string text = RenderMetrics({m});
  EXPECT_TRUE(HasLine(text, "# TYPE kstrand_handler_latency_seconds histogram")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_bucket{member="m",le="0.0001"} 1)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_bucket{member="m",le="0.0005"} 1)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_bucket{member="m",le="0.001"} 3)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_bucket{member="m",le="10"} 3)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_bucket{member="m",le="+Inf"} 4)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_count{member="m"} 4)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_handler_latency_seconds_sum{member="m"} 12.5)")) << text;
  // One bucket per bound plus +Inf, and only one +Inf.
  EXPECT_EQ(CountPrefix(text, "kstrand_handler_latency_seconds_bucket{"), LatencyStats::kBounds.size() + 1) << text;
}

TEST(MetricsRenderTest, SeveralMembersShareOneFamilyPerMetric) {
  std::string text = RenderMetrics({Member("m1", {Part("orders", 0, 5, 0), Part("orders", 1, 6, 0)}),
                                    Member("m2", {Part("orders", 2, 7, 0)})});
  EXPECT_EQ(CountPrefix(text, "# TYPE kstrand_processed_total "), 1u) << text;
  EXPECT_EQ(CountPrefix(text, "kstrand_processed_total{"), 3u) << text;
  // A family's samples are contiguous, as the text format requires.
  auto lines = Lines(text);
  auto first = std::find_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.rfind("kstrand_processed_total{", 0) == 0; });
  ASSERT_NE(first, lines.end());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(first[i].rfind("kstrand_processed_total{", 0), 0u) << first[i];
  EXPECT_TRUE(HasLine(text, R"(kstrand_rebalances_total{member="m2"} 0)")) << text;
  EXPECT_TRUE(HasLine(text, R"(kstrand_assigned_partitions{member="m1"} 2)")) << text;
}

// ---- /status ----

TEST(StatusRenderTest, JsonHasEveryRequiredKeyWithItsType) {
  MemberSnapshot m = Member("m1", {Part("orders", 0, 5, 3), Part("orders", 1, 6, -1)});
  m.stats.recent_rebalances.push_back({system_clock::time_point(1700000001s), RebalanceKind::kAssigned,
                                       {{"orders", Partition(0)}, {"orders", Partition(1)}}, 2500us});
  Snapshot s;
  s.now = system_clock::time_point(1700000002s);
  s.host = "h";
  s.pid = 7;
  s.members = {m};
  s.group = BuildGroupView("billing", s.members, {}, "h", 7);
  json j = json::parse(RenderStatus(s));

  ASSERT_TRUE(j["members"].is_array());
  ASSERT_EQ(j["members"].size(), 1u);
  const json& mj = j["members"][0];
  EXPECT_EQ(mj["name"], "m1");
  EXPECT_EQ(mj["group"], "billing");
  EXPECT_EQ(mj["member_id"], "id-m1");
  EXPECT_EQ(mj["running"], true);
  EXPECT_EQ(mj["started"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(mj["processed"], 11);
  for (const char* key : {"failed", "retried", "dead_lettered", "skipped", "in_flight", "rebalances", "commits",
                          "commit_errors"}) {
    EXPECT_TRUE(mj[key].is_number_unsigned()) << key;
  }
  EXPECT_TRUE(mj["throughput"].is_number());
  EXPECT_TRUE(mj["latency"]["p50_ms"].is_number());
  EXPECT_TRUE(mj["latency"]["p99_ms"].is_number());
  ASSERT_EQ(mj["recent_rebalances"].size(), 1u);
  const json& r = mj["recent_rebalances"][0];
  EXPECT_EQ(r["kind"], "assigned");
  EXPECT_EQ(r["at"], "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(r["partitions"], json({"orders[0]", "orders[1]"}));
  EXPECT_DOUBLE_EQ(r["duration_ms"].get<double>(), 2.5);
  ASSERT_EQ(mj["partitions"].size(), 2u);
  EXPECT_EQ(mj["partitions"][0]["topic"], "orders");
  EXPECT_EQ(mj["partitions"][0]["partition"], 0);
  EXPECT_EQ(mj["partitions"][0]["lag"], 3);
  EXPECT_EQ(mj["partitions"][1]["lag"], -1);
  EXPECT_EQ(mj["partitions"][1]["paused"], false);
  EXPECT_EQ(mj["settings"]["workers"], "4");

  const json& g = j["group"];
  EXPECT_EQ(g["name"], "billing");
  ASSERT_EQ(g["members"].size(), 1u);
  EXPECT_EQ(g["members"][0]["name"], "m1");
  EXPECT_EQ(g["members"][0]["local"], true);
  EXPECT_EQ(g["members"][0]["partitions"], 2);
  ASSERT_EQ(g["partitions"].size(), 2u);
  EXPECT_EQ(g["partitions"][1]["owner"], "m1");
  EXPECT_EQ(g["partitions"][1]["partition"], 1);
  EXPECT_TRUE(g["partitions"][0]["committed"].is_number_integer());
  EXPECT_TRUE(g["partitions"][0]["end_offset"].is_number_integer());
  EXPECT_TRUE(g["partitions"][0]["processed"].is_number_unsigned());
  EXPECT_TRUE(j["departed"].is_array());
  EXPECT_TRUE(j["settings"]["workers"]["default"].is_string());
  EXPECT_TRUE(j["settings"]["workers"]["description"].is_string());
}

TEST(StatusRenderTest, LibrdkafkaPropertiesNeverAppearButSettingsDo) {
  RuntimeConfig c;
  c.name = "secretive";
  c.brokers = "127.0.0.1:1";  // never contacted: Create does not connect
  c.group_id = "g";
  c.topics.push_back({"orders", [](const Message&) { return Status::Ok(); }});
  c.kafka["sasl.password"] = "hunter2-very-secret";
  ASSERT_TRUE(c.Set("workers", "7").ok());
  auto rt = Runtime::Create(c);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  Snapshot s;
  s.members = {Capture(**rt)};
  std::string text = RenderStatus(s);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("sasl.password"), std::string::npos) << text;
  json j = json::parse(text);
  EXPECT_EQ(j["members"][0]["settings"]["workers"], "7");
  EXPECT_EQ(j["members"][0]["running"], false);
  EXPECT_EQ(j["members"][0]["started"], nullptr);
  EXPECT_EQ(j["members"][0]["topics"], json({"orders"}));
}

TEST(StatusRenderTest, InvalidUtf8InNamesIsReplacedNotThrown) {
  Snapshot s;
  s.members = {Member(std::string("bad\xff") + "name", {})};
  json j = json::parse(RenderStatus(s));
  EXPECT_EQ(j["members"][0]["name"].get<std::string>().rfind("bad", 0), 0u);
}

// ---- group view ----

group::Announcement Announced(std::string member, std::string host, int64_t pid, system_clock::time_point updated,
                                std::vector<int32_t> partitions) {
  group::Announcement a;
  a.instance = member + "-0000abcd";
  a.group = "billing";
  a.member = std::move(member);
  a.host = std::move(host);
  a.pid = pid;
  a.endpoint = "http://" + a.host + ":8080";
  a.updated = updated;
  for (int32_t p : partitions) {
    a.partitions.push_back({.partition = {"orders", Partition(p)}, .committed = 10, .end_offset = 15, .lag = 5,
                            .processed = 3});
  }
  return a;
}

TEST(GroupViewTest, LocalMembersAreLiveAndOtherProcessesComeFromAnnouncements) {
  const auto t0 = system_clock::now();
  std::vector<MemberSnapshot> local = {Member("m1", {Part("orders", 0, 9, 0)})};
  std::vector<group::Announcement> announced = {
      Announced("m1", "here", 1, t0, {0}),          // this very member: not listed twice
      Announced("m1", "there", 2, t0, {1, 2}),      // same name, other process
      Announced("m9", "there", 3, t0 - 5s, {2}),    // stale claim on partition 2
  };
  announced[0].endpoint = "http://here:1";
  GroupView g = BuildGroupView("billing", local, announced, "here", 1);
  ASSERT_EQ(g.members.size(), 3u);
  EXPECT_EQ(g.members[0].id, "m1@here:1");
  EXPECT_TRUE(g.members[0].local);
  EXPECT_EQ(g.members[0].endpoint, "http://here:1");
  EXPECT_EQ(g.members[1].id, "m1@there:2");
  EXPECT_FALSE(g.members[1].local);
  EXPECT_EQ(g.members[1].partitions, 2u);
  EXPECT_EQ(g.members[2].name, "m9");
  ASSERT_EQ(g.partitions.size(), 3u);
  EXPECT_EQ(g.partitions[0].owner_id, "m1@here:1");
  EXPECT_EQ(g.partitions[0].processed, 9u);  // live, not the announced 3
  EXPECT_EQ(g.partitions[1].owner_id, "m1@there:2");
  EXPECT_EQ(g.partitions[1].lag, 5);
  EXPECT_EQ(g.partitions[2].owner_id, "m1@there:2") << "the newer announcement owns a partition claimed twice";
}

TEST(GroupViewTest, MembersOfOtherGroupsAreLeftOut) {
  std::vector<MemberSnapshot> local = {Member("m1", {})};
  local[0].group = "other";
  auto a = Announced("m2", "h", 2, system_clock::now(), {0});
  a.group = "other";
  GroupView g = BuildGroupView("billing", local, {a}, "h", 1);
  EXPECT_TRUE(g.members.empty());
  EXPECT_TRUE(g.partitions.empty());
}

// ---- readiness ----

TEST(ReadinessTest, ReadyOnlyWhenEveryMemberRunsAndHasJoined) {
  EXPECT_NE(NotReadyReason({}), "");
  MemberSnapshot joined = Member("m1", {});
  EXPECT_EQ(NotReadyReason({joined}), "");
  MemberSnapshot stopped = Member("m2", {});
  stopped.running = false;
  EXPECT_NE(NotReadyReason({joined, stopped}).find("m2: not running"), std::string::npos);
  MemberSnapshot waiting = Member("m3", {});
  waiting.stats.member_id.clear();
  EXPECT_NE(NotReadyReason({joined, waiting}).find("m3: has not joined group billing"), std::string::npos);
  waiting.stats.rebalances = 1;  // the classic protocol may report the id late
  EXPECT_EQ(NotReadyReason({joined, waiting}), "");
}

// ---- dashboard ----

size_t Count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(DashboardTest, FirstStatusIsInlinedAndCannotCloseTheScript) {
  ASSERT_NE(kDashboardHtml.find("/*KSTRAND_INITIAL_STATUS*/null"), std::string_view::npos);
  EXPECT_EQ(kDashboardHtml.find("http://"), std::string_view::npos) << "the page must not fetch from elsewhere";
  EXPECT_EQ(kDashboardHtml.find("https://"), std::string_view::npos) << "the page must not fetch from elsewhere";
  const std::string status = R"({"members":[{"name":"</script><script>alert(1)</script>"}]})";
  const std::string page = RenderDashboard(status);
  EXPECT_EQ(page.find("KSTRAND_INITIAL_STATUS"), std::string::npos);
  EXPECT_NE(page.find(R"("name":"\u003c/script>\u003cscript>alert(1)\u003c/script>")"), std::string::npos);
  EXPECT_EQ(Count(page, "</script>"), Count(kDashboardHtml, "</script>"));
}

}  // namespace
}  // namespace kstrand::http
