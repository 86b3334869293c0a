// Assignment: the lanes of the partitions this member owns, one per
// partition, and the revoked lanes whose work outlived their revoke. The one
// owner of the lanes map: the poll thread changes it (Add, Remove, Replace);
// any thread reads it (Stats(), Runtime::Assignment(), a rebalance listener).
//
// A lane belongs to one assignment of its partition (its Generation). A
// partition assigned again while its previous lane is still busy gets a new
// lane that waits for the old one (Lane::After): one key never runs twice at
// once in this process.
//
// Thread safety: Add/Remove/Replace/Halt on the poll thread (or, for Halt, the
// stopping thread once the poll thread is gone); the rest from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "kstrand/config.h"
#include "kstrand/runtime.h"
#include "runtime/lane.h"

namespace kstrand::runtime {

// Adds a partition's counters (since it was assigned) to runtime totals.
void AddCounters(RuntimeStats& total, const PartitionStats& p);

class Assignment {
 public:
  using Specs = std::unordered_map<std::string, std::shared_ptr<const TopicHandler>>;
  // `specs` outlives it; every lane shares its topic's spec.
  explicit Assignment(const Specs& specs) : specs_(specs) {}

  // New lanes in `env` for `partitions` (of subscribed topics), each starting
  // with the completions a previous owner left above its committed offset.
  std::vector<std::shared_ptr<Lane>> Add(const std::vector<TopicPartition>& partitions,
                                         const std::shared_ptr<LaneEnv>& env,
                                         std::map<TopicPartition, std::vector<int64_t>>& already_done);
  // Drops `partitions`' lanes: their counters join the totals; a lane still
  // busy is kept (weakly) for its partition's next lane to wait for.
  void Remove(const std::vector<TopicPartition>& partitions);
  // Exactly-once rewind: each of `old` (halted) is replaced by a new lane of
  // the next generation, which waits for the old one if it is still busy.
  void Replace(const std::vector<std::shared_ptr<Lane>>& old, const std::shared_ptr<LaneEnv>& env,
               std::map<TopicPartition, std::vector<int64_t>>& already_done);

  std::shared_ptr<Lane> Find(const TopicPartition& tp) const;
  std::vector<std::shared_ptr<Lane>> Find(const std::vector<TopicPartition>& partitions) const;
  std::vector<std::shared_ptr<Lane>> Lanes() const;
  std::vector<TopicPartition> Partitions() const;
  // Calls `fn(partition, lane)` for each assigned lane, under the lock.
  void ForEach(const std::function<void(const TopicPartition&, const std::shared_ptr<Lane>&)>& fn) const;
  // Records the offsets of a successful commit in the lanes still assigned.
  void Committed(const rd_kafka_topic_partition_list_t* offsets);
  // The assigned lanes' snapshots (in `partitions`) and the revoked lanes' totals.
  RuntimeStats Snapshot() const;
  // Stop: halts every lane still alive, assigned or revoked, and forgets them.
  void Halt();

 private:
  std::shared_ptr<Lane> NewLane(const TopicPartition& tp, const std::shared_ptr<LaneEnv>& env,
                                std::vector<int64_t> already_done);

  const Specs& specs_;
  mutable Mutex mu_;
  std::map<TopicPartition, std::shared_ptr<Lane>> lanes_ GUARDED_BY(mu_);
  RuntimeStats retired_totals_ GUARDED_BY(mu_);  // counters of lanes no longer assigned
  // Poll thread only: revoked lanes still busy when their revoke ended.
  std::map<TopicPartition, std::weak_ptr<Lane>> retired_;
  uint64_t next_generation_ = 1;  // poll thread only
};

}  // namespace kstrand::runtime
