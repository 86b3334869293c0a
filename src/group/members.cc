#include "group/members.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "kafka/admin.h"
#include "kafka/error.h"

namespace kstrand::group {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

constexpr int kPollMs = 100;
constexpr int kMetadataTimeoutMs = 2000;

}  // namespace

class MemberDirectory::Impl {
 public:
  Impl(kafka::ClientPtr rk, std::string topic) : rk_(std::move(rk)), topic_(std::move(topic)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Impl() {
    stop_ = true;
    thread_.join();
    rd_kafka_consumer_close(rk_.get());
  }

  std::vector<Announcement> Members(std::string_view group) const {
    const auto now = system_clock::now();
    std::vector<Announcement> out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [instance, a] : records_) {
        if ((group.empty() || a.group == group) && IsLive(a, now)) out.push_back(a);
      }
    }
    std::sort(out.begin(), out.end(), [](const Announcement& x, const Announcement& y) {
      return std::tie(x.group, x.member, x.instance) < std::tie(y.group, y.member, y.instance);
    });
    return out;
  }

  bool WaitCaughtUp(milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    // The reader thread finds the topic (or finds it missing) first.
    if (!cv_.wait_until(lock, deadline, [&] { return looked_up_; })) return false;
    std::vector<int32_t> partitions;
    for (const auto& [p, next] : next_offset_) partitions.push_back(p);
    lock.unlock();
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

  // Assigns every partition of the topic from its beginning; false while the
  // topic does not exist yet (no member has announced itself).
  bool Assign() {
    auto topics = kafka::DescribeTopics(rk_.get(), kMetadataTimeoutMs, topic_);
    if (!topics.ok()) {
      std::lock_guard lock(mu_);
      if (topics.status().code() == make_error_code(Errc::kNotFound)) looked_up_ = true;
      cv_.notify_all();
      return false;
    }
    kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    std::lock_guard lock(mu_);
    for (const auto& p : topics->front().partitions) {
      rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p.id)->offset = RD_KAFKA_OFFSET_BEGINNING;
      next_offset_[p.id] = 0;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), list.get())) {
      spdlog::warn("members: reading {}: {}", topic_, rd_kafka_err2str(err));
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
      spdlog::debug("members: reading {}: {}", topic_, rd_kafka_message_errstr(&m));
      return;
    } else {
      next_offset_[m.partition] = m.offset + 1;
      std::string key(static_cast<const char*>(m.key), m.key_len);
      if (!m.payload) {
        records_.erase(key);  // the member left
      } else if (auto a = DecodeAnnouncement({static_cast<const char*>(m.payload), m.len}); a.ok()) {
        records_[key] = std::move(a.value());
      } else {
        spdlog::debug("members: {}[{}] offset {}: {}", topic_, m.partition, m.offset, a.status().ToString());
      }
    }
    cv_.notify_all();
  }

  const kafka::ClientPtr rk_;
  const std::string topic_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool looked_up_ = false;                    // guarded by mu_: the topic was found, or found missing
  std::map<int32_t, int64_t> next_offset_;    // guarded by mu_: per partition, the next offset to read
  std::map<std::string, Announcement> records_;  // guarded by mu_: the latest record per instance
  std::thread thread_;                        // last: starts after everything above exists
};

Result<std::unique_ptr<MemberDirectory>> MemberDirectory::Start(kafka::Properties props, std::string topic) {
  if (topic.empty()) return Status(Errc::kInvalidArgument, "members topic: empty");
  // A group id only so that librdkafka serves assign(); the directory never
  // joins the group and never commits.
  props["group.id"] = "__kstrand_member_directory";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props["fetch.wait.max.ms"] = "100";
  props.erase("group.protocol");
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<MemberDirectory>(
      new MemberDirectory(std::make_unique<Impl>(std::move(rk.value()), std::move(topic))));
}

MemberDirectory::MemberDirectory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberDirectory::~MemberDirectory() = default;

std::vector<Announcement> MemberDirectory::Members(std::string_view group) const { return impl_->Members(group); }

std::vector<std::string> MemberDirectory::Groups() const {
  std::vector<std::string> groups;
  for (const auto& a : impl_->Members({})) groups.push_back(a.group);
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());  // Members() sorts by group
  return groups;
}

bool MemberDirectory::WaitCaughtUp(milliseconds timeout) const { return impl_->WaitCaughtUp(timeout); }

}  // namespace kstrand::group
