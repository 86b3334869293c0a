// tutorial-leaderboard: the instructor's live page. Lists every team's
// consumer group (groups whose name starts with --prefix) with its members,
// which member reads which partition, lag and state, the achievements the
// seed's classroom uses (🔌 connected, 📤 producing, ⚖️ scaled, 📊 stats) and
// the counters the teams keep in the counters topic.
//
//   /                  the page (HTML and JS compiled in; no CDN)
//   /api/leaderboard   the same as JSON, refreshed about once a second
//   /healthz           200 while serving
//
// Group data comes from GroupInspector: on real Kafka from the broker, on the
// embedded broker from the announcements kstrand members publish.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include <kstrand/admin.h>
#include <kstrand/global_table.h>
#include <kstrand/groups.h>
#include <kstrand/http.h>
#include <kstrand/parse.h>
#include <kstrand/shutdown.h>

#include "common/example_cli.h"
#include "tutorial/counters.h"
#include "tutorial/events.h"
#include "tutorial/leaderboard_html.h"

namespace kstrand::tutorial {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct LeaderboardOptions {
  examples::Connection conn;
  std::string http = "8090";
  std::string prefix = "team-";
  std::string topic = std::string(kNewUsersTopic);
  std::string counters_topic = std::string(kCountersTopic);
  std::string refresh = "1s";
};

// Achievements stay once unlocked (it is a leaderboard); the status is live.
struct Achievements {
  bool connected = false;  // 🔌 the group had a member
  bool producing = false;  // 📤 the team forwarded matches to <team>-filtered
  bool scaled = false;     // ⚖️ the group had two or more members at once
  bool stats = false;      // 📊 the team published counters
};

// Builds the page's JSON from the brokers. Refresh() runs on one thread; Json() anywhere.
class Leaderboard {
 public:
  Leaderboard(const LeaderboardOptions& opts, GroupInspector& groups, const GlobalTable& counters, Admin& admin)
      : opts_(opts), groups_(groups), counters_(counters), admin_(admin) {}

  void Refresh() {
    json out = {{"topic", opts_.topic}, {"prefix", opts_.prefix}, {"error", ""}};
    out["updated_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto listed = groups_.ListGroups();
    if (!listed.ok()) {
      // Brokers away: keep showing the last rows, and say why they do not move.
      out["error"] = "listing groups: " + listed.status().detail();
      out["events"] = last_events_;
      out["rate"] = 0;
      out["teams"] = last_rows_;
      Publish(out);
      return;
    }
    std::set<std::string> teams = known_teams_;
    for (const auto& g : *listed) {
      if (g.starts_with(opts_.prefix)) teams.insert(g);
    }
    // A team whose instances all stopped still has its counters.
    std::map<std::string, TeamCounters> counters;
    for (const auto& [key, value] : counters_.Snapshot()) {
      auto c = DecodeCounters(value);
      if (!c.ok() || !c->team.starts_with(opts_.prefix)) continue;
      teams.insert(c->team);
      auto& total = counters[c->team];
      total.team = c->team;
      total.Add(*c);
    }

    const int64_t events = RecordsIn(opts_.topic);
    const auto now = Clock::now();
    if (events >= 0 && last_events_ >= 0) {
      double seconds = std::chrono::duration<double>(now - last_sample_).count();
      if (seconds > 0) rate_ = 0.5 * rate_ + 0.5 * (events - last_events_) / seconds;  // smoothed
    }
    last_events_ = events;
    last_sample_ = now;
    out["events"] = events;
    out["rate"] = std::round(rate_ * 10) / 10;

    std::vector<std::string> order(teams.begin(), teams.end());
    std::sort(order.begin(), order.end(), NaturalLess);
    json rows = json::array();
    for (const auto& team : order) {
      if (ShutdownRequested()) return;  // a refresh may take seconds with slow brokers
      auto counted = counters.find(team);
      rows.push_back(Team(team, counted == counters.end() ? nullptr : &counted->second));
    }
    known_teams_ = std::move(teams);
    last_rows_ = rows;
    out["teams"] = std::move(rows);
    Publish(out);
  }

  std::string Json() const {
    std::lock_guard lock(mu_);
    return json_;
  }

 private:
  // "team-2" before "team-10": digits compare as numbers.
  static bool NaturalLess(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
        size_t ie = i, je = j;
        while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
        while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
        // Without leading zeros, the longer number is the larger one.
        std::string_view x = std::string_view(a).substr(i, ie - i), y = std::string_view(b).substr(j, je - j);
        while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
        while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
        if (x.size() != y.size()) return x.size() < y.size();
        if (x != y) return x < y;
        i = ie;
        j = je;
      } else {
        if (a[i] != b[j]) return a[i] < b[j];
        ++i;
        ++j;
      }
    }
    return a.size() - i < b.size() - j;
  }

