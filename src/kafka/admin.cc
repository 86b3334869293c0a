#include "kafka/admin.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/error.h"
#include "kafka/handles.h"

namespace kstrand::kafka {

Result<std::vector<TopicInfo>> DescribeTopics(rd_kafka_t* rk, int timeout_ms, const std::string& only,
                                              bool with_watermarks) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms);
  MetadataPtr md(raw);
  if (err) return KafkaStatus(err, "listing topics");
  std::vector<TopicInfo> topics;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    std::string name = t.topic;
    if (!only.empty() && name != only) continue;
    if (only.empty() && name.starts_with("__")) continue;  // internal topics
    if (t.err) return KafkaStatus(t.err, "topic " + name);
    TopicInfo info{name, {}};
    for (int p = 0; p < t.partition_cnt; ++p) {
      PartitionInfo pi{t.partitions[p].id, t.partitions[p].leader};
      if (with_watermarks &&
          rd_kafka_query_watermark_offsets(rk, t.topic, pi.id, &pi.low, &pi.high, timeout_ms) != 0) {
        pi.low = pi.high = -1;
      }
      info.partitions.push_back(pi);
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    topics.push_back(std::move(info));
  }
  if (!only.empty() && topics.empty()) return Status(Errc::kNotFound, "topic " + only + " does not exist");
  std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return topics;
}

namespace {

// CreateTopics answers once the controller has recorded the topic; the broker
// a client asks next may not know it yet (a just-restarted broker can lag by
// seconds), and a consumer or producer started then fails with "does not
// exist". So creation returns only when metadata shows every partition led.
Status AwaitLeaders(rd_kafka_t* rk, const std::string& topic, int partitions, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string seen = "not in metadata";
  while (true) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto topics = DescribeTopics(rk, std::max<int>(100, static_cast<int>(remaining.count())), topic);
    if (topics.ok()) {
      const auto& parts = topics->front().partitions;
      auto led = std::count_if(parts.begin(), parts.end(), [](const PartitionInfo& p) { return p.leader >= 0; });
      if (static_cast<int>(parts.size()) >= partitions && led == static_cast<long>(parts.size())) return Status::Ok();
      seen = std::to_string(led) + " of " + std::to_string(partitions) + " partitions with a leader";
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(Errc::kTimedOut, "created topic " + topic + ", but after " + std::to_string(timeout_ms) +
                                         " ms the broker's metadata still shows " + seen);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

Status CreateTopic(rd_kafka_t* rk, const std::string& topic, int partitions, int replication, int timeout_ms,
                   const std::map<std::string, std::string>& configs) {
  char errstr[512];
  NewTopicPtr nt(rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, errstr, sizeof errstr));
  if (!nt) return Status(Errc::kInvalidArgument, "create topic " + topic + ": " + errstr);
  for (const auto& [name, value] : configs) {
    if (rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt.get(), name.c_str(), value.c_str())) {
      return KafkaStatus(err, "create topic " + topic + ": config " + name);
    }
  }
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* topics[] = {nt.get()};
  rd_kafka_CreateTopics(rk, topics, 1, options.get(), queue.get());
  EventPtr ev(rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!ev) return Status(Errc::kTimedOut, "create topic " + topic + ": no answer within " + std::to_string(timeout_ms) + " ms");
  if (rd_kafka_event_error(ev.get())) {
    return KafkaStatus(rd_kafka_event_error(ev.get()), "create topic " + topic, rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e) return KafkaStatus(e, "create topic " + topic, rd_kafka_topic_result_error_string(results[i]));
  }
  return AwaitLeaders(rk, topic, partitions, timeout_ms);
}

}  // namespace kstrand::kafka
