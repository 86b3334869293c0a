#include "kafka/local_broker.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kstrand::kafka {

std::string LocalBrokerStateFile() {
  const char* dir = std::getenv("XDG_RUNTIME_DIR");
  std::string base = dir && *dir ? dir : "/tmp";
  return base + "/kstrand-broker-" + std::to_string(getuid()) + ".json";
}

std::optional<LocalBroker> FindLocalBroker() {
  std::ifstream in(LocalBrokerStateFile());
  if (!in) return std::nullopt;
  nlohmann::json state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || !state.contains("bootstrap") || !state["bootstrap"].is_string()) return std::nullopt;
  LocalBroker broker{state["bootstrap"].get<std::string>(), ""};
  if (auto control = state.find("control"); control != state.end() && control->is_string()) {
    broker.control = control->get<std::string>();
  }
  return broker;
}

Result<ResolvedBrokers> ResolveBrokers(const std::string& brokers) {
  std::optional<LocalBroker> local = FindLocalBroker();
  ResolvedBrokers out{brokers, false, ""};
  if (out.bootstrap.empty()) {
    if (!local) {
      return Status(Errc::kInvalidArgument,
                    "no brokers given and no embedded broker is running: start one with `kstrand broker`, "
                    "or give the bootstrap servers of a Kafka cluster");
    }
    out.bootstrap = local->bootstrap;
  }
  if (local && out.bootstrap == local->bootstrap) {
    out.embedded = true;
    out.control = local->control;
  }
  return out;
}

Status CreateTopicThroughControl(const std::string& control, const std::string& topic, int partitions) {
  httplib::Client client(control);
  client.set_connection_timeout(5);
  auto res = client.Post("/topics", nlohmann::json{{"name", topic}, {"partitions", partitions}}.dump(),
                         "application/json");
  if (!res) return Status(Errc::kTimedOut, "embedded broker control channel " + control + " did not answer");
  if (res->status != 200) {
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    std::string error = body.is_object() ? body.value("error", res->body) : res->body;
    return Status(res->status == 400 ? Errc::kInvalidArgument : Errc::kInternal, "creating topic " + topic + ": " + error);
  }
  return Status::Ok();
}

}  // namespace kstrand::kafka
