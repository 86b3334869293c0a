#include "runtime/rebalance.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kafka/partition_list.h"
#include "kstrand/parse.h"
#include "runtime/offset_metadata.h"

namespace kstrand::runtime {

using kafka::ToList;
using kafka::ToVector;

namespace {

using Clock = std::chrono::steady_clock;
// Inside a revoke callback a refused commit may mean the group is waiting for
// this very member to rejoin (the embedded broker refuses commits for its whole
// join phase, session.timeout.ms - 1000 ms); retrying past that window gets the
// member evicted, and then every partition it had is lost uncommitted.
constexpr int kRevokeCommitRetryMs = 1000;
// Exactly-once: the bound on each later attempt for deferred partitions.
constexpr int kCommittedRetryTimeoutMs = 1000;

}  // namespace

RebalanceKind Rebalance::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    Assign(partitions);
    return RebalanceKind::kAssigned;
  }
  bool lost = true;
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    lost = parts_.consumer.AssignmentLost();
  } else {
    spdlog::error("{}: rebalance error: {}", parts_.config.name, rd_kafka_err2str(err));
  }
  Revoke(partitions, lost);
  return lost ? RebalanceKind::kLost : RebalanceKind::kRevoked;
}

void Rebalance::Assign(rd_kafka_topic_partition_list_t* partitions) {
  auto added = ToVector(partitions);
  auto read = ReadCommitted(partitions);
  if (!read) {
    parts_.consumer.ApplyAssignment(partitions, true);
    DeferUnread(added);
    Notify(RebalanceKind::kAssigned, std::move(added));
    return;
  }
  auto& already_done = *read;
  parts_.state.AssignTables(partitions, already_done);
  // A lane's stores hold it before its first message arrives (this thread dispatches).
  for (const auto& lane : parts_.assignment.Add(added, parts_.env, already_done)) parts_.state.AssignStores(lane);
  // Lanes exist before the partitions are assigned, so no message finds none.
  parts_.consumer.ApplyAssignment(partitions, true);
  // A partition paused under a previous ownership must start flowing again.
  parts_.consumer.Resume(partitions);
  Notify(RebalanceKind::kAssigned, std::move(added));
}

void Rebalance::Revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  auto removed = ToVector(partitions);
  std::erase_if(unread_,
                [&](const TopicPartition& tp) { return std::binary_search(removed.begin(), removed.end(), tp); });
  // Readers stop answering for these at once: the next owner will.
  parts_.state.RevokeTables(removed);
  std::vector<std::shared_ptr<Lane>> going = parts_.assignment.Find(removed);
  if (lost) {
    // Another member may own these already: never commit for them. Still wait
    // for the in-flight slice, so that if a partition comes back to us its new
    // lane never runs beside the old one.
    for (const auto& lane : going) lane->Retire();
    for (const auto& lane : going) lane->Revoke(true);
    auto deadline = Clock::now() + parts_.config.revoke_timeout;
    for (const auto& lane : going) lane->WaitIdle(deadline);
  } else {
    // Leaving the group revokes what the shutdown already drained for up to
    // shutdown.timeout: a handler still busy then is not waited for again.
    Drain(going, parts_.consumer.closing() ? std::chrono::milliseconds(0) : parts_.config.revoke_timeout);
    // Whatever finishes after this commit must not send records.
    for (const auto& lane : going) lane->Retire();
    // Once it left the group, this member can commit nothing.
    if (!parts_.consumer.left_group()) parts_.commit_strategy.Commit(true, going, kRevokeCommitRetryMs);
  }
  parts_.state.RevokeStores(removed);
  // By partition, not from `going`: a failed transaction commit above has
  // replaced the lanes (exactly-once rewind).
  parts_.assignment.Remove(removed);
  if (lost && !going.empty()) parts_.commit_strategy.OnLost(removed);
  parts_.consumer.ApplyAssignment(partitions, false);
  Notify(lost ? RebalanceKind::kLost : RebalanceKind::kRevoked, std::move(removed));
}

