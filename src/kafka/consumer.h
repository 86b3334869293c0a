// Consumer: a consumer-group member's librdkafka handle, and what librdkafka
// makes subtle about it, in one place:
//
// - its queue: messages, rebalances and commit results all arrive through
//   Consume(), on the one thread that calls it (the runtime's poll thread);
// - the close order: inside Close() librdkafka treats the first assignment
//   call as "unassign everything" and may then terminate the group handle at
//   any moment, after which it drops requests unanswered
//   (rd_kafka_incremental_unassign() blocks forever, rd_kafka_rebalance_protocol()
//   returns NULL). A revoke queued before the close is delivered after that,
//   so once left_group() no call reaches the group handle;
// - incremental (cooperative) versus eager assignment, chosen by the protocol;
// - the synchronous commit and its retries while the group rebalances or its
//   coordinator moves (kafka::IsRetriableCommit);
// - reading committed offsets with their metadata.
//
// Thread safety: one thread (the poll thread; Start's thread before it runs).
// Wake() and the destructor's queue handling aside: Wake() from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/client.h"
#include "kafka/handles.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

class Consumer {
 public:
  // Called on the thread inside Consume() or Close().
  struct Callbacks {
    // A rebalance: __ASSIGN_PARTITIONS, __REVOKE_PARTITIONS, or an error.
    // The callee must hand the change to ApplyAssignment().
    std::function<void(rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)> on_rebalance;
    // The result of a CommitAsync().
    std::function<void(rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)> on_commit;
    // librdkafka's statistics JSON (statistics.interval.ms).
    std::function<void(std::string_view)> on_statistics;
    ErrorHandler on_error;
  };

  static Result<std::unique_ptr<Consumer>> Create(const Properties& props, Callbacks callbacks);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  rd_kafka_t* handle() const { return rk_.get(); }

  // Before Subscribe: see kafka::WaitForBrokers.
  Status WaitForBrokers(const std::string& bootstrap, int timeout_ms);
  // The cluster is librdkafka's mock (the embedded broker).
  bool IsEmbeddedCluster(int timeout_ms);
  // Routes the main queue to the consumer queue (after WaitForBrokers, which
  // serves the main queue) and subscribes to `topics`.
  Status Subscribe(const std::vector<std::string>& topics);

  // Fills `out` with what is queued now; if nothing is, waits up to
  // `timeout_ms` for one message. Rebalance and commit callbacks run inside.
  // The caller owns (destroys) the messages.
  size_t Consume(std::vector<rd_kafka_message_t*>& out, int timeout_ms);
  // Makes a waiting Consume() return early. Any thread.
  void Wake();

  // Hands an assignment change to librdkafka, incremental or eager as the
  // protocol requires, unless the group handle may no longer answer (see
  // the top of this file). Logs a failure.
  void ApplyAssignment(rd_kafka_topic_partition_list_t* partitions, bool assign);
  bool AssignmentLost() const;
  void Pause(rd_kafka_topic_partition_list_t* partitions);
  void Resume(rd_kafka_topic_partition_list_t* partitions);
  Status Seek(rd_kafka_topic_partition_list_t* partitions, int timeout_ms);

  // Commits `offsets`, repeating while the group rebalances or its
  // coordinator moves, for up to `retry_ms`.
  rd_kafka_resp_err_t CommitSync(rd_kafka_topic_partition_list_t* offsets, int retry_ms);
  // The result arrives in Callbacks::on_commit.
  void CommitAsync(rd_kafka_topic_partition_list_t* offsets);
  // Sets each partition's offset (and metadata) to the committed one; on
  // failure the offsets are left unset (RD_KAFKA_OFFSET_INVALID).
  rd_kafka_resp_err_t ReadCommitted(rd_kafka_topic_partition_list_t* partitions, int timeout_ms);

  // Watermarks as the last fetch response carried them (no request); false
  // if none is known yet.
  bool CachedWatermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high) const;
  // Asks the partition leader.
  rd_kafka_resp_err_t QueryWatermarks(const std::string& topic, int32_t partition, int64_t* low, int64_t* high,
                                      int timeout_ms);
  // The next offset the consumer will fetch; -1 if unknown.
  int64_t Position(const std::string& topic, int32_t partition) const;
  // The group's id for this member ("" before the first join); nullopt
  // once the group may have been left.
  std::optional<std::string> MemberId() const;

  // Leaves the group (the revoke callback runs inside). After it, closing() is true.
  // Leaves the group, waiting at most `timeout_ms`; kTimedOut after (the
  // handle is then destroyed without another close).
  Status Close(int timeout_ms);
  // Close() has begun: no new work should start.
  bool closing() const { return closing_; }
  // The group handle may be gone: nothing can be committed or assigned any more.
  bool left_group() const { return left_group_; }

 private:
  // One commit, its result awaited until `deadline` (__TIMED_OUT after).
  rd_kafka_resp_err_t CommitOnce(rd_kafka_topic_partition_list_t* offsets,
                                 std::chrono::steady_clock::time_point deadline);
  Consumer(std::string name, Callbacks callbacks) : name_(std::move(name)), callbacks_(std::move(callbacks)) {}
  static void RebalanceCb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                          void* opaque) noexcept;
  static void CommitCb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                       void* opaque) noexcept;
  static int StatsCb(rd_kafka_t*, char* json, size_t len, void* opaque) noexcept;

  const std::string name_;  // client.id, for log lines
  const Callbacks callbacks_;
  ClientPtr rk_;
  QueuePtr queue_;  // destroyed before rk_, to which it belongs
  bool close_abandoned_ = false;
  bool closing_ = false;
  bool left_group_ = false;
};

}  // namespace kstrand::kafka
