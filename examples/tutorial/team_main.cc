// tutorial-team: a team's program. Joins the group named by --team on
// new_users, keeps the users that pass the team's filter and forwards them to
// <team>-filtered; with --count it also keeps the team's counters (the
// stateful step). Start a second instance with the same --team to scale out:
// the group splits the partitions between the two.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include <kstrand/admin.h>
#include <kstrand/global_table.h>
#include <kstrand/parse.h>
#include <kstrand/producer.h>
#include <kstrand/runtime.h>
#include <kstrand/shutdown.h>

#include "common/example_cli.h"
#include "tutorial/team.h"

namespace kstrand::tutorial {
namespace {

struct TeamOptions {
  examples::Connection conn;
  std::string team;
  std::string topic = std::string(kNewUsersTopic);
  std::vector<std::string> countries;
  int min_age = 0;
  std::string output;  // default: <team>-filtered
  bool no_output = false;
  bool print = false;
  bool count = false;
  std::string counters_topic = std::string(kCountersTopic);
  std::string work = "0ms";
  std::string workers;
  std::string name;
  std::string http;
};

// Team names become a group id and part of a topic name: keep them to what
// Kafka allows in topic names.
Status ValidateTeam(const std::string& team) {
  bool ok = !team.empty() && team.size() <= 200 && std::all_of(team.begin(), team.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
  return ok ? Status::Ok()
            : Status(Errc::kInvalidArgument, "--team '" + team + "': use letters, digits, '-', '_' or '.'");
}

std::string DefaultName() {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

void LogRebalance(const RebalanceEvent& ev) {
  const char* what = ev.kind == RebalanceKind::kAssigned ? "got" : ev.kind == RebalanceKind::kRevoked ? "gave up" : "lost";
  spdlog::info("{}: {} {}; now reading {} ({} partitions)", ev.member, what, examples::FormatPartitions(ev.partitions),
               examples::FormatPartitions(ev.assignment), ev.assignment.size());
}

int Run(TeamOptions& opts) {
  // Bad flags first, before anything talks to a broker.
  if (Status st = ValidateTeam(opts.team); !st.ok()) return examples::Fail(st);
  auto work = ParseDuration(opts.work);
  if (!work.ok()) return examples::Fail(Status(Errc::kInvalidArgument, "--work: " + work.status().detail()));
  RuntimeConfig config;
  if (!opts.workers.empty()) {
    if (Status st = config.Set("workers", opts.workers); !st.ok()) {
      return examples::Fail(Status(st.code(), "--workers: " + st.detail()));
    }
  }
  TeamProcessor::Options popts;
  popts.team = opts.team;
  for (const auto& given : opts.countries) {
    if (given.size() != 2 || !std::isalpha(static_cast<unsigned char>(given[0])) ||
        !std::isalpha(static_cast<unsigned char>(given[1]))) {
      return examples::Fail(Status(Errc::kInvalidArgument, "--country " + given + ": expected a two-letter code such as FR"));
    }
    std::string code = given;
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char ch) { return std::toupper(ch); });
    popts.filter.countries.push_back(code);
  }
  popts.filter.min_age = opts.min_age;
  popts.output_topic = opts.no_output ? "" : opts.output.empty() ? opts.team + "-filtered" : opts.output;
  popts.print = opts.print;
  popts.count = opts.count;
  popts.counters_topic = opts.counters_topic;
  popts.work = *work;

  auto admin = examples::Connect(opts.conn, "tutorial-team");
  if (!admin.ok()) return examples::Fail(admin.status());
  auto input = (*admin)->DescribeTopic(opts.topic);
  if (!input.ok()) {
    return examples::Fail(Status(input.status().code(), input.status().detail() + " (is tutorial-source running?)"));
  }
  // Topics we create get as many partitions as the input: the output keeps its spread.
  const int partitions = static_cast<int>(input->partitions.size());
  if (!popts.output_topic.empty()) {
    if (Status st = (*admin)->EnsureTopic({.name = popts.output_topic, .partitions = partitions}); !st.ok()) {
      return examples::Fail(st);
    }
  }
  const std::string name = opts.name.empty() ? DefaultName() : opts.name;
  std::unique_ptr<GlobalTable> table;
  if (popts.count) {
    Status st = (*admin)->EnsureTopic(
        {.name = popts.counters_topic, .partitions = partitions, .configs = CompactedTopicConfigs()});
    if (!st.ok()) return examples::Fail(st);
    auto t = GlobalTable::Start({.brokers = opts.conn.brokers, .kafka = opts.conn.kafka,
                                 .topic = popts.counters_topic, .client_id = opts.team + "-" + name});
    if (!t.ok()) return examples::Fail(t.status());
    table = std::move(t.value());
  }
  std::unique_ptr<Producer> producer;
  if (popts.count || !popts.output_topic.empty()) {
    ProducerConfig pconfig = opts.conn.Producer(opts.team + "-" + name);
    pconfig.kafka["linger.ms"] = "1";  // each batch waits for its acknowledgements
    auto p = Producer::Create(std::move(pconfig));
    if (!p.ok()) return examples::Fail(p.status());
    producer = std::move(p.value());
  }

  // Destruction order: the runtime (declared last) stops before the
  // processor, the table and the producer it uses.
  TeamProcessor processor(popts, producer.get(), table.get());
  std::unique_ptr<StatusServer> status_server;
  if (!opts.http.empty()) {
    auto server = examples::StartStatusServer(opts.http);
    if (!server.ok()) return examples::Fail(server.status());
    status_server = std::move(server.value());
    config.endpoint = status_server->url();
  }
  config.name = name;
  config.brokers = opts.conn.brokers;
  config.group_id = opts.team;
  config.kafka = opts.conn.ConsumerProperties();
  config.connect_timeout = opts.conn.timeout;
  config.on_rebalance = LogRebalance;
  processor.Configure(config, opts.topic);
  auto created = Runtime::Create(std::move(config));
  if (!created.ok()) return examples::Fail(created.status());
  std::unique_ptr<Runtime> runtime = std::move(created.value());
  if (Status st = runtime->Start(); !st.ok()) return examples::Fail(st);
  if (status_server) status_server->Add(*runtime);
  spdlog::info("{}: joined group {} on {}; looking for {}; matches go to {}{}", name, opts.team, opts.topic,
               popts.filter.Describe(),
               !popts.output_topic.empty() ? popts.output_topic : popts.print ? "the log" : "nowhere (--no-output)",
               popts.count ? "; counting in " + popts.counters_topic : "");

  auto next_report = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!WaitForShutdown(std::chrono::milliseconds(200)) && runtime->running()) {
    if (std::chrono::steady_clock::now() < next_report) continue;
    next_report += std::chrono::seconds(10);
    TeamCounters t = processor.Totals();
    spdlog::info("{}: {} users seen, {} matched, {} malformed skipped; reading {}", name, t.seen, t.matched,
                 t.invalid, examples::FormatPartitions(runtime->Assignment()));
  }
  spdlog::info("{}: leaving the group: finishing in-flight events, committing", name);
  if (status_server) status_server->Remove(*runtime);
  runtime->Stop();
  Status failure = runtime->Wait();
  TeamCounters t = processor.Totals();
  spdlog::info("{}: {} users seen, {} matched, {} malformed skipped, {} replayed events skipped", name, t.seen,
               t.matched, t.invalid, processor.replays_skipped());
  return failure.ok() ? 0 : examples::Fail(failure);
}

}  // namespace
}  // namespace kstrand::tutorial

