// kstrand: the command line. kcat-like flags (-b brokers, -t topic, -G group,
// -X librdkafka properties); with no -b, the embedded broker.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "kstrand/shutdown.h"
#include "kstrand/version.h"

int main(int argc, char** argv) {
  using namespace kstrand::cli;
  CLI::App app{"kstrand: parallel Kafka consumer-group processing"};
  app.require_subcommand(1);
  // The librdkafka the process runs with, which ldd cannot show (it is linked in).
  app.set_version_flag("--version",
                       std::string("kstrand ") + std::string(kstrand::Version()) + "\nlibrdkafka " +
                           kstrand::LibrdkafkaVersion() + " (built against " + kstrand::LibrdkafkaBuildVersion() + ")" +
                           (kstrand::LibrdkafkaSource().empty()
                                ? std::string()
                                : "\nlibrdkafka source: " + std::string(kstrand::LibrdkafkaSource())));
  std::function<int()> action;
  auto set_action = [&](std::function<int()> a) { action = std::move(a); };
  AddBrokerCommand(app, set_action);
  AddProduceCommand(app, set_action);
  AddConsumeCommand(app, set_action);
  AddDemoCommand(app, set_action);
  AddTopicsCommand(app, set_action);
  AddGroupsCommand(app, set_action);
  // CLI11 would only say "A subcommand is required"; name what was typed.
  auto is_command = [&](const char* name) {
    for (const auto* sub : app.get_subcommands({})) {
      if (sub->check_name(name)) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::fprintf(stderr,
                 "kstrand: error: unknown command '%s' (commands: broker, produce, consume, demo, topics, groups)\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // bad flags or values: exit 2, CLI11 names them
  }
  // Before any subcommand runs (--version and --help still answer, to diagnose it).
  if (auto st = kstrand::CheckLibrdkafkaVersion(); !st.ok()) {
    std::fprintf(stderr, "kstrand: error: %s\n", st.detail().c_str());
    return 1;
  }
  SetUpLogging();
  kstrand::InstallShutdownSignals();
  try {
    return action ? action() : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kstrand: error: %s\n", e.what());
    return 1;
  }
}
