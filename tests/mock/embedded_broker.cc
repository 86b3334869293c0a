// The mock tier's broker for the group scenarios: an embedded cluster per test,
// under its default group protocol (KIP-848; embedded_cluster.h says why the
// mock's classic protocol is unsafe with several members).
#include "harness.h"

namespace kstrand::test {
namespace {

class EmbeddedBroker : public TestBroker {
 public:
  explicit EmbeddedBroker(std::unique_ptr<EmbeddedCluster> cluster)
      : cluster_(std::move(cluster)), bootstrap_(cluster_->bootstrap()) {}
  const std::string& bootstrap() const override { return bootstrap_; }
  Status CreateTopic(const std::string& name, int partitions) override {
    return cluster_->CreateTopic(name, partitions);
  }
  std::map<std::string, std::string> ClientProperties(GroupProtocol protocol) const override {
    return EmbeddedCluster::ClientProperties(ProtocolName(protocol));
  }

 private:
  std::unique_ptr<EmbeddedCluster> cluster_;
  std::string bootstrap_;
};

}  // namespace

Result<std::unique_ptr<TestBroker>> ConnectTestBroker() {
  auto cluster = EmbeddedCluster::Start();
  if (!cluster.ok()) return cluster.status();
  return std::unique_ptr<TestBroker>(std::make_unique<EmbeddedBroker>(std::move(cluster.value())));
}

std::vector<GroupProtocol> ScenarioProtocols() { return {GroupProtocol::kConsumer}; }

}  // namespace kstrand::test
