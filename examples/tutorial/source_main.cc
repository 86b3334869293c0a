// tutorial-source: the instructor's event source. Produces made-up sign-ups
// to `new_users` (5 partitions, keyed by user id) at a steady rate, and
// creates the topics the class needs. Raise the load by restarting it with a
// higher --rate: ids stay unique across runs.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include <kstrand/admin.h>
#include <kstrand/producer.h>
#include <kstrand/shutdown.h>

#include "common/example_cli.h"
#include "tutorial/counters.h"
#include "tutorial/events.h"

namespace kstrand::tutorial {
namespace {

struct SourceOptions {
  examples::Connection conn;
  std::string topic = std::string(kNewUsersTopic);
  int partitions = 5;
  std::string counters_topic = std::string(kCountersTopic);
  double rate = 10;
  int64_t count = 0;
  int invalid_every = 50;
  uint64_t seed = 0;
};

int Run(SourceOptions& opts) {
  auto admin = examples::Connect(opts.conn, "tutorial-source");
  if (!admin.ok()) return examples::Fail(admin.status());
  if (Status st = (*admin)->EnsureTopic({.name = opts.topic, .partitions = opts.partitions}); !st.ok()) {
    return examples::Fail(st);
  }
  // The teams' shared counters topic, created here so that thirty teams do
  // not race to create it (and need no rights to create topics).
  if (!opts.counters_topic.empty()) {
    Status st = (*admin)->EnsureTopic(
        {.name = opts.counters_topic, .partitions = opts.partitions, .configs = CompactedTopicConfigs()});
    if (!st.ok()) return examples::Fail(st);
  }
  auto producer = Producer::Create(opts.conn.Producer("tutorial-source"));
  if (!producer.ok()) return examples::Fail(producer.status());

  // Ids "u-<run>-<n>": a restarted source never reuses a key.
  const uint64_t seed = opts.seed ? opts.seed : std::random_device{}();
  char run[16];
  std::snprintf(run, sizeof run, "%08x", static_cast<unsigned>(seed));
  UserGenerator users(seed, std::string("u-") + run);

  spdlog::info("producing to {} at {} events/s{}; Ctrl-C stops", opts.topic, opts.rate,
               opts.invalid_every > 0 ? ", one in " + std::to_string(opts.invalid_every) + " malformed" : "");
  using Clock = std::chrono::steady_clock;
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / opts.rate));
  auto next = Clock::now();
  auto next_report = next + std::chrono::seconds(5);
  int64_t sent = 0, sent_at_report = 0;
  Status failure;
  while (!ShutdownRequested() && (opts.count == 0 || sent < opts.count)) {
    std::string value;
    std::string key;
    if (opts.invalid_every > 0 && (sent + 1) % opts.invalid_every == 0) {
      value = users.Malformed();
      key = "malformed-" + std::to_string(sent);
    } else {
      NewUser u = users.Next();
      key = u.id;
      value = EncodeNewUser(u);
    }
    if (failure = (*producer)->SendAsync({.topic = opts.topic, .key = key, .value = value}); !failure.ok()) break;
    ++sent;
    next += period;
    const auto now = Clock::now();
    if (now >= next_report) {
      spdlog::info("produced {} events ({:.0f}/s), {} acknowledged", sent,
                   (sent - sent_at_report) / 5.0, (*producer)->delivered());
      sent_at_report = sent;
      next_report += std::chrono::seconds(5);
    }
    // Far behind (a stalled broker): do not burst to catch up.
    if (now - next > std::chrono::seconds(1)) next = now;
    if (next > now) WaitForShutdown(std::chrono::duration_cast<std::chrono::milliseconds>(next - now));
  }
  if (failure.ok()) failure = (*producer)->Flush(std::chrono::seconds(10));
  if (failure.ok()) failure = (*producer)->first_error();
  spdlog::info("produced {} events, {} acknowledged", sent, (*producer)->delivered());
  return failure.ok() ? 0 : examples::Fail(failure);
}

}  // namespace
}  // namespace kstrand::tutorial

int main(int argc, char** argv) {
  using namespace kstrand;
  tutorial::SourceOptions opts;
  CLI::App app{"tutorial-source: the instructor's new_users event source"};
  examples::AddConnectionFlags(app, opts.conn);
  app.add_option("-t,--topic", opts.topic, "Topic to produce to")->capture_default_str();
  app.add_option("--partitions", opts.partitions, "Partitions of the topics, if they are created")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--counters-topic", opts.counters_topic,
                 "Compacted topic for the teams' counters, created if missing (empty: none)")
      ->capture_default_str();
  app.add_option("--rate", opts.rate, "Events per second")->capture_default_str()->check(CLI::Range(0.1, 100000.0));
  app.add_option("--count", opts.count, "Stop after this many events (0: run until Ctrl-C)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--invalid-every", opts.invalid_every,
                 "Make every Nth event malformed, as real producers sometimes do (0: never)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--seed", opts.seed, "Random seed (0: a new one each run)");
  return examples::RunProgram(app, argc, argv, "tutorial-source", [&] { return tutorial::Run(opts); });
}
