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
  if (close_abandoned_) DestroyClientInBackground(rk_.release());
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
  // Each attempt waits for its result on a queue of its own, at most until the
  // deadline: librdkafka's blocking commit waits for a coordinator for as long
  // as it takes (~45 s with the broker down), which would make shutdown
  // unbounded.
  // Each partition's `err` says whether its offset was committed, as
  // librdkafka's own synchronous commit reports it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(retry_ms);
  for (;;) {
    rd_kafka_resp_err_t err = CommitOnce(offsets, deadline);
    if (!IsRetriableCommit(err) || std::chrono::steady_clock::now() >= deadline) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

rd_kafka_resp_err_t Consumer::CommitOnce(rd_kafka_topic_partition_list_t* offsets,
                                         std::chrono::steady_clock::time_point deadline) {
  auto fail_all = [&](rd_kafka_resp_err_t err) {
    for (int i = 0; i < offsets->cnt; ++i) offsets->elems[i].err = err;
    return err;
  };
  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> results(rd_kafka_queue_new(rk_.get()),
                                                                               &rd_kafka_queue_destroy);
  if (rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_.get(), offsets, results.get(), nullptr, nullptr)) {
    return fail_all(err);
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  rd_kafka_event_t* result = rd_kafka_queue_poll(results.get(), static_cast<int>(std::max<int64_t>(left.count(), 0)));
  if (result == nullptr) return fail_all(RD_KAFKA_RESP_ERR__TIMED_OUT);  // it may still land; nothing waits for it
  rd_kafka_resp_err_t err = rd_kafka_event_error(result);
  const rd_kafka_topic_partition_list_t* done = rd_kafka_event_topic_partition_list(result);
  for (int i = 0; i < offsets->cnt; ++i) {
    auto& e = offsets->elems[i];
    const rd_kafka_topic_partition_t* r =
        done ? rd_kafka_topic_partition_list_find(done, e.topic, e.partition) : nullptr;
    e.err = err ? err : r ? r->err : RD_KAFKA_RESP_ERR__FAIL;
    if (!err && e.err) err = e.err;  // a partition the broker refused fails the commit too
  }
  rd_kafka_event_destroy(result);
  return err;
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

Status Consumer::Close(int timeout_ms) {
  closing_ = true;
  // rd_kafka_consumer_close() blocks until the group is left, up to the
  // session timeout (45 s by default) when the coordinator is unreachable.
  // The asynchronous close lets this thread give up at the deadline; it
  // serves the close's events meanwhile: the revoke goes to on_rebalance, as
  // rd_kafka_consumer_close() would call the rebalance callback.
  QueuePtr events(rd_kafka_queue_new(rk_.get()));
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(rk_.get(), events.get())) {
    Status st(Errc::kInternal, std::string("leaving the group: ") + rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return st;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!rd_kafka_consumer_closed(rk_.get())) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      close_abandoned_ = true;
      return Status(Errc::kTimedOut, "leaving the group did not finish within " + std::to_string(timeout_ms) +
                                         " ms (the group coordinator is unreachable); the group drops this member "
                                         "when its session times out");
    }
    rd_kafka_event_t* event = rd_kafka_queue_poll(events.get(), static_cast<int>(std::min<int64_t>(left, 100)));
    if (!event) continue;
    if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE) {
      // The list is the event's; librdkafka's callback gets it non-const too.
      callbacks_.on_rebalance(rd_kafka_event_error(event),
                              const_cast<rd_kafka_topic_partition_list_t*>(rd_kafka_event_topic_partition_list(event)));
    }
    // Fetched messages and the rest: nothing consumes any more.
    rd_kafka_event_destroy(event);
  }
  return Status::Ok();
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
