/// @file
/// @brief Message: one consumed Kafka record, as handed to a handler.
///
/// A Message owns its underlying client buffer and is move-only. The views it
/// returns (key, value, headers) stay valid as long as the Message lives.
/// A handler receives `const Message&` and may read it from any thread while
/// the handler runs; it must not keep views past the handler's return.
///
/// A handler that writes to Kafka does so through Produce(): the records go out
/// only when the message completes, and with the delivery guarantee of the
/// runtime (see Produce).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kstrand/types.h"

namespace kstrand {

/// A record a handler produces while processing a message (Message::Produce),
/// or an application sends with a Producer.
struct OutputRecord {
  std::string topic;               ///< The topic to write to.
  std::optional<std::string> key;  ///< std::nullopt: a null key.
  std::string value;               ///< The value (ignored for a tombstone).
  std::vector<std::pair<std::string, std::string>> headers;  ///< Headers, in order; a name may repeat.
  int32_t partition = -1;  ///< -1: by key, with the murmur2 partitioner Java clients use.
  /// A null value (a tombstone: on a compacted topic it deletes the key);
  /// `value` is then ignored. A null value is not an empty value.
  bool tombstone = false;
};

namespace detail {
// What the runtime tells a handler about the attempt it runs; owned by the
// runtime, valid while the message is being handled.
struct HandlerContext {
  int attempt = 1;
  std::stop_token stop;
};
}  // namespace detail

/// One consumed Kafka record (or one made by Make() for a test), with what
/// the runtime says about the attempt running it.
class Message {
 public:
  /// An empty message, holding no record: something to move one into.
  Message() = default;
  /// Frees the record's buffer.
  ~Message();
  /// Takes `other`'s record; `other` is left empty.
  Message(Message&& other) noexcept;
  /// Frees this record, then takes `other`'s; `other` is left empty.
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;             ///< Move-only: it owns the client's buffer.
  Message& operator=(const Message&) = delete;  ///< Move-only.

  /// The topic it was read from.
  std::string_view topic() const;
  /// The partition it was read from.
  Partition partition() const;
  /// Its offset in the partition.
  Offset offset() const;
  /// Empty optional for a null key (a null key is not an empty key).
  std::optional<std::string_view> key() const;
  /// The value; empty for a null value (see value_is_null()).
  std::string_view value() const;
  /// True for a null value (a tombstone), which is not an empty value.
  bool value_is_null() const;
  /// The record's timestamp (create or log-append time, as the topic sets it);
  /// the epoch if it has none, the time of the call for a message made by Make().
  std::chrono::system_clock::time_point timestamp() const;
  /// First header with this name, if any.
  std::optional<std::string_view> header(std::string_view name) const;
  /// Every header, in order.
  std::vector<std::pair<std::string_view, std::string_view>> headers() const;
  /// Bytes this message holds (key + value), used for lane byte bounds.
  size_t size() const;

  /// Which attempt at this message the handler runs: 1 the first time, 2 on
  /// the first retry, up to the topic's FailurePolicy::max_attempts (a batch
  /// handler's messages share their batch's attempt).
  int attempt() const { return context_ ? context_->attempt : 1; }
  /// Requested when the message's partition is revoked or lost, or the runtime
  /// stops: a long handler polls stop_token().stop_requested(), or waits on it
  /// (std::condition_variable_any::wait_for with the token, std::stop_callback),
  /// and returns early with an error. Its message is then not committed: the
  /// partition's next owner runs it again (under at-most-once, where a stopping
  /// runtime drains what it already committed, it is lost). A message made by
  /// Make() has a token that is never requested.
  std::stop_token stop_token() const { return context_ ? context_->stop : std::stop_token(); }

  /// Produces `record` as part of processing this message. Nothing is sent
  /// while the handler runs: if the attempt succeeds, the records go out as the
  /// message completes; if it fails they are dropped, so a retry never
  /// duplicates them. With exactly-once delivery they join the transaction that
  /// commits this message's offset (read_committed readers see both or
  /// neither); otherwise the message completes only once every record it
  /// produced is acknowledged, so its offset is never committed before them.
  /// Call it from the handler, or from an async handler's work before calling
  /// its Completion; not from several threads at once for one message.
  void Produce(OutputRecord record) const;
  /// For kstrand's own code: the records Produce() collected, which are then
  /// forgotten.
  std::vector<OutputRecord> TakeProduced();

  /// A message not read from Kafka, for testing handlers without a broker.
  static Message Make(std::string topic, Partition partition, Offset offset,
                      std::optional<std::string> key, std::string value,
                      std::vector<std::pair<std::string, std::string>> headers = {});

  /// For kstrand's own code: adopt an rd_kafka_message_t*. Not for users.
  explicit Message(void* native) noexcept : native_(native) {}
  /// For kstrand's own code: the rd_kafka_message_t* it holds, nullptr if none.
  void* native() const { return native_; }
  /// For kstrand's own code: what attempt() and stop_token() report, set
  /// before each attempt.
  void SetContext(const detail::HandlerContext* context) { context_ = context; }

 private:
  struct Owned;
  void* native_ = nullptr;  // rd_kafka_message_t*, destroyed with the Message
  Owned* owned_ = nullptr;  // set instead of native_ by Make()
  // Produce()'s records; allocated on first use, so messages that produce
  // nothing stay two pointers wide in the lanes' queues.
  mutable std::vector<OutputRecord>* produced_ = nullptr;
  const detail::HandlerContext* context_ = nullptr;  // set by the lane running it
};

}  // namespace kstrand
