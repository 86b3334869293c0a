#include "runtime/members.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>

#include "kafka/admin.h"
#include "kafka/error.h"

namespace kstrand::runtime {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

// A record is live while its member would have refreshed it within three
// intervals, plus this much for clock skew between machines.
constexpr milliseconds kClockSkew{2000};
constexpr int kPollMs = 100;
constexpr int kMetadataTimeoutMs = 2000;

int64_t ToMillis(system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
system_clock::time_point FromMillis(int64_t ms) { return system_clock::time_point(milliseconds(ms)); }

bool Live(const Announcement& a, system_clock::time_point now) {
  return now - a.updated < 3 * a.interval + kClockSkew;
}

}  // namespace

std::string EncodeAnnouncement(const Announcement& a) {
  json parts = json::array();
  for (const auto& p : a.partitions) {
    parts.push_back({{"topic", p.partition.topic},
                     {"partition", p.partition.partition.value()},
                     {"committed", p.committed},
                     {"end_offset", p.end_offset},
                     {"lag", p.lag},
                     {"processed", p.processed},
                     {"in_flight", p.in_flight},
                     {"paused", p.paused}});
  }
  json j = {{"v", 1},
            {"instance", a.instance},
            {"group", a.group},
            {"member", a.member},
            {"host", a.host},
            {"pid", a.pid},
            {"endpoint", a.endpoint},
            {"interval_ms", a.interval.count()},
            {"started_ms", ToMillis(a.started)},
            {"updated_ms", ToMillis(a.updated)},
            {"partitions", std::move(parts)}};
  return j.dump();
}

Result<Announcement> DecodeAnnouncement(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status(Errc::kInvalidArgument, "announcement: not a JSON object");
  std::string missing;
  // Reads field `name` of `from` as T, remembering the first one that is absent or mistyped.
  auto get = [&]<typename T>(const json& from, const char* name, T& out) {
    auto it = from.find(name);
    bool ok = it != from.end() &&
              (std::is_same_v<T, std::string> ? it->is_string()
               : std::is_same_v<T, bool>      ? it->is_boolean()
                                              : it->is_number_integer());
    if (ok) {
      out = it->template get<T>();
    } else if (missing.empty()) {
      missing = name;
    }
  };
  int64_t version = 0, interval_ms = 0, started_ms = 0, updated_ms = 0;
  Announcement a;
  get(j, "v", version);
  get(j, "instance", a.instance);
  get(j, "group", a.group);
  get(j, "member", a.member);
  get(j, "host", a.host);
  get(j, "pid", a.pid);
  get(j, "endpoint", a.endpoint);
  get(j, "interval_ms", interval_ms);
  get(j, "started_ms", started_ms);
  get(j, "updated_ms", updated_ms);
  auto parts = j.find("partitions");
  if (parts == j.end() || !parts->is_array()) {
    if (missing.empty()) missing = "partitions";
  } else {
    for (const auto& e : *parts) {
      if (!e.is_object()) {
        if (missing.empty()) missing = "partitions[]";
        break;
      }
      AnnouncedPartition p;
      int64_t partition = -1;
      get(e, "topic", p.partition.topic);
      get(e, "partition", partition);
      get(e, "committed", p.committed);
      get(e, "end_offset", p.end_offset);
      get(e, "lag", p.lag);
      get(e, "processed", p.processed);
      get(e, "in_flight", p.in_flight);
      get(e, "paused", p.paused);
      p.partition.partition = Partition(static_cast<int32_t>(partition));
      a.partitions.push_back(std::move(p));
    }
  }
  if (!missing.empty()) return Status(Errc::kInvalidArgument, "announcement: field '" + missing + "' missing or mistyped");
  if (version != 1) return Status(Errc::kInvalidArgument, "announcement: unknown version " + std::to_string(version));
  if (interval_ms <= 0) return Status(Errc::kInvalidArgument, "announcement: interval_ms must be positive");
  a.interval = milliseconds(interval_ms);
  a.started = FromMillis(started_ms);
  a.updated = FromMillis(updated_ms);
  return a;
}

// ---- MemberDirectory ----

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
        if ((group.empty() || a.group == group) && Live(a, now)) out.push_back(a);
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

}  // namespace kstrand::runtime