  void Publish(const json& out) {
    // Group and member names come from the brokers as bytes: never let one
    // that is not UTF-8 stop the page.
    std::string text = out.dump(-1, ' ', false, json::error_handler_t::replace);
    std::lock_guard lock(mu_);
    json_ = std::move(text);
  }

  json Team(const std::string& team, const TeamCounters* counters) {
    json row = {{"team", team}, {"state", "Empty"}, {"members", 0}, {"lag", nullptr},
                {"member_list", json::array()}, {"partitions", json::array()}, {"error", ""}};
    auto described = groups_.Describe(team, {opts_.topic});
    size_t members = 0;
    if (described.ok()) {
      const GroupDescription& d = *described;
      members = d.members.size();
      row["state"] = d.state;
      row["members"] = members;
      row["members_from"] = d.members_from;
      int64_t lag = d.TotalLag();
      if (!d.partitions.empty()) row["lag"] = lag;
      std::map<std::string, size_t> index;  // member id -> its colour on the page
      for (const auto& m : d.members) {
        index.emplace(m.member_id, index.size());
        json parts = json::array();
        for (const auto& tp : m.assignment) {
          if (tp.topic == opts_.topic) parts.push_back(tp.partition.value());
        }
        row["member_list"].push_back({{"id", m.member_id}, {"name", m.client_id.empty() ? m.member_id : m.client_id},
                                      {"host", m.host}, {"partitions", std::move(parts)}});
      }
      for (const auto& p : d.partitions) {
        if (p.partition.topic != opts_.topic) continue;
        auto owner = index.find(p.owner);
        json owner_name = nullptr;
        if (owner != index.end()) owner_name = row["member_list"][owner->second]["name"];
        row["partitions"].push_back({{"partition", p.partition.partition.value()},
                                     {"owner", owner_name},
                                     {"member_index", owner == index.end() ? json(nullptr) : json(owner->second)},
                                     {"lag", p.lag}});
      }
    } else if (described.status().code() != make_error_code(Errc::kNotFound)) {
      row["state"] = "Unknown";
      row["error"] = described.status().detail();
    }
    const std::string state = row["state"];
    row["status"] = members == 0 ? "offline" : (state != "Stable" ? "rebalancing" : members >= 2 ? "scaled" : "single");

    const int64_t forwarded = RecordsIn(team + "-filtered");
    row["output_records"] = forwarded;
    if (counters) {
      json top = json::array();
      std::vector<std::pair<std::string, uint64_t>> by_count(counters->countries.begin(), counters->countries.end());
      std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      for (size_t i = 0; i < by_count.size() && i < 3; ++i) top.push_back({by_count[i].first, by_count[i].second});
      row["counters"] = {{"seen", counters->seen}, {"matched", counters->matched}, {"invalid", counters->invalid},
                         {"top_countries", std::move(top)}};
    } else {
      row["counters"] = nullptr;
    }

    Achievements& a = achievements_[team];
    a.connected = a.connected || members >= 1;
    a.producing = a.producing || forwarded > 0;
    a.scaled = a.scaled || members >= 2;
    a.stats = a.stats || counters != nullptr;
    row["achievements"] = {{"connected", a.connected}, {"producing", a.producing}, {"scaled", a.scaled},
                           {"stats", a.stats}};
    return row;
  }

