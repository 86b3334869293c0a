#include "runtime/clients.h"

#include <algorithm>
#include <chrono>

namespace kstrand::runtime {

kafka::Properties ConsumerProperties(const RuntimeConfig& config) {
  kafka::Properties p = {
      {"bootstrap.servers", config.brokers},
      {"group.id", config.group_id},
      {"client.id", config.name},
      {"enable.auto.commit", "false"},  // we commit frontiers ourselves
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      // librdkafka stops fetching for this long once its local queue holds
      // queued.min.messages (default 1 s). kstrand bounds each partition itself
      // (pause at lane.max.messages); a second-long stall of every partition
      // only idles the workers.
      {"fetch.queue.backoff.ms", "10"},
      // librdkafka's own statistics feed RuntimeStats::client.
      {"statistics.interval.ms", "5000"},
      {"log_level", "4"},
  };
  // Cooperative-sticky for the classic protocol; with KIP-848
  // (group.protocol=consumer) the broker assigns and librdkafka rejects the property.
  auto protocol = config.kafka.find("group.protocol");
  if (protocol == config.kafka.end() || protocol->second == "classic") {
    p["partition.assignment.strategy"] = "cooperative-sticky";
  }
  // Exactly-once reads only committed transactions' records (librdkafka's
  // default too; said here because the guarantee depends on it).
  if (config.delivery == Delivery::kExactlyOnce) p["isolation.level"] = "read_committed";
  for (const auto& [k, v] : config.kafka) p[k] = v;
  return p;
}

kafka::Properties OutputProperties(const RuntimeConfig& config) {
  kafka::Properties p = kafka::ConnectionProperties(config.brokers, config.kafka, config.name + "-output");
  if (config.delivery == Delivery::kExactlyOnce) {
    // A transaction stays open for a commit interval, or for a drain (revoke
    // or shutdown) before its commit; the broker aborts one open longer than this.
    using std::chrono::milliseconds;
    milliseconds open_at_most = config.commit_interval + std::max(config.revoke_timeout, config.shutdown_timeout) +
                                milliseconds(10000);
    p["transaction.timeout.ms"] = std::to_string(open_at_most.count());
  }
  return p;
}

std::string TransactionalId(const RuntimeConfig& config, const std::string& instance) {
  if (config.delivery != Delivery::kExactlyOnce) return "";
  if (!config.transactional_id.empty()) return config.transactional_id;
  // A static member's id is unique per replica and survives its restarts,
  // which is what a transactional id needs to abort a crashed one's leftovers.
  if (auto it = config.kafka.find("group.instance.id"); it != config.kafka.end() && !it->second.empty()) {
    return config.group_id + "-" + it->second;
  }
  return config.group_id + "-" + instance;
}

Status CheckTopicsExist(const RuntimeConfig& config, const std::vector<kafka::TopicInfo>& topics) {
  auto exists = [&](const std::string& name) {
    return std::any_of(topics.begin(), topics.end(), [&](const auto& i) { return i.name == name; });
  };
  for (const auto& t : config.topics) {
    if (!exists(t.topic)) return Status(Errc::kNotFound, "topic " + t.topic + " does not exist at " + config.brokers);
    if (t.on_failure.then != FailureAction::kDeadLetter) continue;
    if (!exists(t.on_failure.dead_letter_topic)) {
      return Status(Errc::kNotFound, "dead-letter topic " + t.on_failure.dead_letter_topic + " (for " + t.topic +
                                         ") does not exist at " + config.brokers);
    }
  }
  return Status::Ok();
}

}  // namespace kstrand::runtime
