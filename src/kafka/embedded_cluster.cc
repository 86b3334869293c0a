#include "kstrand/embedded_cluster.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include <mutex>

#include "kafka/client.h"
#include "kafka/error.h"
#include "kafka/local_broker.h"
#include "kstrand/types.h"

namespace kstrand {

class EmbeddedCluster::Impl {
 public:
  // Member order is destruction order: the cluster must go before the client
  // handle that runs it.
  kafka::ClientPtr host;  // the librdkafka instance whose threads run the mock
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
  int brokers = 0;
  std::mutex mu;  // the mock API is thread-safe; this only orders our fault calls
  bool registered = false;  // in kafka/local_broker.h's registry, so clients pointed here get its properties

  ~Impl() {
    if (registered) kafka::UnregisterEmbeddedBroker(bootstrap);
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
  }
};

EmbeddedCluster::EmbeddedCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedCluster::~EmbeddedCluster() = default;

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(int brokers) {
  if (brokers < 1 || brokers > 16) {
    return Status(Errc::kInvalidArgument, "embedded cluster: brokers must be 1..16, got " + std::to_string(brokers));
  }
  auto host = kafka::NewClient(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
  if (!host.ok()) return host.status();
  auto impl = std::make_unique<Impl>();
  impl->host = std::move(host.value());
  impl->cluster = rd_kafka_mock_cluster_new(impl->host.get(), brokers);
  if (!impl->cluster) return Status(Errc::kInternal, "embedded cluster: could not start mock brokers");
  impl->bootstrap = rd_kafka_mock_cluster_bootstraps(impl->cluster);
  impl->brokers = brokers;
  // The topic kstrand members announce themselves on (kstrand/types.h): the
  // mock cannot create it through the Admin API, and auto-creation would give
  // it 4 partitions.
  const std::string members_topic(kDefaultMembersTopic);
  if (rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(impl->cluster, members_topic.c_str(), 1, 1)) {
    return kafka::KafkaStatus(err, "embedded cluster: creating " + members_topic);
  }
  kafka::RegisterEmbeddedBroker(impl->bootstrap);
  impl->registered = true;
  return std::unique_ptr<EmbeddedCluster>(new EmbeddedCluster(std::move(impl)));
}

const std::string& EmbeddedCluster::bootstrap() const { return impl_->bootstrap; }
int EmbeddedCluster::broker_count() const { return impl_->brokers; }

Status EmbeddedCluster::CreateTopic(const std::string& topic, int partitions) {
  if (topic.empty()) return Status(Errc::kInvalidArgument, "create topic: empty topic name");
  if (partitions < 1 || partitions > 10000) {
    return Status(Errc::kInvalidArgument,
                  "create topic " + topic + ": partitions must be 1..10000, got " + std::to_string(partitions));
  }
  std::lock_guard lock(impl_->mu);
  return kafka::KafkaStatus(
      rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, std::min(impl_->brokers, 3)),
      "create topic " + topic);
}

Status EmbeddedCluster::SetBrokerDown(int32_t broker) {
  std::lock_guard lock(impl_->mu);
  return kafka::KafkaStatus(rd_kafka_mock_broker_set_down(impl_->cluster, broker),
                            "set broker " + std::to_string(broker) + " down");
}

Status EmbeddedCluster::SetBrokerUp(int32_t broker) {
  std::lock_guard lock(impl_->mu);
  return kafka::KafkaStatus(rd_kafka_mock_broker_set_up(impl_->cluster, broker),
                            "set broker " + std::to_string(broker) + " up");
}

Status EmbeddedCluster::SetBrokerRtt(int32_t broker, std::chrono::milliseconds rtt) {
  std::lock_guard lock(impl_->mu);
  return kafka::KafkaStatus(rd_kafka_mock_broker_set_rtt(impl_->cluster, broker, static_cast<int>(rtt.count())),
                            "set broker " + std::to_string(broker) + " latency");
}

void EmbeddedCluster::SetGroupHeartbeatInterval(std::chrono::milliseconds interval) {
  std::lock_guard lock(impl_->mu);
  rd_kafka_mock_set_group_consumer_heartbeat_interval_ms(impl_->cluster, static_cast<int>(interval.count()));
}

Status EmbeddedCluster::PushRequestErrors(int16_t api_key, const std::vector<int32_t>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (int32_t e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  std::lock_guard lock(impl_->mu);
  rd_kafka_mock_push_request_errors_array(impl_->cluster, api_key, codes.size(), codes.data());
  return Status::Ok();
}

std::map<std::string, std::string> EmbeddedCluster::ClientProperties(std::string_view group_protocol) {
  std::map<std::string, std::string> props = {
      {"fetch.wait.max.ms", "20"},
      {"topic.metadata.refresh.interval.ms", "2000"},
  };
  if (group_protocol == "consumer") {
    props["group.protocol"] = "consumer";
  } else {
    // Said, though it is librdkafka's default: merged under a user's
    // properties (kafka/local_broker.h), the set must keep its protocol.
    props["group.protocol"] = "classic";
    props["session.timeout.ms"] = "6000";
    props["heartbeat.interval.ms"] = "500";
  }
  return props;
}

}  // namespace kstrand
