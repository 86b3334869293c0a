#include "kafka/topic_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "kafka/admin.h"
#include "kafka/error.h"

namespace kstrand::kafka {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 100;
constexpr int kMetadataTimeoutMs = 2000;

}  // namespace

Result<std::unique_ptr<TopicFollower>> TopicFollower::Start(Properties props, std::string topic, Apply apply,
                                                            Options options) {
  if (topic.empty()) return Status(Errc::kInvalidArgument, options.log_prefix + ": empty topic name");
  // A group id only so that librdkafka serves assign(); the follower never
  // joins the group and never commits.
  props["group.id"] = "__kstrand_topic_follower";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";  // how it knows it reached the end
  props["fetch.wait.max.ms"] = "100";
  props.erase("group.protocol");
  auto rk = NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<TopicFollower>(
      new TopicFollower(std::move(rk.value()), std::move(topic), std::move(apply), std::move(options)));
}

TopicFollower::TopicFollower(ClientPtr rk, std::string topic, Apply apply, Options options)
    : rk_(std::move(rk)), topic_(std::move(topic)), apply_(std::move(apply)), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

TopicFollower::~TopicFollower() {
  stop_ = true;
  thread_.join();
  rd_kafka_consumer_close(rk_.get());
}

bool TopicFollower::WaitCaughtUp(milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  std::vector<int32_t> partitions;
  {
    MutexLock lock(mu_);
    while (!looked_up_) {
      if (!lock.WaitUntil(cv_, deadline)) return false;
    }
    for (const auto& [p, next] : next_offset_) partitions.push_back(p);
  }
  // The end offsets now: whatever was acknowledged before this call lies below them.
  std::map<int32_t, int64_t> targets;
  for (int32_t p : partitions) {
    int64_t low = 0, high = 0;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || rd_kafka_query_watermark_offsets(rk_.get(), topic_.c_str(), p, &low, &high,
                                                      static_cast<int>(left)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    targets[p] = high;
  }
  MutexLock lock(mu_);
  for (;;) {
    if (std::all_of(targets.begin(), targets.end(), [&](const auto& t) REQUIRES(mu_) {
          return next_offset_.at(t.first) >= t.second;
        })) {
      return true;
    }
    if (!lock.WaitUntil(cv_, deadline)) return false;
  }
}

void TopicFollower::Run() {
  while (!stop_ && !Assign()) {
    for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(milliseconds(kPollMs));
  }
  while (!stop_) {
    MessagePtr m(rd_kafka_consumer_poll(rk_.get(), kPollMs));
    if (m) Read(*m);
  }
}

bool TopicFollower::Assign() {
  auto topics = DescribeTopics(rk_.get(), kMetadataTimeoutMs, topic_);
  if (!topics.ok()) {
    if (options_.missing_is_empty && topics.status().code() == make_error_code(Errc::kNotFound)) {
      MutexLock lock(mu_);
      looked_up_ = true;
      cv_.notify_all();
    }
    return false;
  }
  TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  MutexLock lock(mu_);
  for (const auto& p : topics->front().partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p.id)->offset = RD_KAFKA_OFFSET_BEGINNING;
    next_offset_[p.id] = 0;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get())) {
    spdlog::warn("{}: reading {}: {}", options_.log_prefix, topic_, rd_kafka_err2str(err));
    next_offset_.clear();
    return false;
  }
  looked_up_ = true;
  cv_.notify_all();
  return true;
}

void TopicFollower::Read(const rd_kafka_message_t& m) {
  if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    MutexLock lock(mu_);
    next_offset_[m.partition] = std::max(next_offset_[m.partition], m.offset);
    cv_.notify_all();
    return;
  }
  if (m.err) {
    spdlog::debug("{}: reading {}: {}", options_.log_prefix, topic_, rd_kafka_message_errstr(&m));
    return;
  }
  std::string_view key(static_cast<const char*>(m.key), m.key_len);
  std::optional<std::string_view> value;
  if (m.payload) value.emplace(static_cast<const char*>(m.payload), m.len);
  // Applied before it counts as read: WaitCaughtUp's caller then sees it.
  apply_(key, value);
  MutexLock lock(mu_);
  next_offset_[m.partition] = m.offset + 1;
  cv_.notify_all();
}

}  // namespace kstrand::kafka
