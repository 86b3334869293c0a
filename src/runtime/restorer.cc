#include "runtime/restorer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "kafka/error.h"

namespace kstrand::runtime {
namespace {

constexpr int kPollMs = 100;
constexpr int kWatermarkTimeoutMs = 5000;
constexpr size_t kBatch = 512;  // records per atomic store write

}  // namespace

Result<std::unique_ptr<Restorer>> Restorer::Start(kafka::Properties props, std::function<void(Status)> on_error) {
  auto reader = kafka::Reader::Create(std::move(props), "restorer");
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<Restorer>(new Restorer(std::move(reader.value()), std::move(on_error)));
}

Restorer::Restorer(std::unique_ptr<kafka::Reader> reader, std::function<void(Status)> on_error)
    : reader_(std::move(reader)), on_error_(std::move(on_error)), thread_([this] { Run(); }) {}

Restorer::~Restorer() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Restorer::Enqueue(Store::Impl& store, Partition partition, int64_t start, std::shared_ptr<Lane> lane) {
  {
    MutexLock lock(mu_);
    jobs_.push_back({&store, partition, start, std::move(lane)});
  }
  cv_.notify_all();
}

void Restorer::Run() {
  for (;;) {
    Job job;
    {
      MutexLock lock(mu_);
      while (!stop_ && jobs_.empty()) lock.Wait(cv_);
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
  auto watermarks = reader_->Watermarks(topic, p, kWatermarkTimeoutMs);
  if (!watermarks.ok()) return Status(Errc::kTimedOut, "store " + store.name() + ": " + watermarks.status().detail());
  const auto [low, high] = *watermarks;
  auto trusted = store.TrustOrRebuild(job.partition, job.start, low, high, where);
  if (!trusted.ok()) return Status(trusted.status().code(), where + ": " + trusted.status().detail());
  const int64_t start = trusted.value();
  store.SetRestoreTarget(job.partition, high);
  if (store.availability(job.partition) != Availability::kRestoring) return Status::Ok();  // caught up, or revoked

  spdlog::info("store {}: restoring {}[{}] from offset {} to {}", store.name(), topic, p,
               start < 0 ? 0 : start, high);
  if (Status assigned = reader_->Assign({{topic, p, start}}); !assigned.ok()) {
    return Status(Errc::kInternal, where + ": " + assigned.detail());
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
      MutexLock lock(mu_);
      if (stop_) break;
    }
    kafka::MessagePtr m = reader_->Poll(kPollMs);
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
      result = kafka::KafkaStatus(*m, where);
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
  // Stops fetching the changelog until the next job assigns it again.
  if (Status st = reader_->Assign({}); !st.ok()) spdlog::warn("{}: {}", where, st.detail());
  return result;
}

}  // namespace kstrand::runtime
