#include "kstrand/routing.h"

#include <httplib.h>

#include <mutex>
#include <vector>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/local_broker.h"
#include "group/members.h"
#include "state/partitioner.h"

namespace kstrand {
namespace {

// Owners are recomputed from the announcements at most this often: lookups
// stay cheap under load, and a rebalance still shows within ~a second.
constexpr auto kOwnersRefresh = std::chrono::milliseconds(100);

}  // namespace

class Router::Impl {
 public:
  Impl(RouterConfig config, int32_t partitions, std::unique_ptr<group::MemberDirectory> directory)
      : config_(std::move(config)), partitions_(partitions), directory_(std::move(directory)) {}

  const RouterConfig config_;
  const int32_t partitions_;

  std::map<int32_t, std::string> Owners() const {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - owners_at_ >= kOwnersRefresh) {
      owners_ = Compute();
      owners_at_ = now;
    }
    return owners_;
  }

  std::optional<std::string> Owner(Partition partition) const {
    auto owners = Owners();
    auto it = owners.find(partition.value());
    if (it == owners.end()) return std::nullopt;
    return it->second;
  }

  // Keep-alive clients per endpoint; a client serves one request at a time.
  std::unique_ptr<httplib::Client> TakeClient(const std::string& endpoint) const {
    std::lock_guard lock(mu_);
    auto& idle = clients_[endpoint];
    if (idle.empty()) return nullptr;
    auto client = std::move(idle.back());
    idle.pop_back();
    return client;
  }
  void ReturnClient(const std::string& endpoint, std::unique_ptr<httplib::Client> client) const {
    std::lock_guard lock(mu_);
    clients_[endpoint].push_back(std::move(client));
  }

 private:
  std::map<int32_t, std::string> Compute() const {
    return group::PartitionOwners(directory_->Members(config_.group_id), config_.topic);
  }

  const std::unique_ptr<group::MemberDirectory> directory_;
  mutable std::mutex mu_;
  mutable std::map<int32_t, std::string> owners_;  // guarded by mu_
  mutable std::chrono::steady_clock::time_point owners_at_;  // guarded by mu_
  mutable std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> clients_;  // guarded by mu_
};

Result<std::unique_ptr<Router>> Router::Start(RouterConfig config) {
  if (config.group_id.empty()) return Status(Errc::kInvalidArgument, "router: no group id");
  if (config.topic.empty()) return Status(Errc::kInvalidArgument, "router: no topic");
  if (config.members_topic.empty()) {
    return Status(Errc::kInvalidArgument, "router: members.topic is empty; routing needs the members' announcements");
  }
  // Empty brokers: the `kstrand broker` of this machine.
  auto target = kafka::ResolveBrokers(config.brokers);
  if (!target.ok()) return Status(target.status().code(), "router: " + target.status().detail());
  config.brokers = target->bootstrap;
  auto props = kafka::ConnectionProperties(config.brokers, config.kafka, "kstrand-router");
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, props);
  if (!rk.ok()) return rk.status();
  const int timeout_ms = static_cast<int>(config.connect_timeout.count());
  KSTRAND_RETURN_IF_ERROR(kafka::WaitForBrokers(rk->get(), config.brokers, timeout_ms));
  auto topics = kafka::DescribeTopics(rk->get(), timeout_ms, config.topic);
  if (!topics.ok()) return topics.status();
  const auto partitions = static_cast<int32_t>(topics->front().partitions.size());
  auto directory = group::MemberDirectory::Start(props, config.members_topic);
  if (!directory.ok()) return directory.status();
  return std::unique_ptr<Router>(
      new Router(std::make_unique<Impl>(std::move(config), partitions, std::move(directory.value()))));
}

Router::Router(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Router::~Router() = default;

int32_t Router::partitions() const { return impl_->partitions_; }
Partition Router::PartitionFor(std::string_view key) const {
  return Partition(state::PartitionFor(key, impl_->partitions_));
}
std::optional<std::string> Router::Owner(Partition partition) const { return impl_->Owner(partition); }
std::map<int32_t, std::string> Router::Owners() const { return impl_->Owners(); }

Result<Router::Response> Router::Forward(const std::string& endpoint, std::string_view self, std::string_view method,
                                         const std::string& target, const std::string& body,
                                         const std::string& content_type, std::chrono::milliseconds timeout) const {
  auto client = impl_->TakeClient(endpoint);
  if (!client) {
    client = std::make_unique<httplib::Client>(endpoint);
    if (!client->is_valid()) return Status(Errc::kInvalidArgument, "router: bad endpoint '" + endpoint + "'");
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // else Nagle and delayed ACKs add ~40 ms to each small request
  }
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  const httplib::Headers headers{{std::string(kForwardedHeader), std::string(self)}};
  auto send = [&]() -> std::optional<httplib::Result> {
    if (method == "GET") return client->Get(target, headers);
    if (method == "POST") return client->Post(target, headers, body, content_type);
    if (method == "PUT") return client->Put(target, headers, body, content_type);
    if (method == "DELETE") return client->Delete(target, headers, body, content_type);
    return std::nullopt;
  };
  auto sent = send();
  if (!sent) return Status(Errc::kInvalidArgument, "router: cannot forward method " + std::string(method));
  httplib::Result& res = *sent;
  if (!res) {
    return Status(Errc::kTimedOut, "router: " + endpoint + " did not answer " + std::string(method) + " " + target +
                                       ": " + httplib::to_string(res.error()));
  }
  Response out{res->status, res->body, {res->headers.begin(), res->headers.end()}};
  impl_->ReturnClient(endpoint, std::move(client));
  return out;
}

}  // namespace kstrand