  // Records ever written to `topic` (the sum of its end offsets); -1 if it does not exist.
  int64_t RecordsIn(const std::string& topic) {
    auto described = admin_.DescribeTopic(topic, /*watermarks=*/true);
    if (!described.ok()) return -1;
    int64_t total = 0;
    for (const auto& p : described->partitions) total += std::max<int64_t>(p.high.value(), 0);
    return total;
  }

  const LeaderboardOptions& opts_;
  GroupInspector& groups_;
  const GlobalTable& counters_;
  Admin& admin_;
  // Refresh() only.
  std::set<std::string> known_teams_;
  json last_rows_ = json::array();
  std::map<std::string, Achievements> achievements_;
  int64_t last_events_ = -1;
  Clock::time_point last_sample_;
  double rate_ = 0;
  mutable std::mutex mu_;
  std::string json_ = R"({"teams":[],"error":"starting"})";  // guarded by mu_
};

int Run(LeaderboardOptions& opts) {
  auto listen = http::ParseListenAddress(opts.http);
  if (!listen.ok()) return examples::Fail(Status(listen.status().code(), "--http: " + listen.status().detail()));
  auto refresh = ParseDuration(opts.refresh);
  if (!refresh.ok()) return examples::Fail(Status(Errc::kInvalidArgument, "--refresh: " + refresh.status().detail()));

  auto admin = examples::Connect(opts.conn, "tutorial-leaderboard");
  if (!admin.ok()) return examples::Fail(admin.status());
  GroupInspector::Options gopts;
  gopts.brokers = opts.conn.brokers;
  gopts.kafka = opts.conn.kafka;
  // Short: a refresh makes a few calls per team, and the page should say soon that brokers are away.
  gopts.timeout = std::min(opts.conn.timeout, std::chrono::milliseconds(3000));
  auto inspector = GroupInspector::Connect(gopts);
  if (!inspector.ok()) return examples::Fail(inspector.status());
  auto counters = GlobalTable::Start({.brokers = opts.conn.brokers, .kafka = opts.conn.kafka,
                                     .topic = opts.counters_topic, .client_id = "tutorial-leaderboard"});
  if (!counters.ok()) return examples::Fail(counters.status());
  Leaderboard board(opts, **inspector, **counters, **admin);

  http::Server server;
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kLeaderboardHtml), "text/html; charset=utf-8");
  });
  server.Get("/api/leaderboard", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(board.Json(), "application/json");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  auto bound = http::Bind(server, *listen);
  if (!bound.ok()) return examples::Fail(Status(bound.status().code(), "--http: " + bound.status().detail()));
  std::thread serving([&] { server.listen_after_bind(); });

  // First line: the address alone, so scripts can read it.
  const std::string url = *bound + "/";
  std::printf("%s\n", url.c_str());
  std::fflush(stdout);
  spdlog::info("leaderboard of the groups {}* reading {}: open {} ; Ctrl-C stops", opts.prefix, opts.topic, url);
  while (!ShutdownRequested()) {
    auto started = Clock::now();
    board.Refresh();
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    WaitForShutdown(std::max(std::chrono::milliseconds(100), *refresh - spent));
  }
  server.stop();
  serving.join();
  return 0;
}

}  // namespace
}  // namespace kstrand::tutorial

int main(int argc, char** argv) {
  using namespace kstrand;
  tutorial::LeaderboardOptions opts;
  CLI::App app{"tutorial-leaderboard: the live leaderboard of the teams' consumer groups"};
  examples::AddConnectionFlags(app, opts.conn);
  app.add_option("--http", opts.http, "Serve on PORT or HOST:PORT (loopback by default; 0: any free port)")
      ->capture_default_str();
  app.add_option("--prefix", opts.prefix, "Show the groups whose name starts with this")->capture_default_str();
  app.add_option("-t,--topic", opts.topic, "The teams' input topic")->capture_default_str();
  app.add_option("--counters-topic", opts.counters_topic, "The teams' counters topic")->capture_default_str();
  app.add_option("--refresh", opts.refresh, "How often to ask the brokers")->capture_default_str();
  return examples::RunProgram(app, argc, argv, "tutorial-leaderboard", [&] { return tutorial::Run(opts); });
}
