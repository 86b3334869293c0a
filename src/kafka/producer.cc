#include "kafka/producer.h"

#include <chrono>
#include <future>

#include "kafka/error.h"

namespace kstrand::kafka {

namespace {
// A record's delivery callback, passed as its message opaque.
using DeliveryCallback = Producer::DeliveryCallback;
}  // namespace

Result<std::unique_ptr<Producer>> Producer::Create(const Properties& props) {
  std::unique_ptr<Producer> p(new Producer());
  // murmur2_random: keys land where Java producers (and Kafka tooling) put them.
  Properties all = {{"enable.idempotence", "true"}, {"linger.ms", "5"}, {"partitioner", "murmur2_random"}};
  for (const auto& [k, v] : props) all[k] = v;
  auto rk = NewClient(RD_KAFKA_PRODUCER, all, [&](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_dr_msg_cb(conf, &Producer::OnDelivery);
    rd_kafka_conf_set_opaque(conf, p.get());
  });
  if (!rk.ok()) return rk.status();
  p->rk_ = std::move(rk.value());
  // librdkafka validated the value already (1000 and up); its default otherwise.
  if (auto it = all.find("transaction.timeout.ms"); it != all.end()) {
    p->transaction_timeout_ = std::chrono::milliseconds(std::stoll(it->second));
  }
  p->poller_ = std::thread([raw = p.get()] {
    while (!raw->stop_.load()) rd_kafka_poll(raw->rk_.get(), 100);
  });
  return p;
}

Producer::~Producer() {
  // After a Flush() that timed out (a shutdown's deadline), waiting again is
  // pointless: the broker is not there.
  if (rk_ && (flush_timed_out_ || rd_kafka_flush(rk_.get(), 10000) == RD_KAFKA_RESP_ERR__TIMED_OUT)) {
    // Still undelivered (say the broker is down): rd_kafka_destroy would free
    // these records without a delivery report, leaking their callbacks and
    // what those hold -- a consumed message, whose toppar keeps the consumer's
    // broker thread, and so its rd_kafka_destroy, from ever finishing. Fail
    // them now instead (__PURGE_QUEUE / __PURGE_INFLIGHT) and serve the reports
    // while the poller still runs, so each callback runs once.
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_.get(), 5000);
  }
  stop_ = true;
  if (poller_.joinable()) poller_.join();
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (msg->_private) {
    std::unique_ptr<DeliveryCallback> callback(static_cast<DeliveryCallback*>(msg->_private));
    (*callback)(KafkaStatus(msg->err, std::string("delivery to ") + rd_kafka_topic_name(msg->rkt)),
                Delivered{msg->partition, msg->offset});
  }
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1);
    return;
  }
  self->failed_.fetch_add(1);
  std::lock_guard lock(self->error_mu_);
  if (self->first_error_.ok()) {
    self->first_error_ = KafkaStatus(msg->err, std::string("delivery to ") + rd_kafka_topic_name(msg->rkt));
  }
}

Status Producer::first_error() const {
  std::lock_guard lock(error_mu_);
  return first_error_;
}

Status Producer::Produce(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                         const Headers& headers, int32_t partition) {
  return Enqueue(topic, key, value, headers, partition, nullptr);
}

Status Producer::ProduceAsync(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                              const Headers& headers, DeliveryCallback on_delivery, int32_t partition) {
  return Enqueue(topic, key, value, headers, partition, std::move(on_delivery));
}

Result<Producer::Delivered> Producer::ProduceAndWait(const std::string& topic, std::optional<std::string_view> key,
                                                     std::string_view value, const Headers& headers,
                                                     int32_t partition) {
  std::promise<Result<Delivered>> delivered;
  auto result = delivered.get_future();
  KSTRAND_RETURN_IF_ERROR(Enqueue(topic, key, value, headers, partition, [&delivered](Status st, Delivered where) {
    delivered.set_value(st.ok() ? Result<Delivered>(where) : Result<Delivered>(std::move(st)));
  }));
  return result.get();
}

