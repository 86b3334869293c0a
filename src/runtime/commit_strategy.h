// CommitStrategy: when a partition's progress is committed, per delivery mode
// (kstrand/config.h, Delivery). The poll loop calls the same points in every
// mode and never asks which mode it runs:
//
//                   at-least-once         at-most-once             exactly-once
//   BeforeDispatch  -                     commits the batch's      -
//                                         positions first; a
//                                         failed commit rewinds
//   Commit          the lanes' frontiers  nothing (done before)    the frontiers, inside
//                   (async every interval,                         the output's transaction
//                   sync on revoke/stop)                           (a failure rewinds)
//   OnLost          -                     -                        aborts the transaction
//                                                                  and rewinds
//   drop_queued     yes: read again       no: committed, so it     yes
//   on revoke       by the next owner     runs here or never
//
// Nothing is committed past a message that did not complete: the frontiers
// (offset_frontier.h) stop at the first incomplete offset.
//
// Thread safety: the poll thread (Close's thread once it is gone).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kafka/consumer.h"
#include "kafka/handles.h"
#include "kstrand/config.h"
#include "runtime/assignment.h"
#include "runtime/lane.h"

namespace kstrand::runtime {

// Moves `partitions` (offsets as ReadCommitted set them) to their committed
// offsets, or where the group's reset policy says when nothing was committed,
// dropping what was fetched past them, and resumes them. Exactly-once, after
// a rewind or a deferred read.
void SeekToCommitted(kafka::Consumer& consumer, const RuntimeConfig& config,
                     rd_kafka_topic_partition_list_t* partitions);

// What the parts that act on one member's partitions (the commit strategy,
// the rebalance paths) act on; everything outlives them.
struct MemberParts {
  const RuntimeConfig& config;
  kafka::Consumer& consumer;
  Assignment& assignment;
  std::shared_ptr<LaneEnv> env;
};

class CommitStrategy {
 public:
  struct Parts : MemberParts {
    // Sets the committed offsets of `partitions` in the list and returns the
    // completions a previous owner left above them (commit metadata);
    // exactly-once: nullopt if they could not be read.
    std::function<std::optional<std::map<TopicPartition, std::vector<int64_t>>>(rd_kafka_topic_partition_list_t*)>
        read_committed;
    // Exactly-once: partitions whose committed offsets could not be read wait,
    // paused and without a lane, until they can be.
    std::function<void(const std::vector<TopicPartition>&)> defer_unread;
    // A topic whose partitions keep their own positions (tables): a rewind leaves them.
    std::function<bool(const std::string& topic)> keeps_own_position;
    std::atomic<uint64_t>& commits;
    std::atomic<uint64_t>& commit_errors;
  };
  static std::unique_ptr<CommitStrategy> For(Delivery delivery, Parts parts);
  virtual ~CommitStrategy() = default;

  // Before the batch's messages reach their lanes. False: they must not be
  // processed (the consumer was rewound to read them again).
  virtual bool BeforeDispatch(rd_kafka_message_t** msgs, size_t n) { return true; }
  // Every commit.interval (`sync` false, all assigned lanes), and for a
  // revoke or the shutdown (`sync` true, the lanes going), retrying a
  // synchronous commit for up to `retry_ms`.
  virtual void Commit(bool sync, const std::vector<std::shared_ptr<Lane>>& lanes, int retry_ms) = 0;
  // Partitions were lost (not revoked): another member may own them already.
  virtual void OnLost(const std::vector<TopicPartition>& lost) {}
  // Whether a revoke drops what its lanes queued (it is read again by the
  // next owner) or runs it first.
  virtual bool DropQueuedOnRevoke() const { return true; }
  // The result of an asynchronous commit (kafka::Consumer's on_commit).
  void OnAsyncCommitted(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets);

 protected:
  explicit CommitStrategy(Parts parts) : parts_(std::move(parts)) {}
  // The lanes' frontiers (with the completions above them) that moved since
  // their last commit.
  kafka::TopicPartitionListPtr CommittableOffsets(const std::vector<std::shared_ptr<Lane>>& lanes) const;
  // Records a commit's outcome: the lanes' committed offsets, or a warning.
  void OnCommitted(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets);

  Parts parts_;
  bool async_commit_pending_ = false;  // one asynchronous commit at a time
};

}  // namespace kstrand::runtime
