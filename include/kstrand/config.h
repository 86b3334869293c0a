/// @file
/// @brief RuntimeConfig: everything a Runtime needs, validated before it starts.
///
/// Every tunable is declared once in the settings table (Settings()): name,
/// default, description and validation. That table drives RuntimeConfig::Set,
/// the CLI's flags and --help, error messages and the status API.
/// librdkafka properties pass through in `kafka` and are validated by librdkafka
/// itself when the Runtime is created; those kstrand owns are refused there,
/// naming the field to use instead (group.id: group_id, bootstrap.servers:
/// brokers, transactional.id: transactional_id, enable.auto.commit and
/// enable.auto.offset.store other than false, isolation.level other than
/// read_committed under exactly-once).
///
/// Thread safety: a plain value; build it on one thread, hand it to Runtime.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kstrand/message.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// The delivery guarantee: when a message's offset is committed
/// (RuntimeConfig::delivery, setting "delivery").
enum class Delivery {
  kAtLeastOnce,  ///< Commit after the handler completed (default).
  kAtMostOnce,   ///< Commit before the handler runs; a crash may skip messages.
  /// Consume-transform-produce: what handlers produce (Message::Produce) and
  /// the offsets of the messages that produced it are committed in one Kafka
  /// transaction per commit interval. Readers with isolation.level
  /// read_committed see every input's records exactly once, whatever crashes.
  /// Side effects outside Kafka are still at-least-once, and so are stores'
  /// changelog writes.
  kExactlyOnce,
};

/// A synchronous handler: runs on a worker thread and returns when the message
/// is done. Return an error Status (or throw) to fail it; the topic's
/// FailurePolicy decides what happens next; return Errc::kPermanentFailure for
/// a failure no retry will fix, and the policy's action applies at once. A
/// failed message is never committed as processed unless the policy
/// dead-letters or skips it. The message says which attempt this is
/// (Message::attempt()) and when to give up early (Message::stop_token()).
using Handler = std::function<Status(const Message&)>;

namespace detail {
// What a Completion finishes; implemented by the runtime.
class CompletionTarget {
 public:
  virtual ~CompletionTarget() = default;
  virtual void Complete(Status status) = 0;
};
}  // namespace detail

/// Handed to an AsyncHandler with each message: call it once, from any thread,
/// with Status::Ok() or a failure. Copies share one completion: the first call
/// wins, later calls are ignored. If every copy is destroyed uncalled, the
/// message fails with Errc::kHandlerFailed ("completion dropped"), so a lost
/// completion can never hold its partition's offset back unnoticed.
class Completion {
 public:
  /// For kstrand's own code: a completion that finishes `target`.
  explicit Completion(std::shared_ptr<detail::CompletionTarget> target) : target_(std::move(target)) {}
  /// Completes the message with `status`: Status::Ok() or a failure, as a
  /// synchronous Handler returns it.
  void operator()(Status status) const { target_->Complete(std::move(status)); }

 private:
  std::shared_ptr<detail::CompletionTarget> target_;
};

/// An asynchronous handler: starts the work and returns at once; the message
/// (valid until the completion is called) stays in flight until then. In-flight
/// work is bounded by max.in.flight, not by worker threads.
using AsyncHandler = std::function<void(const Message&, Completion)>;

/// A batch handler: consecutive messages of one lane (a partition, or one key in
/// key ordering), in offset order, at most batch.max.messages. A failure fails
/// the whole batch: it is retried whole, and the policy then applies to each message.
using BatchHandler = std::function<Status(std::span<const Message>)>;

/// Which messages of a partition may run at the same time.
enum class Ordering {
  kPartition,  ///< One at a time, in offset order (default).
  kKey,        ///< One at a time per key, in offset order per key; null keys share one lane.
  kUnordered,  ///< Any number at once.
};

/// What happens to a message that failed its last attempt.
enum class FailureAction {
  kStopPartition,  ///< The partition stops at it, uncommitted, until reassigned (default).
  kDeadLetter,     ///< Produce it to dead_letter_topic with error headers, then go on.
  kSkip,           ///< Log it and go on; it counts as done.
  kStopRuntime,    ///< Stop the whole runtime; Wait() returns the failure.
};

/// How a topic's failed messages are retried, and what happens after the last attempt.
struct FailurePolicy {
  /// Attempts in all, the first included (1: no retry). Between attempts the
  /// message's lane (its partition, or its key) waits, so order holds. A
  /// failure with Errc::kPermanentFailure is not retried.
  int max_attempts = 1;
  /// Wait before the second attempt; doubles on each further one, up to
  /// max_backoff, each with +-20% jitter.
  std::chrono::milliseconds backoff{100};
  std::chrono::milliseconds max_backoff{10000};  ///< The longest wait between attempts. Default 10 s.
  FailureAction then = FailureAction::kStopPartition;  ///< After the last attempt. Default: stop the partition.
  std::string dead_letter_topic;  ///< Required by kDeadLetter.
};

class Table;  // kstrand/state.h
class Store;

/// One subscribed topic. Set exactly one of handler, async_handler,
/// batch_handler, table.
struct TopicHandler {
  std::string topic;            ///< The topic to subscribe to; it must exist when the runtime starts.
  Handler handler;              ///< A synchronous handler.
  AsyncHandler async_handler;   ///< An asynchronous handler.
  BatchHandler batch_handler;   ///< A batch handler.
  /// Materialise the topic into this table (kstrand/state.h) instead of
  /// running a handler. Each partition is read from where its store stopped,
  /// not from the group's committed offset; ordering is per partition.
  std::shared_ptr<Table> table;
  /// Stores the handler writes (kstrand/state.h), per partition of this topic:
  /// each is restored from its changelog before the partition's first message
  /// reaches the handler.
  std::vector<std::shared_ptr<Store>> stores;
  Ordering ordering = Ordering::kPartition;  ///< Default: per partition.
  FailurePolicy on_failure;                  ///< Default: one attempt, then stop the partition.
};

