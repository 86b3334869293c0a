#include "runtime/restorer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "kafka/handles.h"

namespace kstrand::runtime {
namespace {

constexpr int kPollMs = 100;
constexpr int kWatermarkTimeoutMs = 5000;
constexpr size_t kBatch = 512;  // records per atomic store write

}  // namespace

Result<std::unique_ptr<Restorer>> Restorer::Start(kafka::Properties props, std::function<void(Status)> on_error) {
  // A group id only so that librdkafka serves assign(); the reader never
  // joins the group and never commits.
  props["group.id"] = "__kstrand_restorer";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props.erase("group.protocol");
  props.erase("group.instance.id");
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<Restorer>(new Restorer(std::move(rk.value()), std::move(on_error)));
}

Restorer::Restorer(kafka::ClientPtr reader, std::function<void(Status)> on_error)
    : reader_(std::move(reader)), on_error_(std::move(on_error)), thread_([this] { Run(); }) {}

Restorer::~Restorer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  rd_kafka_consumer_close(reader_.get());
}

void Restorer::Enqueue(Store::Impl& store, Partition partition, int64_t start, std::shared_ptr<Lane> lane) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({&store, partition, start, std::move(lane)});
  }
  cv_.notify_all();
}

void Restorer::Run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (job.lane->revoked()) continue;
    Status restored = Restore(job);
    if (!restored.ok()) {
      on_error_(restored);
      continue;  // the lane stays held: the runtime stops
    }
    if (!job.lane->revoked()) job.lane->Release();
  }
}

Status Restorer::Restore(const Job& job) {
  Store::Impl& store = *job.store;
  const std::string& topic = store.changelog_topic();
  const int32_t p = job.partition.value();
  const std::string where = "store " + store.name() + ": changelog " + topic + "[" + std::to_string(p) + "]";
  int64_t low = -1, high = -1;
  if (rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(reader_.get(), topic.c_str(), p, &low, &high, kWatermarkTimeoutMs)) {
    return Status(Errc::kTimedOut, where + ": reading its end offset: " + rd_kafka_err2str(err));
  }
  store.SetRestoreTarget(job.partition, high);
  if (store.availability(job.partition) != Availability::kRestoring) return Status::Ok();  // caught up, or revoked

  const int64_t start = job.start;
  spdlog::info("store {}: restoring {}[{}] from offset {} to {}", store.name(), topic, p,
               start < 0 ? 0 : start, high);
  kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = start;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(reader_.get(), list.get())) {
    return Status(Errc::kInternal, where + ": " + rd_kafka_err2str(err));
  }
  std::vector<kafka::MessagePtr> held;  // the records' bytes live until applied
  std::vector<state::Record> batch;
  auto flush = [&]() -> Status {
    Status st = batch.empty() ? Status::Ok() : store.Apply(job.partition, batch);
    batch.clear();
    held.clear();
    return st;
  };
  Status result = Status::Ok();
  while (store.availability(job.partition) == Availability::kRestoring && !job.lane->revoked()) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    kafka::MessagePtr m(rd_kafka_consumer_poll(reader_.get(), kPollMs));
    if (!m) {
      if (!(result = flush()).ok()) break;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (!(result = flush()).ok()) break;
      store.PositionReached(job.partition, m->offset);
      continue;
    }
    if (m->err) {
      result = Status(Errc::kInternal, where + ": " + rd_kafka_message_errstr(m.get()));
      break;
    }
    if (m->key) {
      std::optional<std::string_view> value;
      if (m->payload) value = std::string_view(static_cast<const char*>(m->payload), m->len);
      batch.push_back({std::string_view(static_cast<const char*>(m->key), m->key_len), value, m->offset});
      held.push_back(std::move(m));
    }
    if (batch.size() >= kBatch && !(result = flush()).ok()) break;
  }
  if (result.ok()) result = flush();
  rd_kafka_assign(reader_.get(), nullptr);
  return result;
}

}  // namespace kstrand::runtime