Status Producer::Enqueue(const std::string& topic, std::optional<std::string_view> key, std::string_view value,
                         const Headers& headers, int32_t partition, DeliveryCallback on_delivery) {
  // Owned by the record from a successful produce until its delivery report.
  std::unique_ptr<DeliveryCallback> callback(on_delivery ? new DeliveryCallback(std::move(on_delivery)) : nullptr);
  for (;;) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, v] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
      }
    }
    // The RD_KAFKA_V_* macros do not parenthesize their arguments.
    const void* key_ptr = key ? key->data() : nullptr;
    const size_t key_len = key ? key->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key_ptr, key_len),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(callback.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      callback.release();  // headers and callback now belong to the record
      return Status::Ok();
    }
    if (hdrs) rd_kafka_headers_destroy(hdrs);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return KafkaStatus(err, "produce to " + topic);
    // Backpressure from librdkafka's queue: wait for deliveries to free space.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status Producer::Flush(int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), timeout_ms);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    flush_timed_out_ = true;
    return Status(Errc::kTimedOut, std::to_string(rd_kafka_outq_len(rk_.get())) +
                                       " records still undelivered after " + std::to_string(timeout_ms) + " ms");
  }
  KSTRAND_RETURN_IF_ERROR(KafkaStatus(err, "flush"));
  return first_error();
}

namespace {

// Consumes `error`.
Producer::TxnResult Txn(rd_kafka_error_t* error, const char* what) {
  if (!error) return {};
  const TxnAction action = ClassifyTxnError(error);
  return {KafkaStatus(error, what), action};
}

}  // namespace

Producer::TxnResult Producer::InitTransactions(int timeout_ms) {
  return Txn(rd_kafka_init_transactions(rk_.get(), timeout_ms), "registering the transactional.id");
}

Producer::TxnResult Producer::BeginTransaction() {
  TxnResult begun = Txn(rd_kafka_begin_transaction(rk_.get()), "beginning a transaction");
  if (begun.ok()) transaction_began_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  return begun;
}

Producer::TxnResult Producer::SendOffsetsToTransaction(const rd_kafka_topic_partition_list_t* offsets,
                                                       rd_kafka_t* consumer, int timeout_ms) {
  std::unique_ptr<rd_kafka_consumer_group_metadata_t, decltype(&rd_kafka_consumer_group_metadata_destroy)> group(
      rd_kafka_consumer_group_metadata(consumer), &rd_kafka_consumer_group_metadata_destroy);
  return Txn(rd_kafka_send_offsets_to_transaction(rk_.get(), offsets, group.get(), timeout_ms),
             "sending offsets to the transaction");
}

Producer::TxnResult Producer::CommitTransaction(int timeout_ms) {
  return Txn(rd_kafka_commit_transaction(rk_.get(), timeout_ms), "committing the transaction");
}

Producer::TxnResult Producer::AbortTransaction(int timeout_ms) {
  return Txn(rd_kafka_abort_transaction(rk_.get(), timeout_ms), "aborting the transaction");
}

Producer::TxnResult Producer::FatalError() const {
  char reason[512] = "";
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  TxnResult fatal{KafkaStatus(err, "the producer cannot go on", reason), ClassifyFatalProducerError(err)};
  const int64_t began_ns = transaction_began_ns_.load();
  if (!IsFenced(err) || began_ns == 0) return fatal;
  // Our clock started at begin, before the broker's (at the first record or
  // offsets), so a transaction the broker timed out is at least this old here.
  const auto open_for = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch() - std::chrono::nanoseconds(began_ns));
  if (open_for >= transaction_timeout_) {
    fatal.action = TxnAction::kRenewProducer;
    fatal.status = Status(fatal.status.code(), fatal.status.detail() + " (the transaction had been open " +
                                                    std::to_string(open_for.count()) +
                                                    " ms, past transaction.timeout.ms " +
                                                    std::to_string(transaction_timeout_.count()) +
                                                    " ms: the broker aborted it, no other instance fenced us)");
  }
  return fatal;
}

void Producer::Purge() { rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT); }

}  // namespace kstrand::kafka
