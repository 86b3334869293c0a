/// @file
/// @brief Producer: writes records to Kafka from application code (an HTTP request, a
/// batch job, a test), outside any handler. Inside a handler use
/// Message::Produce instead: its records go out with the message's delivery
/// guarantee.
///
/// ```
/// auto producer = kstrand::Producer::Create({.brokers = "localhost:9092"});
/// auto where = (*producer)->Send({.topic = "users", .key = "u-1", .value = "{}"});
/// // where->partition, where->offset: the record is in Kafka
/// ```
///
/// Idempotent by default (enable.idempotence=true): a retried send is never
/// written twice and records of one partition keep their order. Keys are
/// partitioned with murmur2, as Java clients do.
///
/// Thread safety: every method may be called from any thread at the same time.
/// Delivery callbacks run on the producer's own thread: keep them short, and
/// do not destroy the Producer from one. Destroying the Producer waits for the
/// records still in flight (see ~Producer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kstrand/message.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// How a Producer connects and what it sets in librdkafka.
struct ProducerConfig {
  /// bootstrap.servers. Empty: the embedded broker `kstrand broker` runs on
  /// this machine (fails if none runs).
  std::string brokers;
  /// librdkafka producer properties, as given (e.g. "compression.type",
  /// "linger.ms", security settings). They override kstrand's defaults:
  /// enable.idempotence=true, linger.ms=5, partitioner=murmur2_random.
  std::map<std::string, std::string> kafka;
  /// client.id, as brokers log it. Default "kstrand-producer".
  std::string client_id = "kstrand-producer";

  /// A config that reaches the same cluster as a Runtime (or Router)
  /// configured with `brokers` and `kafka`: only the connection and security
  /// settings of `kafka` are kept (security.protocol, sasl.*, ssl.*, ...), not
  /// a consumer's tuning, which a producer would warn about.
  static ProducerConfig SameClusterAs(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                                      std::string client_id = "kstrand-producer");
};

/// Where Kafka wrote a record.
struct RecordPosition {
  Partition partition{-1};  ///< The partition it went to.
  Offset offset{-1};        ///< Its offset there.
};

/// Writes records to Kafka from application code (see the top of this file).
class Producer {
 public:
  /// Runs once per record with where it was written, or why it was not (after
  /// librdkafka's retries, within message.timeout.ms, default 300 s).
  using DeliveryCallback = std::function<void(Result<RecordPosition>)>;

  /// Fails naming the property when librdkafka rejects one, and when `brokers`
  /// is empty and no embedded broker runs. Does not wait for a broker: sends
  /// queue until one answers.
  static Result<std::unique_ptr<Producer>> Create(ProducerConfig config);
  /// Waits up to 10 s for the records still in flight; the ones left are
  /// failed (their callbacks run with the error) before it returns.
  ~Producer();
  Producer(const Producer&) = delete;             ///< Not copyable: it owns a Kafka client.
  Producer& operator=(const Producer&) = delete;  ///< Not copyable.

  /// Sends `record` and waits until Kafka acknowledged it (or it failed).
  Result<RecordPosition> Send(const OutputRecord& record);
  /// Queues `record` and returns at once; `on_delivery` (optional) runs once
  /// with the outcome, unless this returns an error (then the record was not
  /// queued). Waits while librdkafka's queue is full (queue.buffering.max.*).
  Status SendAsync(const OutputRecord& record, DeliveryCallback on_delivery = {});
  /// Waits until every queued record is delivered or failed. kTimedOut saying
  /// how many are left; otherwise the first delivery error seen so far, if any.
  Status Flush(std::chrono::milliseconds timeout);

  /// Records acknowledged since Create.
  uint64_t delivered() const;
  /// Records failed since Create.
  uint64_t failed() const;
  /// The first delivery failure seen, Ok if none.
  Status first_error() const;

  class Impl;  // kstrand's own code

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
