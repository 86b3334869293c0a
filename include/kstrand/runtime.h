/// @file
/// @brief Runtime: one consumer-group member that processes its assigned partitions in
/// parallel on a bounded worker pool, one ordered lane per partition.
///
/// Lifecycle: Create() validates the config; Run() starts, blocks until
/// SIGINT/SIGTERM, Stop() or a failure, stops and returns the final status —
/// what most programs need:
///
/// ```
/// auto runtime = kstrand::Runtime::Create(config);
/// if (!runtime.ok()) return 2;
/// return (*runtime)->Run().ok() ? 0 : 1;
/// ```
///
/// For finer control: Start() connects, subscribes and starts the poll thread;
/// Stop() drains (within shutdown.timeout), commits, leaves the group and joins
/// its threads; Wait() blocks until the runtime has stopped and returns the
/// final status. A runtime starts once: Start() after Stop() is an error.
///
/// Stop() is bounded: a handler still running after shutdown.timeout is left
/// to finish on its own thread (a thread cannot be taken from it), its
/// partition committed only up to the messages that completed, and Wait()
/// returns Errc::kTimedOut naming those partitions. What such a handler uses
/// must stay alive until it returns; kstrand keeps its own parts alive.
///
/// Thread safety: every method may be called from any thread. Handlers run on the
/// worker pool; on_rebalance runs on the poll thread. The Runtime must outlive
/// nothing of the user's: it owns its threads and joins them in Stop() and in the
/// destructor (which calls Stop()).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kstrand/config.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// Handler latency: how long each handler call took (a sync message, a batch,
/// or an async message from hand-over to its completion), in fixed buckets.
struct LatencyStats {
  /// Upper bounds of the buckets, in seconds; a last bucket holds the rest.
  static constexpr std::array<double, 16> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,     10};
  std::array<uint64_t, kBounds.size() + 1> counts{};  ///< Per bucket, not cumulative.
  uint64_t count = 0;       ///< Handler calls measured (the sum of `counts`).
  double sum_seconds = 0;   ///< Their total duration, in seconds.

  /// The q-quantile (0 < q <= 1) in seconds, interpolated inside its bucket;
  /// 0 when empty. The last bucket reports its lower bound.
  double Quantile(double q) const;
  /// Adds `other`'s calls to these (bucket by bucket).
  void Add(const LatencyStats& other);
};

/// One partition assigned to this member, as Runtime::Stats() reports it.
struct PartitionStats {
  TopicPartition partition;  ///< The topic and partition.
  Generation generation;     ///< Which assignment of the partition to this member this is.
  std::chrono::system_clock::time_point assigned_since;  ///< When this assignment began.
  int64_t committed = -1;      ///< Last committed offset (next to read), -1 if none.
  int64_t frontier = -1;       ///< Lowest offset not yet completed, -1 if none seen.
  int64_t end_offset = -1;     ///< The partition's high watermark as last fetched, -1 if not known yet.
  /// end_offset minus the committed offset (or, before the first commit, minus
  /// the frontier or the low watermark), as kafka-consumer-groups reports it; -1 if not known.
  int64_t lag = -1;
  uint64_t processed = 0;      ///< The handler succeeded.
  uint64_t failed = 0;         ///< Failed on the last attempt (then dead-lettered, skipped or stopped).
  uint64_t retried = 0;        ///< Attempts after a failure.
  uint64_t dead_lettered = 0;  ///< Failed and produced to the dead-letter topic.
  uint64_t skipped = 0;        ///< Failed and skipped by policy.
  size_t queued = 0;           ///< Received, waiting for the lane.
  size_t in_flight = 0;        ///< Taken for running, not completed (a sync slice, a batch, async messages).
  bool paused = false;         ///< Paused by backpressure or a failure.
  bool stopped = false;        ///< A message failed; the lane stopped.
  LatencyStats latency;        ///< Since assigned.
};

/// One assignment change as this member handled it.
struct RebalanceRecord {
  std::chrono::system_clock::time_point at;  ///< When the callback started.
  RebalanceKind kind;                        ///< Assigned, revoked or lost.
  std::vector<TopicPartition> partitions;    ///< The partitions that changed.
  /// Time spent in the callback: reading committed offsets for an assignment;
  /// draining and the final commit for a revoke.
  std::chrono::microseconds duration{0};
};

