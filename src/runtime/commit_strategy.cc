#include "runtime/commit_strategy.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "kafka/error.h"
#include "runtime/output.h"

namespace kstrand::runtime {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCommitTimeoutMs = 10000;  // bound on a synchronous commit, a transaction's commit, a seek

// Commits the lanes' frontiers after processing.
class AtLeastOnce final : public CommitStrategy {
 public:
  explicit AtLeastOnce(Parts parts) : CommitStrategy(std::move(parts)) {}

  void Commit(bool sync, const std::vector<std::shared_ptr<Lane>>& lanes, int retry_ms) override {
    kafka::TopicPartitionListPtr offsets = CommittableOffsets(lanes);
    if (offsets->cnt == 0) return;
    if (!sync) {
      // One asynchronous commit at a time: while a rebalance holds commits back,
      // more would only queue up and delay the revoke's synchronous commit.
      if (async_commit_pending_) return;
      async_commit_pending_ = true;
      parts_.commits++;
      parts_.consumer.CommitAsync(offsets.get());  // the result arrives in OnAsyncCommitted
      return;
    }
    parts_.commits++;
    OnCommitted(parts_.consumer.CommitSync(offsets.get(), retry_ms), offsets.get());
  }
};

// Commits each batch's positions before any handler sees it.
class AtMostOnce final : public CommitStrategy {
 public:
  explicit AtMostOnce(Parts parts) : CommitStrategy(std::move(parts)) {}

  bool BeforeDispatch(rd_kafka_message_t** msgs, size_t n) override {
    kafka::TopicPartitionListPtr offsets(rd_kafka_topic_partition_list_new(8));
    std::map<TopicPartition, int64_t> first;
    for (size_t i = 0; i < n; ++i) {
      if (msgs[i]->err) continue;
      TopicPartition tp{rd_kafka_topic_name(msgs[i]->rkt), Partition(msgs[i]->partition)};
      first.emplace(tp, msgs[i]->offset);
      auto* e = rd_kafka_topic_partition_list_find(offsets.get(), tp.topic.c_str(), msgs[i]->partition);
      if (!e) e = rd_kafka_topic_partition_list_add(offsets.get(), tp.topic.c_str(), msgs[i]->partition);
      e->offset = msgs[i]->offset + 1;
    }
    if (offsets->cnt == 0) return true;
    rd_kafka_resp_err_t err = parts_.consumer.CommitSync(offsets.get(), kCommitTimeoutMs);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      parts_.commits++;
      OnCommitted(err, offsets.get());
      return true;
    }
    // Not committed, so not processed: rewind and read the batch again.
    parts_.commit_errors++;
    spdlog::warn("{}: at-most-once commit failed ({}); re-reading the batch", parts_.config.name,
                 rd_kafka_err2str(err));
    for (size_t i = 0; i < n; ++i) rd_kafka_message_destroy(msgs[i]);
    for (auto& [tp, offset] : first) {
      auto* e = rd_kafka_topic_partition_list_find(offsets.get(), tp.topic.c_str(), tp.partition.value());
      e->offset = offset;
    }
    if (Status st = parts_.consumer.Seek(offsets.get(), kCommitTimeoutMs); !st.ok()) {
      spdlog::error("{}: after the failed commit: {}", parts_.config.name, st.detail());
    }
    return false;
  }

  // Committed before processing.
  void Commit(bool, const std::vector<std::shared_ptr<Lane>>&, int) override {}

  // What a revoked lane queued is committed already: it runs here or never.
  bool DropQueuedOnRevoke() const override { return false; }
};

// Commits every assigned partition's frontier inside the output's
// transaction (output.h): its records may come from any of them.
class ExactlyOnce final : public CommitStrategy {
 public:
  explicit ExactlyOnce(Parts parts) : CommitStrategy(std::move(parts)) {}

  void Commit(bool, const std::vector<std::shared_ptr<Lane>>&, int) override {
    if (!failure_.ok()) return;
    auto committed = parts_.env->output->Commit(
        parts_.consumer.handle(), [&] { return CommittableOffsets(parts_.assignment.Lanes()); }, kCommitTimeoutMs);
    if (!committed.ok()) return TransactionFailed(committed.status());
    if (!*committed) return;  // nothing new
    parts_.commits++;
    OnCommitted(RD_KAFKA_RESP_ERR_NO_ERROR, committed->get());
  }

  void OnLost(const std::vector<TopicPartition>& lost) override {
    // The open transaction may hold records of the lost partitions' messages,
    // whose offsets can no longer be committed.
    parts_.env->output->Abort("partitions lost");
    TransactionFailed(Status(Errc::kFenced, std::to_string(lost.size()) + " partitions (" + lost.front().ToString() +
                                                ", ...) were lost"));
  }