std::vector<std::shared_ptr<Lane>> Rebalance::Drain(const std::vector<std::shared_ptr<Lane>>& lanes,
                                                    std::chrono::milliseconds timeout) {
  // At-least-once drops what is queued (the next owner reads it again); at-most-once
  // already committed it, so it must run here or never.
  const bool drop = parts_.commit_strategy.DropQueuedOnRevoke();
  for (const auto& lane : lanes) lane->Revoke(drop);
  auto deadline = Clock::now() + timeout;
  std::vector<std::shared_ptr<Lane>> busy;
  for (const auto& lane : lanes) {
    if (!lane->WaitIdle(deadline)) {
      spdlog::warn("{}: {} still busy after {}; committing what completed, the rest will be read again",
                   parts_.config.name, lane->partition().ToString(), FormatDuration(timeout));
      busy.push_back(lane);
    }
  }
  return busy;
}

std::optional<std::map<TopicPartition, std::vector<int64_t>>> Rebalance::ReadCommitted(
    rd_kafka_topic_partition_list_t* partitions, int timeout_ms) {
  const RuntimeConfig& config = parts_.config;
  std::map<TopicPartition, std::vector<int64_t>> done;
  if (parts_.consumer.closing()) return done;
  // Sets each partition's offset to the committed one, so librdkafka starts
  // there without fetching it again. On failure the offsets stay unset and
  // librdkafka fetches them itself; only the skipping is lost: at-least-once
  // runs those messages again. Under exactly-once that would write their
  // records twice (their transactions committed): the caller defers them
  // (DeferUnread) instead.
  if (rd_kafka_resp_err_t err = parts_.consumer.ReadCommitted(partitions, timeout_ms)) {
    if (config.delivery == Delivery::kExactlyOnce) {
      spdlog::warn("{}: exactly-once: reading committed offsets: {}; {} partitions wait, paused, until they are read",
                   config.name, rd_kafka_err2str(err), partitions->cnt);
      return std::nullopt;
    }
    spdlog::warn("{}: reading committed offsets: {}; completed messages above them will run again", config.name,
                 rd_kafka_err2str(err));
    return done;
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& e = partitions->elems[i];
    if (e.err || e.offset < 0 || e.metadata_size == 0) continue;
    std::string_view metadata(static_cast<const char*>(e.metadata), e.metadata_size);
    auto completed = DecodeCompletions(e.offset, metadata);
    TopicPartition tp{e.topic, Partition(e.partition)};
    if (!completed.ok()) {
      spdlog::warn("{}: {}: ignoring commit metadata: {}", config.name, tp.ToString(), completed.status().ToString());
      continue;
    }
    if (!completed->empty()) done[tp] = std::move(completed.value());
  }
  return done;
}

void Rebalance::DeferUnread(const std::vector<TopicPartition>& partitions) {
  unread_.insert(unread_.end(), partitions.begin(), partitions.end());
  // No lane, so nothing would run; paused, so nothing is fetched meanwhile.
  parts_.consumer.Pause(ToList(partitions).get());
}

void Rebalance::RetryUnread() {
  if (unread_.empty()) return;
  kafka::TopicPartitionListPtr list = ToList(unread_);
  auto read = ReadCommitted(list.get(), kCommittedRetryTimeoutMs);
  if (!read) return;  // the next second tries again
  for (const auto& lane : parts_.assignment.Add(unread_, parts_.env, *read)) parts_.state.AssignStores(lane);
  SeekToCommitted(parts_.consumer, parts_.config, list.get());
  spdlog::info("{}: exactly-once: read the committed offsets of {} deferred partitions; they resume",
               parts_.config.name, list->cnt);
  unread_.clear();
}

void Rebalance::Notify(RebalanceKind kind, std::vector<TopicPartition> changed) {
  if (!parts_.config.on_rebalance) return;
  RebalanceEvent ev{kind, parts_.config.name, std::move(changed), parts_.assignment.Partitions()};
  try {
    parts_.config.on_rebalance(ev);
  } catch (const std::exception& e) {
    spdlog::error("{}: on_rebalance threw: {}", parts_.config.name, e.what());
  }
}

}  // namespace kstrand::runtime
