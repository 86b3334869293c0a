// GlobalTable (include/kstrand/global_table.h): a group-less consumer that
// assigns itself every partition of the topic from the beginning.
#include "kstrand/global_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/local_broker.h"

namespace kstrand {
namespace {

using std::chrono::milliseconds;

constexpr int kPollMs = 100;
constexpr int kMetadataTimeoutMs = 2000;

}  // namespace

class GlobalTable::Impl {
 public:
  Impl(kafka::ClientPtr rk, std::string topic) : rk_(std::move(rk)), topic_(std::move(topic)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Impl() {
    stop_ = true;
    thread_.join();
    rd_kafka_consumer_close(rk_.get());
  }

  bool WaitCaughtUp(milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return looked_up_; })) return false;
    std::vector<int32_t> partitions;
    for (const auto& [p, next] : next_offset_) partitions.push_back(p);
    lock.unlock();
    // The end offsets now: whatever was acknowledged before this call lies below them.
    std::map<int32_t, int64_t> targets;
    for (int32_t p : partitions) {
      int64_t low = 0, high = 0;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0 || rd_kafka_query_watermark_offsets(rk_.get(), topic_.c_str(), p, &low, &high,
                                                        static_cast<int>(left)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
      }
      targets[p] = high;
    }
    lock.lock();
    return cv_.wait_until(lock, deadline, [&] {
      return std::all_of(targets.begin(), targets.end(),
                         [&](const auto& t) { return next_offset_.at(t.first) >= t.second; });
    });
  }

  std::optional<std::string> Get(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, std::string> Snapshot() const {
    std::lock_guard lock(mu_);
    return values_;
  }

 private:
  void Run() {
    while (!stop_ && !Assign()) {
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(milliseconds(kPollMs));
    }
    while (!stop_) {
      kafka::MessagePtr m(rd_kafka_consumer_poll(rk_.get(), kPollMs));
      if (m) Apply(*m);
    }
  }

  // Reads every partition from its beginning; false while the topic is missing.
  bool Assign() {
    auto topics = kafka::DescribeTopics(rk_.get(), kMetadataTimeoutMs, topic_);
    if (!topics.ok()) return false;
    kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    std::lock_guard lock(mu_);
    for (const auto& p : topics->front().partitions) {
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p.id)->offset = RD_KAFKA_OFFSET_BEGINNING;
      next_offset_[p.id] = 0;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get())) {
      spdlog::warn("reading {}: {}", topic_, rd_kafka_err2str(err));
      next_offset_.clear();
      return false;
    }
    looked_up_ = true;
    cv_.notify_all();
    return true;
  }

  void Apply(const rd_kafka_message_t& m) {
    std::lock_guard lock(mu_);
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next_offset_[m.partition] = std::max(next_offset_[m.partition], m.offset);
    } else if (m.err) {
      spdlog::debug("reading {}: {}", topic_, rd_kafka_message_errstr(&m));
      return;
    } else {
      next_offset_[m.partition] = m.offset + 1;
      std::string key(static_cast<const char*>(m.key), m.key_len);
      if (m.payload) {
        values_[key].assign(static_cast<const char*>(m.payload), m.len);
      } else {
        values_.erase(key);
      }
    }
    cv_.notify_all();
  }

  const kafka::ClientPtr rk_;
  const std::string topic_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool looked_up_ = false;                      // guarded by mu_: the topic was found and assigned
  std::map<int32_t, int64_t> next_offset_;      // guarded by mu_: per partition, the next offset to read
  std::map<std::string, std::string> values_;   // guarded by mu_: the latest value per key
  std::thread thread_;                          // last: starts after everything above exists
};

Result<std::unique_ptr<GlobalTable>> GlobalTable::Start(GlobalTableConfig config) {
  if (config.topic.empty()) return Status(Errc::kInvalidArgument, "global table: empty topic name");
  auto brokers = kafka::ResolveBrokers(config.brokers);
  if (!brokers.ok()) return brokers.status();
  kafka::Properties props = kafka::ConnectionProperties(brokers->bootstrap, config.kafka, config.client_id);
  // A group id only so that librdkafka serves assign(); the table never joins
  // the group and never commits.
  props["group.id"] = "__kstrand_global_table";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props["fetch.wait.max.ms"] = "100";
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<GlobalTable>(
      new GlobalTable(std::make_unique<Impl>(std::move(rk.value()), std::move(config.topic))));
}

GlobalTable::GlobalTable(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GlobalTable::~GlobalTable() = default;

bool GlobalTable::WaitCaughtUp(milliseconds timeout) const { return impl_->WaitCaughtUp(timeout); }
std::optional<std::string> GlobalTable::Get(const std::string& key) const { return impl_->Get(key); }
std::map<std::string, std::string> GlobalTable::Snapshot() const { return impl_->Snapshot(); }

}  // namespace kstrand
