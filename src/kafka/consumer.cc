#include "kafka/consumer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "kafka/error.h"

namespace kstrand::kafka {

Result<std::unique_ptr<Consumer>> Consumer::Create(const Properties& props, Callbacks callbacks) {
  auto id = props.find("client.id");
  std::unique_ptr<Consumer> c(new Consumer(id == props.end() ? "consumer" : id->second, std::move(callbacks)));
  auto rk = NewClient(
      RD_KAFKA_CONSUMER, props,
      [raw = c.get()](rd_kafka_conf_t* conf) {
        rd_kafka_conf_set_rebalance_cb(conf, &Consumer::RebalanceCb);
        rd_kafka_conf_set_offset_commit_cb(conf, &Consumer::CommitCb);
        rd_kafka_conf_set_stats_cb(conf, &Consumer::StatsCb);
        rd_kafka_conf_set_opaque(conf, raw);
      },
      c->callbacks_.on_error);
  if (!rk.ok()) return rk.status();
  c->rk_ = std::move(rk.value());
  c->queue_.reset(rd_kafka_queue_get_consumer(c->rk_.get()));
  return c;
}

Consumer::~Consumer() {
  queue_.reset();  // before the handle it belongs to
  rk_.reset();
}

Status Consumer::WaitForBrokers(const std::string& bootstrap, int timeout_ms) {
  return kafka::WaitForBrokers(rk_.get(), bootstrap, timeout_ms);
}

bool Consumer::IsEmbeddedCluster(int timeout_ms) {
  char* id = rd_kafka_clusterid(rk_.get(), timeout_ms);
  const bool embedded = id && std::string_view(id).starts_with("mockCluster");
  if (id) rd_kafka_mem_free(rk_.get(), id);
  return embedded;
}

Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  rd_kafka_poll_set_consumer(rk_.get());
  TopicPartitionListPtr subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  return KafkaStatus(rd_kafka_subscribe(rk_.get(), subscription.get()), "subscribe");
}

size_t Consumer::Consume(std::vector<rd_kafka_message_t*>& out, int timeout_ms) {
  // consume_batch_queue returns only when the batch is full or the timeout
  // passed, so waiting for a full batch would hold a partial one back for up
  // to timeout_ms. Take what is queued now; if nothing is, wait for one.
  ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, out.data(), out.size());
  if (n == 0) n = rd_kafka_consume_batch_queue(queue_.get(), timeout_ms, out.data(), 1);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

void Consumer::Wake() { rd_kafka_queue_yield(queue_.get()); }

void Consumer::ApplyAssignment(rd_kafka_topic_partition_list_t* partitions, bool assign) {
  if (left_group_ || rd_kafka_consumer_closed(rk_.get())) return;
  if (closing_) left_group_ = true;
  const char* protocol = rd_kafka_rebalance_protocol(rk_.get());
  if (!protocol) return;  // the group handle is gone
  rd_kafka_error_t* error = nullptr;
  if (std::string_view(protocol) == "COOPERATIVE") {
    error = assign ? rd_kafka_incremental_assign(rk_.get(), partitions)
                   : rd_kafka_incremental_unassign(rk_.get(), partitions);
  } else if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), assign ? partitions : nullptr)) {
    error = rd_kafka_error_new(err, "%s", rd_kafka_err2str(err));
  }
  const char* what = assign ? "assign" : "unassign";
  if (error) spdlog::error("{}: {}", name_, KafkaStatus(error, what).detail());
}

bool Consumer::AssignmentLost() const { return rd_kafka_assignment_lost(rk_.get()); }

void Consumer::Pause(rd_kafka_topic_partition_list_t* partitions) {
  if (partitions->cnt) rd_kafka_pause_partitions(rk_.get(), partitions);
}

void Consumer::Resume(rd_kafka_topic_partition_list_t* partitions) {
  if (partitions->cnt && !closing_) rd_kafka_resume_partitions(rk_.get(), partitions);
}

Status Consumer::Seek(rd_kafka_topic_partition_list_t* partitions, int timeout_ms) {
  return KafkaStatus(rd_kafka_seek_partitions(rk_.get(), partitions, timeout_ms), "seek");
}

rd_kafka_resp_err_t Consumer::CommitSync(rd_kafka_topic_partition_list_t* offsets, int retry_ms) {
  // A rebalance in flight refuses commits until it completes (the embedded
  // broker refuses them for the whole join phase); retry those, bounded, so a
  // revoke or shutdown during a rebalance still hands over its progress.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(retry_ms);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), offsets, 0);
    if (!IsRetriableCommit(err) || std::chrono::steady_clock::now() >= deadline) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void Consumer::CommitAsync(rd_kafka_topic_partition_list_t* offsets) { rd_kafka_commit(rk_.get(), offsets, 1); }

rd_kafka_resp_err_t Consumer::ReadCommitted(rd_kafka_topic_partition_list_t* partitions, int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), partitions, timeout_ms);
  if (err) {
    for (int i = 0; i < partitions->cnt; ++i) partitions->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
  }
  return err;
}

bool Consumer::CachedWatermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high) const {
  return rd_kafka_get_watermark_offsets(rk_.get(), topic.c_str(), partition, low, high) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t Consumer::QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low,
                                              int64_t* high, int timeout_ms) {
  return rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, low, high, timeout_ms);
}

int64_t Consumer::Position(const std::string& topic, int32_t partition) const {
  TopicPartitionListPtr position(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(position.get(), topic.c_str(), partition);
  if (rd_kafka_position(rk_.get(), position.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  return position->elems[0].offset >= 0 ? position->elems[0].offset : -1;
}

std::optional<std::string> Consumer::MemberId() const {
  if (left_group_) return std::nullopt;
  char* id = rd_kafka_memberid(rk_.get());
  if (!id) return std::nullopt;
  std::string out(id);
  rd_kafka_mem_free(rk_.get(), id);
  return out;
}

Status Consumer::Close() {
  closing_ = true;
  return KafkaStatus(rd_kafka_consumer_close(rk_.get()), "leaving the group");
}

void Consumer::RebalanceCb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) noexcept {
  try {
    static_cast<Consumer*>(opaque)->callbacks_.on_rebalance(err, parts);
  } catch (const std::exception& e) {
    spdlog::critical("rebalance handling failed: {}", e.what());
  }
}

void Consumer::CommitCb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) noexcept {
  try {
    static_cast<Consumer*>(opaque)->callbacks_.on_commit(err, offsets);
  } catch (...) {
  }
}

int Consumer::StatsCb(rd_kafka_t*, char* json, size_t len, void* opaque) noexcept {
  try {
    static_cast<Consumer*>(opaque)->callbacks_.on_statistics(std::string_view(json, len));
  } catch (...) {
  }
  return 0;  // librdkafka frees the JSON
}

}  // namespace kstrand::kafka
