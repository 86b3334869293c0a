// Producer: an asynchronous, idempotent producer with delivery accounting.
// Used by the CLI (produce, --forward-to, demo), by the runtime, and behind
// the public kstrand::Producer (include/kstrand/producer.h).
//
// Thread safety: Produce() may be called from any thread (librdkafka's producer
// is thread-safe). Delivery reports are served by an internal poller thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kafka/client.h"
#include "kafka/error.h"
#include "kstrand/message.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

// An OutputRecord's value as Produce takes it: a null view for a tombstone.
inline std::string_view ValueOf(const OutputRecord& record) {
  return record.tombstone ? std::string_view() : std::string_view(record.value);
}

class Producer {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // Where a record was written.
  struct Delivered {
    int32_t partition = -1;
    int64_t offset = -1;
  };

  static Result<std::unique_ptr<Producer>> Create(const Properties& props);
  ~Producer();  // flushes up to 10 s, fails what is left (delivery reports served), then stops

  // Enqueues one record; waits while librdkafka's queue is full. A null key is
  // std::nullopt. partition < 0 uses the default (murmur2, as Java) partitioner.
  Status Produce(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                 const Headers& headers = {}, int32_t partition = -1);
  // Like Produce, then waits until this record is acknowledged (or failed), so
  // a caller that commits afterwards never commits an unforwarded input.
  Result<Delivered> ProduceAndWait(const std::string& topic, std::optional<std::string_view> key,
                                   std::string_view value, const Headers& headers = {}, int32_t partition = -1);
  // Like Produce; `on_delivery` runs once with the outcome and where the
  // record was written, on the producer's poller thread (keep it short), or
  // not at all if this returns an error.
  using DeliveryCallback = std::function<void(Status, Delivered)>;
  Status ProduceAsync(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                      const Headers& headers, DeliveryCallback on_delivery, int32_t partition = -1);
  // Waits until every enqueued record is delivered or failed.
  Status Flush(int timeout_ms);

  // Transactions, on a producer created with transactional.id. Each returns
  // ok, or librdkafka's error with what it calls for (error.h, TxnAction).
  struct TxnResult {
    Status status;
    TxnAction action = TxnAction::kRetry;  // when !status.ok()
    bool ok() const { return status.ok(); }
  };
  TxnResult InitTransactions(int timeout_ms);
  TxnResult BeginTransaction();
  // `consumer`'s group metadata (member id, generation or epoch) goes with the
  // offsets, so the broker refuses them from a member that no longer owns the partitions.
  TxnResult SendOffsetsToTransaction(const rd_kafka_topic_partition_list_t* offsets, rd_kafka_t* consumer,
                                     int timeout_ms);
  TxnResult CommitTransaction(int timeout_ms);
  TxnResult AbortTransaction(int timeout_ms);
  // The fatal error librdkafka raised on this producer, if any (its code and
  // reason; action kRenewProducer or kStop), or ok. Fenced is kStop (another
  // instance registered our transactional.id), except once the transaction had
  // been open for transaction.timeout.ms: the coordinator then aborts it itself
  // and bumps the epoch, which fences us too ("rollback of ongoing transaction
  // ... due to timeout" in the broker's log, as after a broker outage longer
  // than the timeout), and a new producer under the same id may go on.
  TxnResult FatalError() const;
  // Fails what is queued or in flight now; their delivery reports say so.
  void Purge();

  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }
  // The first delivery error seen, if any.
  Status first_error() const;
  rd_kafka_t* handle() const { return rk_.get(); }

 private:
  Producer() = default;
  Status Enqueue(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                 const Headers& headers, int32_t partition, DeliveryCallback on_delivery);
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);

  // Member order is destruction order: the poller stops before the handle goes.
  ClientPtr rk_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> flush_timed_out_{false};  // the destructor then purges at once
  // Transactions: transaction.timeout.ms, and when the open transaction began
  // (steady clock, ns; 0: none began).
  std::chrono::milliseconds transaction_timeout_{60000};
  std::atomic<int64_t> transaction_began_ns_{0};
  mutable std::mutex error_mu_;
  Status first_error_;
  std::thread poller_;
};

}  // namespace kstrand::kafka
