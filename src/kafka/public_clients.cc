// The public clients, Producer (include/kstrand/producer.h) and Admin
// (include/kstrand/admin.h): the internal ones (kafka/producer.h,
// kafka/admin.h) behind librdkafka-free interfaces. Brokers resolve through
// kafka::ResolveBrokers and clients are built by kafka::NewClient, as every
// other kstrand client.
#include <spdlog/spdlog.h>

#include <thread>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/error.h"
#include "kafka/local_broker.h"
#include "kafka/producer.h"
#include "kstrand/admin.h"
#include "kstrand/producer.h"

namespace kstrand {

ProducerConfig ProducerConfig::SameClusterAs(const std::string& brokers,
                                             const std::map<std::string, std::string>& kafka, std::string client_id) {
  ProducerConfig config;
  config.brokers = brokers;
  config.kafka = kafka::ConnectionProperties(brokers, kafka, client_id);
  config.kafka.erase("bootstrap.servers");
  config.kafka.erase("client.id");
  config.client_id = std::move(client_id);
  return config;
}

class Producer::Impl {
 public:
  std::unique_ptr<kafka::Producer> producer;
};

Result<std::unique_ptr<Producer>> Producer::Create(ProducerConfig config) {
  auto resolved = kafka::ResolveBrokers(config.brokers);
  if (!resolved.ok()) return resolved.status();
  kafka::Properties props = std::move(config.kafka);
  props["bootstrap.servers"] = resolved->bootstrap;
  if (!props.contains("client.id")) props["client.id"] = config.client_id;
  auto created = kafka::Producer::Create(props);
  if (!created.ok()) return created.status();
  auto impl = std::make_unique<Impl>();
  impl->producer = std::move(created.value());
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::~Producer() = default;

Result<RecordPosition> Producer::Send(const OutputRecord& record) {
  auto delivered = impl_->producer->ProduceAndWait(record.topic, record.key, kafka::ValueOf(record), record.headers,
                                                   record.partition);
  if (!delivered.ok()) return delivered.status();
  return RecordPosition{Partition(delivered->partition), Offset(delivered->offset)};
}

Status Producer::SendAsync(const OutputRecord& record, DeliveryCallback on_delivery) {
  kafka::Producer::DeliveryCallback report;
  if (on_delivery) {
    report = [on_delivery = std::move(on_delivery)](Status st, kafka::Producer::Delivered where) {
      // Runs on the producer's poller thread, inside librdkafka's delivery
      // callback: nothing may escape it.
      try {
        on_delivery(st.ok() ? Result<RecordPosition>(RecordPosition{Partition(where.partition), Offset(where.offset)})
                            : Result<RecordPosition>(std::move(st)));
      } catch (const std::exception& e) {
        spdlog::error("a Producer delivery callback threw: {}", e.what());
      } catch (...) {
        spdlog::error("a Producer delivery callback threw");
      }
    };
  }
  return impl_->producer->ProduceAsync(record.topic, record.key, kafka::ValueOf(record), record.headers, std::move(report),
                                       record.partition);
}

Status Producer::Flush(std::chrono::milliseconds timeout) {
  return impl_->producer->Flush(static_cast<int>(timeout.count()));
}

uint64_t Producer::delivered() const { return impl_->producer->delivered(); }
uint64_t Producer::failed() const { return impl_->producer->failed(); }
Status Producer::first_error() const { return impl_->producer->first_error(); }

// ---- Admin ----

std::map<std::string, std::string> CompactedTopicConfigs() {
  return {{"cleanup.policy", "compact"}, {"segment.ms", "60000"}, {"min.cleanable.dirty.ratio", "0.1"}};
}

class Admin::Impl {
 public:
  kafka::BrokerTarget brokers;
  int timeout_ms = 10000;
  kafka::ClientPtr rk;  // a producer handle: good for metadata and admin requests
};

namespace {

TopicDescription Describe(const kafka::TopicInfo& info) {
  TopicDescription out{info.name, {}};
  for (const auto& p : info.partitions) {
    out.partitions.push_back({Partition(p.id), p.leader, Offset(p.low), Offset(p.high)});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Admin>> Admin::Connect(AdminConfig config) {
  if (config.timeout <= std::chrono::milliseconds::zero()) {
    return Status(Errc::kInvalidArgument, "admin timeout must be positive");
  }
  auto impl = std::make_unique<Impl>();
  auto resolved = kafka::ResolveBrokers(config.brokers);
  if (!resolved.ok()) return resolved.status();
  impl->brokers = std::move(resolved.value());
  impl->timeout_ms = static_cast<int>(std::min<int64_t>(config.timeout.count(), INT32_MAX / 2));
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER,
                             kafka::ConnectionProperties(impl->brokers.bootstrap, config.kafka, config.client_id));
  if (!rk.ok()) return rk.status();
  impl->rk = std::move(rk.value());
  KSTRAND_RETURN_IF_ERROR(kafka::WaitForBrokers(impl->rk.get(), impl->brokers.bootstrap, impl->timeout_ms));
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() = default;

const std::string& Admin::bootstrap() const { return impl_->brokers.bootstrap; }
bool Admin::embedded() const { return impl_->brokers.embedded; }

Result<TopicDescription> Admin::DescribeTopic(const std::string& name, bool watermarks) {
  if (name.empty()) return Status(Errc::kInvalidArgument, "describe topic: empty topic name");
  auto topics = kafka::DescribeTopics(impl_->rk.get(), impl_->timeout_ms, name, watermarks);
  if (!topics.ok()) return topics.status();
  return Describe(topics->front());
}

Result<std::vector<TopicDescription>> Admin::ListTopics() {
  auto topics = kafka::DescribeTopics(impl_->rk.get(), impl_->timeout_ms);
  if (!topics.ok()) return topics.status();
  std::vector<TopicDescription> out;
  for (const auto& t : *topics) out.push_back(Describe(t));
  return out;
}

Status Admin::CreateTopic(const NewTopic& topic) {
  if (topic.name.empty()) return Status(Errc::kInvalidArgument, "create topic: empty topic name");
  if (topic.partitions < 1) {
    return Status(Errc::kInvalidArgument, "create topic " + topic.name + ": partitions must be at least 1, got " +
                                              std::to_string(topic.partitions));
  }
  const Status exists = Status(Errc::kAlreadyExists, "topic " + topic.name + " already exists");
  // Asked first, so the answer is the same on every backend: the embedded
  // broker's control channel reports an existing topic only as text.
  auto described = DescribeTopic(topic.name);
  if (described.ok()) return exists;
  if (described.status().code() != make_error_code(Errc::kNotFound)) return described.status();
  if (impl_->brokers.embedded && !impl_->brokers.control.empty()) {
    Status st = kafka::CreateTopicThroughControl(impl_->brokers.control, topic.name, topic.partitions);
    if (!st.ok() && DescribeTopic(topic.name).ok()) return exists;  // created meanwhile by another program
    return st;
  }
  Status st = kafka::CreateTopic(impl_->rk.get(), topic.name, topic.partitions, topic.replication_factor,
                                 impl_->timeout_ms, topic.configs);
  if (kafka::Is(st, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) return exists;
  // An in-process EmbeddedCluster (the mock) has no CreateTopics: depending on
  // the librdkafka version it says so, or never names a controller to ask.
  if (kafka::Is(st, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) || kafka::Is(st, RD_KAFKA_RESP_ERR__TIMED_OUT)) {
    return Status(st.code(), st.detail() + " (an in-process EmbeddedCluster has no CreateTopics API: "
                                           "create the topic with EmbeddedCluster::CreateTopic)");
  }
  return st;
}

Status Admin::EnsureTopic(const NewTopic& topic) {
  if (auto existing = DescribeTopic(topic.name); existing.ok()) {
    if (static_cast<int>(existing->partitions.size()) != topic.partitions) {
      spdlog::warn("topic {} exists with {} partitions (wanted {}); using it as it is", topic.name,
                   existing->partitions.size(), topic.partitions);
    }
    return Status::Ok();
  }
  Status created = CreateTopic(topic);
  if (created.code() == make_error_code(Errc::kAlreadyExists)) return Status::Ok();
  KSTRAND_RETURN_IF_ERROR(created);
  // Metadata catches up with a creation within moments; wait so the caller can use the topic.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(impl_->timeout_ms);
  while (!DescribeTopic(topic.name).ok()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Errc::kTimedOut, "topic " + topic.name + " was created but does not show in the metadata");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("created topic {} with {} partitions", topic.name, topic.partitions);
  return Status::Ok();
}

}  // namespace kstrand