/// What changed in this member's assignment.
enum class RebalanceKind {
  kAssigned,  ///< Partitions were assigned to this member.
  kRevoked,   ///< Partitions were taken away: drained (up to revoke.timeout) and committed first.
  /// Partitions were lost (the session expired, or the rebalance failed):
  /// another member may own them already, so nothing was committed for them.
  kLost
};

/// One assignment change, as RuntimeConfig::on_rebalance receives it.
struct RebalanceEvent {
  RebalanceKind kind;                       ///< Assigned, revoked or lost.
  std::string member;                       ///< RuntimeConfig::name.
  std::vector<TopicPartition> partitions;   ///< The partitions that changed.
  std::vector<TopicPartition> assignment;   ///< Everything assigned after the change.
};

/// Everything a Runtime needs: identity, connection, tunables, librdkafka
/// properties, the topics and their handlers.
struct RuntimeConfig {
  // Identity and connection.
  std::string name = "kstrand";   ///< Shows in logs and client.id.
  /// bootstrap.servers, "host:port,...". Empty: the embedded broker a
  /// `kstrand broker` on this machine recorded (Create fails saying so when
  /// none runs). When the brokers are an embedded broker (that one, or an
  /// EmbeddedCluster running in this process), EmbeddedCluster::ClientProperties()
  /// go underneath `kafka` (a `kafka` property wins; its group.protocol picks
  /// the set): without them a restarted member waits ~44 s for its partitions.
  std::string brokers;
  std::string group_id;           ///< The consumer group; required.
  /// Where this member serves HTTP (e.g. StatusServer::url()), announced to the
  /// group so other members and tools can reach it; empty if it serves none.
  std::string endpoint;
  // Tunables; see Settings() for defaults, meaning and validation.
  /// "workers", default 4 (1 to 1024): worker threads running handlers (partitions share them).
  size_t workers = 4;
  /// "commit.interval", default 1 s: how often completed offsets are committed (asynchronously).
  std::chrono::milliseconds commit_interval{1000};
  /// "revoke.timeout", default 10 s: how long a revoked partition waits for
  /// in-flight messages before committing and releasing it.
  std::chrono::milliseconds revoke_timeout{10000};
  /// "shutdown.timeout", default 30 s: how long shutdown waits for in-flight
  /// messages before committing and leaving.
  std::chrono::milliseconds shutdown_timeout{30000};
  /// "connect.timeout", default 10 s: how long start-up waits for a broker to answer before failing.
  std::chrono::milliseconds connect_timeout{10000};
  /// "lane.max.messages", default 10000: messages buffered per partition
  /// before it is paused (resumes at half).
  size_t lane_max_messages = 10000;
  /// "lane.max.bytes", default 16 MiB: bytes buffered per partition before it
  /// is paused (resumes at half).
  size_t lane_max_bytes = 16 * 1024 * 1024;
  /// "max.in.flight", default 1000: messages handed to async handlers and not
  /// yet completed, across all partitions (sync and batch handlers are bounded by workers).
  size_t max_in_flight = 1000;
  /// "max.ahead", default 20000 (at most 24000): how many offsets past its
  /// oldest incomplete message a partition may fetch (key and unordered modes).
  size_t max_ahead = 20000;
  /// "batch.max.messages", default 64: most messages handed to a batch handler at once.
  size_t batch_max_messages = 64;
  /// "delivery", default at-least-once: when offsets are committed (see Delivery).
  Delivery delivery = Delivery::kAtLeastOnce;
  /// Exactly-once: the producer's transactional.id. Empty: "<group>-<group.instance.id>"
  /// for a static member, else "<group>-<name>-<random>".
  std::string transactional_id;
  /// "members.topic": where members announce their assignment and progress; empty: no announcements.
  std::string members_topic{kDefaultMembersTopic};
  /// "members.interval", default 1 s: how often a member refreshes its
  /// announcement (and at every rebalance).
  std::chrono::milliseconds members_interval{1000};

  /// librdkafka properties, passed through as given (e.g. "session.timeout.ms"),
  /// except those kstrand owns (see the top of this file).
  std::map<std::string, std::string> kafka;

  /// The topics to subscribe to, each with its handler (or table).
  std::vector<TopicHandler> topics;

  /// Called on the poll thread after every assignment change; keep it short.
  std::function<void(const RebalanceEvent&)> on_rebalance;

  /// Sets a tunable by its settings-table name (e.g. "commit.interval", "2s").
  /// Errors name the setting and say what was wrong with the value; an unknown
  /// name's error lists the settings. Runtime::Create() applies the same
  /// validation to the fields, however they were set.
  Status Set(std::string_view name, std::string_view value);
  /// Current value of a tunable, formatted as Set accepts it.
  std::string Get(std::string_view name) const;
};

/// One tunable of the settings table.
struct Setting {
  std::string_view name;           ///< As RuntimeConfig::Set takes it, e.g. "commit.interval".
  std::string_view default_value;  ///< Formatted as Set accepts it, e.g. "1s".
  std::string_view description;    ///< One line, as the CLI's --help shows it.
};

/// The single declaration of every tunable.
std::span<const Setting> Settings();

}  // namespace kstrand