/// Figures from librdkafka's own statistics (statistics.interval.ms, 5 s by
/// default here); zero until the first report.
struct ClientStats {
  uint64_t rx_messages = 0;        ///< Messages fetched from brokers.
  uint64_t rx_bytes = 0;           ///< Bytes fetched from brokers.
  uint64_t fetch_queue_messages = 0;  ///< Fetched, waiting in librdkafka's queues.
  int64_t broker_rtt_p99_us = 0;   ///< The slowest broker's p99 round trip, in microseconds.
};

/// A snapshot of a Runtime: its partitions, counters, rebalances and commits.
struct RuntimeStats {
  std::vector<PartitionStats> partitions;  ///< Sorted by topic, partition.
  std::string member_id;    ///< The group's id for this member, empty before the first join.
  std::chrono::system_clock::time_point started;  ///< When Start() succeeded.
  uint64_t processed = 0;   ///< Since start, all partitions ever assigned.
  uint64_t failed = 0;         ///< Since start: failed on the last attempt.
  uint64_t retried = 0;        ///< Since start: attempts after a failure.
  uint64_t dead_lettered = 0;  ///< Since start: produced to a dead-letter topic.
  uint64_t skipped = 0;        ///< Since start: failed and skipped by policy.
  size_t in_flight = 0;     ///< Now, across partitions (async handlers: at most max.in.flight).
  size_t busy_workers = 0;  ///< Worker threads running a handler call (or a lane's slice around it) now.
  double throughput = 0;    ///< Messages processed per second over the last ~5 s.
  LatencyStats latency;     ///< Since start, all partitions.
  uint64_t rebalances = 0;  ///< Rebalance callbacks (assignment changes) since start.
  std::vector<RebalanceRecord> recent_rebalances;  ///< The last 64, oldest first.
  uint64_t commits = 0;        ///< Offset commits issued since start (under exactly-once: transactions committed).
  uint64_t commit_errors = 0;  ///< Commits that failed (under exactly-once: transactions aborted).
  /// Exactly-once: transactional producers replaced after a fatal error that
  /// was not fencing (a broker restart can leave one in an invalid state);
  /// processing went on from the last committed transaction each time.
  uint64_t producer_renewals = 0;
  ClientStats client;          ///< From librdkafka's statistics.
};

/// One consumer-group member processing its partitions in parallel (see the
/// top of this file for its lifecycle).
class Runtime {
 public:
  /// Validates the config and every librdkafka property (errors carry
  /// librdkafka's text). Does not connect.
  static Result<std::unique_ptr<Runtime>> Create(RuntimeConfig config);
  /// Calls Stop(), which joins the runtime's threads.
  ~Runtime();
  Runtime(const Runtime&) = delete;             ///< Not copyable: it owns its threads and Kafka clients.
  Runtime& operator=(const Runtime&) = delete;  ///< Not copyable.

  /// Connects (failing after connect.timeout if no broker answers), checks
  /// that every topic exists, subscribes and starts processing. Fails if the
  /// runtime already started or was stopped (create a new one).
  Status Start();
  /// Start(), then block until a SIGINT/SIGTERM (with `stop_on_signals`:
  /// installs kstrand's handlers, InstallShutdownSignals()), a Stop() from any
  /// thread, or a failure that stops the runtime; then Stop(). Returns the
  /// final status: Start()'s error, the failure, or Stop()'s. A second signal
  /// exits the process at once.
  Status Run(bool stop_on_signals = true);
  /// Graceful: stop fetching, drain in-flight work (up to shutdown.timeout),
  /// commit, leave the group, join the threads. Idempotent; from any thread.
  /// Called from a handler or on_rebalance (the runtime's own threads) it only
  /// requests the stop and returns at once; the runtime then stops on its own
  /// thread, and Wait() or Run() report how it ended.
  void Stop();
  /// The same with another bound than shutdown.timeout on the drain (an
  /// orchestrator's grace period left), e.g. Stop(std::chrono::seconds(5)).
  /// The first call's bound counts.
  void Stop(std::chrono::milliseconds drain_timeout);
  /// Blocks until the runtime stopped; returns why: Ok after a Stop() that
  /// drained everything, the failure that stopped the runtime, or
  /// Errc::kTimedOut naming the partitions a handler still running after
  /// shutdown.timeout held back.
  Status Wait();
  /// True once Start() succeeded and until the runtime stopped.
  bool running() const;

  /// The partitions assigned to this member now, sorted.
  std::vector<TopicPartition> Assignment() const;
  /// A snapshot of the runtime's partitions, counters, rebalances and commits.
  RuntimeStats Stats() const;
  /// The config it was created with.
  const RuntimeConfig& config() const;

 private:
  class Impl;
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