 private:
  // The open transaction was aborted (`why`), undoing what the lanes count as
  // done since the last commit. Every partition starts again from its
  // committed offset in a new transaction; if the output cannot go on
  // (fenced), the runtime stops.
  void TransactionFailed(const Status& why) {
    if (!failure_.ok()) return;
    parts_.commit_errors++;
    spdlog::warn("{}: {}; the transaction was aborted: every partition starts again from its committed offset",
                 parts_.config.name, why.detail());
    RewindToCommitted();
    if (Status reopened = parts_.env->output->Reopen(); !reopened.ok()) {
      failure_ = Status(reopened.code(), reopened.detail() + " (after: " + why.detail() +
                                             "); processing resumes from the last committed transaction after a "
                                             "restart");
      spdlog::error("{}: {}", parts_.config.name, failure_.detail());
      parts_.env->RequestStop(failure_);
    }
  }

  void RewindToCommitted() {
    // Tables produce nothing and keep their own positions; the rest go back.
    std::vector<std::shared_ptr<Lane>> old;
    for (const auto& lane : parts_.assignment.Lanes()) {
      if (!parts_.keeps_own_position(lane->partition().topic)) old.push_back(lane);
    }
    if (old.empty()) return;
    // Nothing they finish from now on sends records or counts.
    for (const auto& lane : old) lane->Retire();
    for (const auto& lane : old) lane->Revoke(true);
    auto deadline = Clock::now() + parts_.config.revoke_timeout;
    for (const auto& lane : old) lane->WaitIdle(deadline);
    kafka::TopicPartitionListPtr positions(rd_kafka_topic_partition_list_new(static_cast<int>(old.size())));
    for (const auto& lane : old) {
      rd_kafka_topic_partition_list_add(positions.get(), lane->partition().topic.c_str(),
                                        lane->partition().partition.value());
    }
    auto already_done = parts_.read_committed(positions.get());
    if (!already_done) {
      // Without them, running the partitions again would write records of
      // committed messages twice: they wait without lanes until they are read.
      std::vector<TopicPartition> partitions;
      for (const auto& lane : old) partitions.push_back(lane->partition());
      parts_.assignment.Remove(partitions);
      parts_.defer_unread(partitions);
      return;
    }
    parts_.assignment.Replace(old, parts_.env, *already_done);
    SeekToCommitted(parts_.consumer, parts_.config, positions.get());
  }

  Status failure_;  // the output could not go on: nothing is committed any more
};

}  // namespace

void SeekToCommitted(kafka::Consumer& consumer, const RuntimeConfig& config,
                     rd_kafka_topic_partition_list_t* partitions) {
  // Where nothing was committed yet, the group's reset policy says where to start.
  auto reset = config.kafka.find("auto.offset.reset");
  const bool from_end = reset != config.kafka.end() &&
                        (reset->second == "latest" || reset->second == "end" || reset->second == "largest");
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& e = partitions->elems[i];
    if (e.offset < 0) e.offset = from_end ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
  }
  // Seeking drops what librdkafka fetched past these positions.
  if (Status st = consumer.Seek(partitions, kCommitTimeoutMs); !st.ok()) {
    spdlog::error("{}: to the committed offsets: {}", config.name, st.detail());
  }
  // A partition paused (by its old lane's backpressure, or while deferred) flows again.
  consumer.Resume(partitions);
}

std::unique_ptr<CommitStrategy> CommitStrategy::For(Delivery delivery, Parts parts) {
  switch (delivery) {
    case Delivery::kAtMostOnce: return std::make_unique<AtMostOnce>(std::move(parts));
    case Delivery::kExactlyOnce: return std::make_unique<ExactlyOnce>(std::move(parts));
    case Delivery::kAtLeastOnce: break;
  }
  return std::make_unique<AtLeastOnce>(std::move(parts));
}

void CommitStrategy::OnAsyncCommitted(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
  async_commit_pending_ = false;
  OnCommitted(err, offsets);
}

kafka::TopicPartitionListPtr CommitStrategy::CommittableOffsets(const std::vector<std::shared_ptr<Lane>>& lanes) const {
  kafka::TopicPartitionListPtr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(lanes.size())));
  for (const auto& lane : lanes) {
    auto commit = lane->Committable();
    if (!commit || (commit->offset <= lane->committed() && commit->metadata.empty())) continue;
    const auto& tp = lane->partition();
    auto* e = rd_kafka_topic_partition_list_add(offsets.get(), tp.topic.c_str(), tp.partition.value());
    e->offset = commit->offset;
    if (!commit->metadata.empty()) {
      // Freed with the list (librdkafka frees metadata with free()).
      e->metadata = std::malloc(commit->metadata.size());
      std::memcpy(e->metadata, commit->metadata.data(), commit->metadata.size());
      e->metadata_size = commit->metadata.size();
    }
  }
  return offsets;
}

void CommitStrategy::OnCommitted(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets) {
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    // Not fatal: a later commit carries a frontier at least as far. Periodic
    // commits are refused while the group rebalances; that is expected.
    parts_.commit_errors++;
    spdlog::log(kafka::IsRebalanceRefusal(err) ? spdlog::level::debug : spdlog::level::warn, "{}: commit failed: {}",
                parts_.config.name, rd_kafka_err2str(err));
  }
  parts_.assignment.Committed(offsets);
}

}  // namespace kstrand::runtime
