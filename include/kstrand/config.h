// RuntimeConfig: everything a Runtime needs, validated before it starts.
//
// Every tunable is declared once in the settings table (Settings()): name,
// default, description and validation. That table drives RuntimeConfig::Set,
// the CLI's flags and --help, error messages and the status API.
// librdkafka properties pass through in `kafka` and are validated by librdkafka
// itself when the Runtime is created; those kstrand owns are refused there,
// naming the field to use instead (group.id: group_id, bootstrap.servers:
// brokers, transactional.id: transactional_id, enable.auto.commit and
// enable.auto.offset.store other than false, isolation.level other than
// read_committed under exactly-once).
//
// Thread safety: a plain value; build it on one thread, hand it to Runtime.
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

enum class Delivery {
  kAtLeastOnce,  // commit after the handler completed (default)
  kAtMostOnce,   // commit before the handler runs; a crash may skip messages
  // Consume-transform-produce: what handlers produce (Message::Produce) and
  // the offsets of the messages that produced it are committed in one Kafka
  // transaction per commit interval. Readers with isolation.level
  // read_committed see every input's records exactly once, whatever crashes.
  // Side effects outside Kafka are still at-least-once, and so are stores'
  // changelog writes.
  kExactlyOnce,
};

// A synchronous handler: runs on a worker thread and returns when the message
// is done. Return an error Status (or throw) to fail it; the topic's
// FailurePolicy decides what happens next; return Errc::kPermanentFailure for
// a failure no retry will fix, and the policy's action applies at once. A
// failed message is never committed as processed unless the policy
// dead-letters or skips it. The message says which attempt this is
// (Message::attempt()) and when to give up early (Message::stop_token()).
using Handler = std::function<Status(const Message&)>;

namespace detail {
// What a Completion finishes; implemented by the runtime.
class CompletionTarget {
 public:
  virtual ~CompletionTarget() = default;
  virtual void Complete(Status status) = 0;
};
}  // namespace detail

// Handed to an AsyncHandler with each message: call it once, from any thread,
// with Status::Ok() or a failure. Copies share one completion: the first call
// wins, later calls are ignored. If every copy is destroyed uncalled, the
// message fails with Errc::kHandlerFailed ("completion dropped"), so a lost
// completion can never hold its partition's offset back unnoticed.
class Completion {
 public:
  explicit Completion(std::shared_ptr<detail::CompletionTarget> target) : target_(std::move(target)) {}
  void operator()(Status status) const { target_->Complete(std::move(status)); }

 private:
  std::shared_ptr<detail::CompletionTarget> target_;
};

// An asynchronous handler: starts the work and returns at once; the message
// (valid until the completion is called) stays in flight until then. In-flight
// work is bounded by max.in.flight, not by worker threads.
using AsyncHandler = std::function<void(const Message&, Completion)>;

// A batch handler: consecutive messages of one lane (a partition, or one key in
// key ordering), in offset order, at most batch.max.messages. A failure fails
// the whole batch: it is retried whole, and the policy then applies to each message.
using BatchHandler = std::function<Status(std::span<const Message>)>;

// Which messages of a partition may run at the same time.
enum class Ordering {
  kPartition,  // one at a time, in offset order (default)
  kKey,        // one at a time per key, in offset order per key; null keys share one lane
  kUnordered,  // any number at once
};

// What happens to a message that failed its last attempt.
enum class FailureAction {
  kStopPartition,  // the partition stops at it, uncommitted, until reassigned (default)
  kDeadLetter,     // produce it to dead_letter_topic with error headers, then go on
  kSkip,           // log it and go on; it counts as done
  kStopRuntime,    // stop the whole runtime; Wait() returns the failure
};

