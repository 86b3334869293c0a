// The kafka tier's broker for the group scenarios: the real Kafka named by
// KSTRAND_KAFKA_BOOTSTRAP (scripts/test.sh starts one with scripts/kafka.sh),
// shared by every test, under both group protocols.
#include <algorithm>
#include <cstdlib>
#include <thread>

#include "mock/harness.h"
#include "kafka/admin.h"
#include "kafka/client.h"

namespace kstrand::test {
namespace {

constexpr int kAdminTimeoutMs = 15000;

class KafkaBroker : public TestBroker {
 public:
  KafkaBroker(std::string bootstrap, kafka::ClientPtr admin)
      : bootstrap_(std::move(bootstrap)), admin_(std::move(admin)) {}
  const std::string& bootstrap() const override { return bootstrap_; }

  Status CreateTopic(const std::string& name, int partitions) override {
    KSTRAND_RETURN_IF_ERROR(kafka::CreateTopic(admin_.get(), name, partitions, 1, kAdminTimeoutMs));
    // CreateTopics answers once the controller has the topic; until the broker's
    // metadata has it with a leader per partition, a runtime's start-up check
    // would call it missing and a producer would wait for it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAdminTimeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
      auto topics = kafka::DescribeTopics(admin_.get(), kAdminTimeoutMs, name);
      if (topics.ok() && topics->front().partitions.size() == static_cast<size_t>(partitions) &&
          std::all_of(topics->front().partitions.begin(), topics->front().partitions.end(),
                      [](const kafka::PartitionInfo& p) { return p.leader >= 0; })) {
        return Status::Ok();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Status(Errc::kTimedOut, "topic " + name + " created but not in the broker's metadata after " +
                                       std::to_string(kAdminTimeoutMs) + " ms");
  }

  std::map<std::string, std::string> ClientProperties(GroupProtocol protocol) const override {
    // Short fetch waits keep end-to-end latency, and so each test, short.
    std::map<std::string, std::string> props = {{"fetch.wait.max.ms", "50"}};
    if (protocol == GroupProtocol::kConsumer) {
      // KIP-848: the broker sets heartbeat and session timing (scripts/kafka.sh
      // lowers them); librdkafka rejects session.timeout.ms and heartbeat.interval.ms here.
      props["group.protocol"] = "consumer";
    } else {
      // The runtime adds partition.assignment.strategy=cooperative-sticky.
      props["group.protocol"] = "classic";
      props["session.timeout.ms"] = "10000";
      props["heartbeat.interval.ms"] = "1000";
    }
    return props;
  }

 private:
  std::string bootstrap_;
  kafka::ClientPtr admin_;
};

}  // namespace

Result<std::unique_ptr<TestBroker>> ConnectTestBroker() {
  const char* bootstrap = std::getenv("KSTRAND_KAFKA_BOOTSTRAP");
  if (bootstrap == nullptr || *bootstrap == '\0') {
    return Status(Errc::kInvalidArgument,
                  "KSTRAND_KAFKA_BOOTSTRAP is not set: the kafka tier needs a real broker. Run it through "
                  "scripts/test.sh (which starts one with scripts/kafka.sh), or start one yourself with "
                  "`scripts/kafka.sh start build-test/kafka-run` and run "
                  "`KSTRAND_KAFKA_BOOTSTRAP=$(cat build-test/kafka-run/bootstrap) ctest --test-dir build-test -L kafka`");
  }
  auto admin = kafka::NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"log_level", "4"}});
  if (!admin.ok()) return admin.status();
  KSTRAND_RETURN_IF_ERROR(kafka::WaitForBrokers(admin->get(), bootstrap, kAdminTimeoutMs));
  return std::unique_ptr<TestBroker>(std::make_unique<KafkaBroker>(bootstrap, std::move(admin.value())));
}

std::vector<GroupProtocol> ScenarioProtocols() { return {GroupProtocol::kClassic, GroupProtocol::kConsumer}; }

}  // namespace kstrand::test
