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
  props["fetch.wait.max.ms"] = "100";  // a new record shows within a tenth of a second
  auto reader = Reader::Create(std::move(props), "topic_follower");
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<TopicFollower>(
      new TopicFollower(std::move(reader.value()), std::move(topic), std::move(apply), std::move(options)));
}

TopicFollower::TopicFollower(std::unique_ptr<Reader> reader, std::string topic, Apply apply, Options options)
    : reader_(std::move(reader)), topic_(std::move(topic)), apply_(std::move(apply)), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

TopicFollower::~TopicFollower() {
  stop_ = true;
  thread_.join();
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
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    auto watermarks = reader_->Watermarks(topic_, p, static_cast<int>(left));
    if (!watermarks.ok()) return false;
    targets[p] = watermarks->second;
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
    if (MessagePtr m = reader_->Poll(kPollMs)) Read(*m);
  }
}

bool TopicFollower::Assign() {
  auto topics = DescribeTopics(reader_->handle(), kMetadataTimeoutMs, topic_);
  if (!topics.ok()) {
    if (options_.missing_is_empty && topics.status().code() == make_error_code(Errc::kNotFound)) {
      MutexLock lock(mu_);
      looked_up_ = true;
      cv_.notify_all();
    }
    return false;
  }
  std::vector<Reader::Position> from_the_beginning;
  MutexLock lock(mu_);
  for (const auto& p : topics->front().partitions) {
    from_the_beginning.push_back({topic_, p.id, RD_KAFKA_OFFSET_BEGINNING});
    next_offset_[p.id] = 0;
  }
  if (Status assigned = reader_->Assign(from_the_beginning); !assigned.ok()) {
    spdlog::warn("{}: {}", options_.log_prefix, assigned.detail());
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
    spdlog::debug("{}: {}", options_.log_prefix, KafkaStatus(m, "reading " + topic_).detail());
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