struct FailurePolicy {
  // Attempts in all, the first included (1: no retry). Between attempts the
  // message's lane (its partition, or its key) waits, so order holds. A
  // failure with Errc::kPermanentFailure is not retried.
  int max_attempts = 1;
  // Wait before the second attempt; doubles on each further one, up to
  // max_backoff, each with +-20% jitter.
  std::chrono::milliseconds backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  FailureAction then = FailureAction::kStopPartition;
  std::string dead_letter_topic;  // required by kDeadLetter
};

class Table;  // kstrand/state.h
class Store;

// One subscribed topic. Set exactly one of handler, async_handler,
// batch_handler, table.
struct TopicHandler {
  std::string topic;
  Handler handler;
  AsyncHandler async_handler;
  BatchHandler batch_handler;
  // Materialise the topic into this table (kstrand/state.h) instead of
  // running a handler. Each partition is read from where its store stopped,
  // not from the group's committed offset; ordering is per partition.
  std::shared_ptr<Table> table;
  // Stores the handler writes (kstrand/state.h), per partition of this topic:
  // each is restored from its changelog before the partition's first message
  // reaches the handler.
  std::vector<std::shared_ptr<Store>> stores;
  Ordering ordering = Ordering::kPartition;
  FailurePolicy on_failure;
};

enum class RebalanceKind { kAssigned, kRevoked, kLost };

struct RebalanceEvent {
  RebalanceKind kind;
  std::string member;                       // RuntimeConfig::name
  std::vector<TopicPartition> partitions;   // the partitions that changed
  std::vector<TopicPartition> assignment;   // everything assigned after the change
};

struct RuntimeConfig {
  // Identity and connection.
  std::string name = "kstrand";   // shows in logs and client.id
  // bootstrap.servers, "host:port,...". Empty: the embedded broker a
  // `kstrand broker` on this machine recorded (Create fails saying so when
  // none runs). When the brokers are an embedded broker (that one, or an
  // EmbeddedCluster running in this process), EmbeddedCluster::ClientProperties()
  // go underneath `kafka` (a `kafka` property wins; its group.protocol picks
  // the set): without them a restarted member waits ~44 s for its partitions.
  std::string brokers;
  std::string group_id;           // required
  // Where this member serves HTTP (e.g. StatusServer::url()), announced to the
  // group so other members and tools can reach it; empty if it serves none.
  std::string endpoint;
  // Tunables; see Settings() for defaults, meaning and validation.
  size_t workers = 4;
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds revoke_timeout{10000};
  std::chrono::milliseconds shutdown_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  size_t lane_max_messages = 10000;
  size_t lane_max_bytes = 16 * 1024 * 1024;
  size_t max_in_flight = 1000;
  size_t max_ahead = 20000;
  size_t batch_max_messages = 64;
  Delivery delivery = Delivery::kAtLeastOnce;
  // Exactly-once: the producer's transactional.id. Empty: "<group>-<group.instance.id>"
  // for a static member, else "<group>-<name>-<random>".
  std::string transactional_id;
  std::string members_topic = "__kstrand_members";  // empty: no announcements
  std::chrono::milliseconds members_interval{1000};

  // librdkafka properties, passed through as given (e.g. "session.timeout.ms"),
  // except those kstrand owns (see the top of this file).
  std::map<std::string, std::string> kafka;

  std::vector<TopicHandler> topics;

  // Called on the poll thread after every assignment change; keep it short.
  std::function<void(const RebalanceEvent&)> on_rebalance;

  // Sets a tunable by its settings-table name (e.g. "commit.interval", "2s").
  // Errors name the setting and say what was wrong with the value; an unknown
  // name's error lists the settings. Runtime::Create() applies the same
  // validation to the fields, however they were set.
  Status Set(std::string_view name, std::string_view value);
  // Current value of a tunable, formatted as Set accepts it.
  std::string Get(std::string_view name) const;
};

struct Setting {
  std::string_view name;
  std::string_view default_value;
  std::string_view description;
};

// The single declaration of every tunable.
std::span<const Setting> Settings();

}  // namespace kstrand
