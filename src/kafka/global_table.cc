// GlobalTable (include/kstrand/global_table.h): a map kept by a TopicFollower.
#include "kstrand/global_table.h"

#include "base/mutex.h"
#include "kafka/client.h"
#include "kafka/local_broker.h"
#include "kafka/topic_follower.h"

namespace kstrand {

class GlobalTable::Impl {
 public:
  std::optional<std::string> Get(const std::string& key) const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, std::string> Snapshot() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return values_;
  }

  // The follower's thread: one record of the topic.
  void Apply(std::string_view key, std::optional<std::string_view> value) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (value) {
      values_[std::string(key)].assign(value->data(), value->size());
    } else {
      values_.erase(std::string(key));
    }
  }

  mutable Mutex mu_;
  std::map<std::string, std::string> values_ GUARDED_BY(mu_);  // the latest value per key
  // Set once, after construction; last, so it stops calling Apply before the above go.
  std::unique_ptr<kafka::TopicFollower> follower;
};

Result<std::unique_ptr<GlobalTable>> GlobalTable::Start(GlobalTableConfig config) {
  if (config.topic.empty()) return Status(Errc::kInvalidArgument, "global table: empty topic name");
  auto brokers = kafka::ResolveBrokers(config.brokers);
  if (!brokers.ok()) return brokers.status();
  auto impl = std::make_unique<Impl>();
  // WaitCaughtUp waits for a missing topic to appear.
  auto follower = kafka::TopicFollower::Start(
      kafka::ConnectionProperties(brokers->bootstrap, config.kafka, config.client_id), config.topic,
      [impl = impl.get()](std::string_view key, std::optional<std::string_view> value) { impl->Apply(key, value); },
      {.missing_is_empty = false, .log_prefix = "global table " + config.topic});
  if (!follower.ok()) return follower.status();
  impl->follower = std::move(follower.value());
  return std::unique_ptr<GlobalTable>(new GlobalTable(std::move(impl)));
}

GlobalTable::GlobalTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GlobalTable::~GlobalTable() = default;

bool GlobalTable::WaitCaughtUp(std::chrono::milliseconds timeout) const {
  return impl_->follower->WaitCaughtUp(timeout);
}
std::optional<std::string> GlobalTable::Get(const std::string& key) const { return impl_->Get(key); }
std::map<std::string, std::string> GlobalTable::Snapshot() const { return impl_->Snapshot(); }

}  // namespace kstrand
