// librdkafka's errors: conversions to kstrand::Status, keeping librdkafka's
// own text (the most specific explanation there is), and the one place that
// says what an error calls for (retry, abort the transaction, a new producer,
// stop). Nothing else in kstrand lists error codes to decide what to do.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>

#include "kstrand/status.h"

namespace kstrand::kafka {

inline std::error_code MakeErrorCode(rd_kafka_resp_err_t err) {
  return {static_cast<int>(err), kafka_category()};
}

// `context` says what was attempted ("commit", "create topic orders").
inline Status KafkaStatus(rd_kafka_resp_err_t err, const std::string& context,
                          const char* librdkafka_text = nullptr) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  std::string text = librdkafka_text && *librdkafka_text ? librdkafka_text : rd_kafka_err2str(err);
  return Status(MakeErrorCode(err), context + ": " + text);
}

// The error a consumed message carries (with the broker's text, if any).
inline Status KafkaStatus(const rd_kafka_message_t& m, const std::string& context) {
  return KafkaStatus(m.err, context, rd_kafka_message_errstr(&m));
}

// Consumes (destroys) the rd_kafka_error_t.
Status KafkaStatus(rd_kafka_error_t* error, const std::string& context);

// `status` carries librdkafka's `err`.
inline bool Is(const Status& status, rd_kafka_resp_err_t err) { return status.code() == MakeErrorCode(err); }

// A newer instance registered this transactional.id (or bumped its epoch).
bool IsFenced(rd_kafka_resp_err_t err);
// The credentials lack a permission; asking again will not help.
bool IsAuthorization(rd_kafka_resp_err_t err);
// Fatal for a client (the error callback's verdict): the client cannot go on.
bool IsFatalClientError(rd_kafka_resp_err_t err);
// No broker answered in time (down, restarting, unreachable).
bool IsUnreachable(rd_kafka_resp_err_t err);
// A call or a request ran out of time (the client's timeout, the broker's
// REQUEST_TIMED_OUT, or queued too long).
bool IsTimedOut(rd_kafka_resp_err_t err);
// The broker lacks the API or version (the embedded broker lacks several).
bool IsUnsupported(rd_kafka_resp_err_t err);
// A group refusing a commit because it is rebalancing: expected, not a fault.
bool IsRebalanceRefusal(rd_kafka_resp_err_t err);
// A synchronous group commit that may succeed when repeated: the group is
// rebalancing, or its coordinator is moving, loading or not known yet.
bool IsRetriableCommit(rd_kafka_resp_err_t err);

// What a failed transactional call (init, begin, send offsets, commit,
// abort) calls for.
enum class TxnAction {
  kRetry,          // transient: the same call may succeed
  kAbort,          // the open transaction cannot commit: abort it, then begin another
  kRenewProducer,  // this producer is done, its transactional.id is not: start a new producer
  kStop,           // fenced by a newer instance, or not authorized: this replica must stop
};
TxnAction ClassifyTxnError(const rd_kafka_error_t* error);
// The same for a producer's fatal error (rd_kafka_fatal_error): kRenewProducer or kStop.
TxnAction ClassifyFatalProducerError(rd_kafka_resp_err_t err);

}  // namespace kstrand::kafka
