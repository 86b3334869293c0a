#include "cli/apps.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "kafka/admin.h"
#include "kafka/error.h"

namespace kstrand::cli {
Status CreateThroughControl(const std::string& control, const std::string& topic, int partitions) {
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

Result<kafka::ClientPtr> Connect(Connection& conn, const std::string& client_id) {
  KSTRAND_RETURN_IF_ERROR(conn.Resolve());
  auto props = HelperProperties(conn, client_id);
  if (!props.ok()) return props.status();
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, *props);
  if (!rk.ok()) return rk.status();
  KSTRAND_RETURN_IF_ERROR(kafka::WaitForBrokers(rk->get(), conn.brokers, conn.connect_timeout_ms()));
  return rk;
}

Result<kafka::Properties> HelperProperties(const Connection& conn, const std::string& client_id) {
  auto given = conn.Properties(/*for_consumer=*/false);
  if (!given.ok()) return given.status();
  auto props = kafka::ConnectionProperties(conn.brokers, *given, client_id);
  props["log_level"] = "4";  // librdkafka's notices are noise in an example's terminal
  return props;
}

Status EnsureTopic(const Connection& conn, rd_kafka_t* rk, const std::string& topic, int partitions,
                   const std::map<std::string, std::string>& configs) {
  const int timeout_ms = conn.connect_timeout_ms();
  auto existing = kafka::DescribeTopics(rk, timeout_ms, topic);
  if (existing.ok()) {
    if (static_cast<int>(existing->front().partitions.size()) != partitions) {
      spdlog::warn("topic {} exists with {} partitions (wanted {}); using it as it is", topic,
                   existing->front().partitions.size(), partitions);
    }
    return Status::Ok();
  }
  if (existing.status().code() != make_error_code(Errc::kNotFound)) return existing.status();

  Status created = conn.embedded && !conn.control.empty()
                       ? CreateThroughControl(conn.control, topic, partitions)
                       // Replication -1: the cluster's default.replication.factor.
                       : kafka::CreateTopic(rk, topic, partitions, -1, timeout_ms, configs);
  if (!created.ok()) {
    // Another program (a second instance of the team) may have created it
    // meanwhile: that is success too. The embedded broker's control channel
    // reports it only as text, hence the second look.
    bool exists = created.code() == kafka::MakeErrorCode(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) ||
                  kafka::DescribeTopics(rk, timeout_ms, topic).ok();
    if (!exists) return created;
  }
  // Metadata catches up with a creation within moments; wait so the caller can use the topic.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!kafka::DescribeTopics(rk, timeout_ms, topic).ok()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Errc::kTimedOut, "topic " + topic + " was created but does not show in the metadata");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (created.ok()) spdlog::info("created topic {} with {} partitions", topic, partitions);
  return Status::Ok();
}

std::map<std::string, std::string> CompactedTopicConfigs() {
  return {{"cleanup.policy", "compact"}, {"segment.ms", "60000"}, {"min.cleanable.dirty.ratio", "0.1"}};
}

}  // namespace kstrand::cli
