// `kstrand broker`: the embedded broker as its own process on loopback, with a
// small HTTP control channel for what the mock has no Kafka API for (creating
// topics) and for fault injection from other processes.
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "kafka/local_broker.h"
#include "kstrand/http.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/shutdown.h"

namespace kstrand::cli {
namespace {

struct BrokerOptions {
  std::vector<std::string> topics;  // NAME:PARTITIONS
  int brokers = 1;
  int control_port = 0;
};

Result<std::pair<std::string, int>> ParseTopicSpec(const std::string& spec) {
  auto colon = spec.rfind(':');
  std::string name = colon == std::string::npos ? spec : spec.substr(0, colon);
  int partitions = 1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      partitions = std::stoi(spec.substr(colon + 1), &used);
      if (used != spec.size() - colon - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return Status(Errc::kInvalidArgument, "--topic " + spec + ": expected NAME:PARTITIONS");
    }
  }
  if (name.empty()) return Status(Errc::kInvalidArgument, "--topic " + spec + ": empty topic name");
  return std::make_pair(name, partitions);
}

void Reply(httplib::Response& res, const Status& st) {
  if (st.ok()) {
    res.set_content(R"({"ok":true})", "application/json");
    return;
  }
  res.status = st.code() == make_error_code(Errc::kInvalidArgument) ? 400 : 500;
  res.set_content(nlohmann::json{{"ok", false}, {"error", st.detail()}}.dump(), "application/json");
}

// Parses a JSON body; answers 400 naming the problem when it is not an object.
std::optional<nlohmann::json> Body(const httplib::Request& req, httplib::Response& res) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    Reply(res, Status(Errc::kInvalidArgument, "request body is not a JSON object"));
    return std::nullopt;
  }
  return body;
}

template <typename T>
std::optional<T> Field(const nlohmann::json& body, const char* name, httplib::Response& res) {
  if (!body.contains(name)) {
    Reply(res, Status(Errc::kInvalidArgument, std::string("missing field '") + name + "'"));
    return std::nullopt;
  }
  try {
    return body.at(name).get<T>();
  } catch (const std::exception&) {
    Reply(res, Status(Errc::kInvalidArgument, std::string("field '") + name + "' has the wrong type"));
    return std::nullopt;
  }
}

int RunBroker(const BrokerOptions& opts) {
  std::vector<std::pair<std::string, int>> topics;
  for (const auto& spec : opts.topics) {
    auto t = ParseTopicSpec(spec);
    if (!t.ok()) return Fail(t.status());
    topics.push_back(*t);
  }
  auto cluster = EmbeddedCluster::Start(opts.brokers);
  if (!cluster.ok()) return Fail(cluster.status());
  EmbeddedCluster& c = **cluster;
  for (const auto& [name, partitions] : topics) {
    if (Status st = c.CreateTopic(name, partitions); !st.ok()) return Fail(st);
  }

  http::Server control;
  control.Get("/health", [](const httplib::Request&, httplib::Response& res) { Reply(res, Status::Ok()); });
  control.Post("/topics", [&](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto name = Field<std::string>(*body, "name", res);
    auto partitions = Field<int>(*body, "partitions", res);
    if (name && partitions) Reply(res, c.CreateTopic(*name, *partitions));
  });
  control.Post(R"(/brokers/(\d+)/(down|up))", [&](const httplib::Request& req, httplib::Response& res) {
    int id = std::stoi(req.matches[1]);
    Reply(res, req.matches[2] == "down" ? c.SetBrokerDown(id) : c.SetBrokerUp(id));
  });
  control.Post(R"(/brokers/(\d+)/rtt)", [&](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    if (auto ms = Field<int>(*body, "ms", res)) {
      Reply(res, c.SetBrokerRtt(std::stoi(req.matches[1]), std::chrono::milliseconds(*ms)));
    }
  });
  control.Post("/errors", [&](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto api = Field<int>(*body, "api_key", res);
    auto errors = api ? Field<std::vector<int32_t>>(*body, "errors", res) : std::nullopt;
    if (api && errors) Reply(res, c.PushRequestErrors(static_cast<int16_t>(*api), *errors));
  });

  // Loopback only: the control channel takes brokers down and injects errors.
  auto bound = http::Bind(control, {std::string(http::kDefaultHost), static_cast<uint16_t>(opts.control_port)});
  if (!bound.ok()) return Fail(Status(bound.status().code(), "--control-port: " + bound.status().detail()));
  std::thread server([&] { control.listen_after_bind(); });

  const std::string control_url = *bound;
  const std::string state_file = kafka::BrokerRecordFile(getpid());
  {
    std::ofstream out(state_file);
    out << nlohmann::json{{"bootstrap", c.bootstrap()}, {"control", control_url}, {"pid", getpid()}}.dump() << "\n";
  }
  // First line: the bootstrap address alone, so scripts can read it.
  std::printf("%s\ncontrol %s\n", c.bootstrap().c_str(), control_url.c_str());
  std::fflush(stdout);
  spdlog::info("embedded broker up: {} broker(s), {} topic(s); SIGINT/SIGTERM stops it", c.broker_count(),
               topics.size());

  WaitForShutdown(std::chrono::hours(24 * 365));
  control.stop();
  server.join();
  std::remove(state_file.c_str());
  spdlog::info("embedded broker stopped");
  return 0;
}

}  // namespace

void AddBrokerCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<BrokerOptions>();
  auto* cmd = app.add_subcommand("broker", "Run the embedded Kafka broker (librdkafka's mock cluster) on loopback");
  cmd->add_option("--topic", opts->topics, "Create a topic, NAME:PARTITIONS (repeatable)");
  cmd->add_option("--brokers", opts->brokers, "Number of mock brokers")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--control-port", opts->control_port, "Port of the HTTP control channel (0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->callback([opts, set_action] { set_action([opts] { return RunBroker(*opts); }); });
}

}  // namespace kstrand::cli