int main(int argc, char** argv) {
  using namespace kstrand;
  tutorial::TeamOptions opts;
  CLI::App app{"tutorial-team: a team's filtering consumer; run it twice with the same --team to scale out"};
  examples::AddConnectionFlags(app, opts.conn);
  app.add_option("--team", opts.team, "Your team's name: the consumer group id (e.g. team-1)")->required();
  app.add_option("-t,--topic", opts.topic, "Topic to read")->capture_default_str();
  app.add_option("--country", opts.countries, "Keep users from this country (two letters; repeatable)");
  app.add_option("--min-age", opts.min_age, "Keep users at least this old")->check(CLI::Range(0, 150));
  auto* output = app.add_option("--output", opts.output, "Topic for the matches (default: <team>-filtered)");
  app.add_flag("--no-output", opts.no_output, "Do not forward matches")->excludes(output);
  app.add_flag("--print", opts.print, "Log every match");
  app.add_flag("--count", opts.count, "Keep the team's counters in the counters topic (the stateful step)");
  app.add_option("--counters-topic", opts.counters_topic, "Compacted topic for the counters")->capture_default_str();
  app.add_option("--work", opts.work, "Simulated work per event (e.g. 50ms), so one instance falls behind")
      ->capture_default_str();
  app.add_option("--workers", opts.workers, "Partitions this instance processes at once (default 4)");
  app.add_option("--name", opts.name, "This instance's name in the group (default: host-pid)");
  examples::AddHttpFlag(app, opts.http);
  return examples::RunProgram(app, argc, argv, "tutorial-team", [&] { return tutorial::Run(opts); });
}
