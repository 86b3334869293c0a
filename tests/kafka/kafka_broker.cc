// The kafka tier's broker for the group scenarios: the real Kafka named by
// KSTRAND_KAFKA_BOOTSTRAP (scripts/test.sh starts one with scripts/kafka.sh),
// shared by every test, under both group protocols.
#include <cstdlib>

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
    // Returns once the broker's metadata has a leader for every partition, so
    // a runtime's start-up check finds the topic.
    return kafka::CreateTopic(admin_.get(), name, partitions, 1, kAdminTimeoutMs);
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
