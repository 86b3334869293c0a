// Runtime: one consumer-group member that processes its assigned partitions in
// parallel on a bounded worker pool, one ordered lane per partition.
//
// Lifecycle: Create() validates the config; Start() connects, subscribes and
// starts the poll thread; Stop() drains (within shutdown.timeout.ms), commits,
// leaves the group and returns; Wait() blocks until the runtime has stopped.
//
// Thread safety: every method may be called from any thread. Handlers run on the
// worker pool; on_rebalance runs on the poll thread. The Runtime must outlive
// nothing of the user's: it owns its threads and joins them in Stop() and in the
// destructor (which calls Stop()).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "kstrand/config.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

struct PartitionStats {
  TopicPartition partition;
  Generation generation;
  std::chrono::system_clock::time_point assigned_since;
  int64_t committed = -1;      // last committed offset (next to read), -1 if none
  int64_t frontier = -1;       // lowest offset not yet completed, -1 if none seen
  uint64_t processed = 0;      // the handler succeeded
  uint64_t failed = 0;         // failed on the last attempt (then dead-lettered, skipped or stopped)
  uint64_t retried = 0;        // attempts after a failure
  uint64_t dead_lettered = 0;
  uint64_t skipped = 0;        // failed and skipped by policy
  size_t buffered = 0;         // received, waiting for the lane
  size_t in_flight = 0;        // taken for running, not completed (a sync slice, a batch, async messages)
  bool paused = false;         // paused by backpressure or a failure
  bool stopped = false;        // a message failed; the lane stopped
};

struct RuntimeStats {
  std::vector<PartitionStats> partitions;  // sorted by topic, partition
  uint64_t processed = 0;   // since start, all partitions ever assigned
  uint64_t failed = 0;
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
  uint64_t skipped = 0;
  size_t in_flight = 0;     // now, across partitions (async handlers: at most max.in.flight)
  uint64_t rebalances = 0;
  uint64_t commits = 0;
  uint64_t commit_errors = 0;
};

class Runtime {
 public:
  // Validates the config and every librdkafka property (errors carry
  // librdkafka's text). Does not connect.
  static Result<std::unique_ptr<Runtime>> Create(RuntimeConfig config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Connects (failing after connect.timeout.ms if no broker answers), checks
  // that every topic exists, subscribes and starts processing.
  Status Start();
  // Graceful: stop fetching, drain in-flight work, commit, leave the group.
  // Idempotent; safe to call from a signal-watching thread.
  void Stop();
  // Blocks until the runtime stopped; returns why (Ok after Stop()).
  Status Wait();
  // True once Start() succeeded and until the runtime stopped.
  bool running() const;

  std::vector<TopicPartition> Assignment() const;
  RuntimeStats Stats() const;
  const RuntimeConfig& config() const;

 private:
  class Impl;
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
