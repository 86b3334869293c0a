#include "kafka/error.h"
#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>

namespace kstrand {
namespace {

class KstrandCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kstrand"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk: return "ok";
      case Errc::kInvalidArgument: return "invalid argument";
      case Errc::kTimedOut: return "timed out";
      case Errc::kNotFound: return "not found";
      case Errc::kHandlerFailed: return "handler failed";
      case Errc::kShuttingDown: return "shutting down";
      case Errc::kFenced: return "fenced by a newer assignment";
      case Errc::kInternal: return "internal error";
      case Errc::kAlreadyExists: return "already exists";
      case Errc::kPermanentFailure: return "permanent failure";
    }
    return "unknown kstrand error";
  }
};

class KafkaCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int ev) const override {
    return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(ev));
  }
};

}  // namespace

const std::error_category& kstrand_category() noexcept {
  static const KstrandCategory category;
  return category;
}

const std::error_category& kafka_category() noexcept {
  static const KafkaCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), kstrand_category()}; }

std::string Status::ToString() const {
  if (ok()) return "ok";
  return detail_ + " (" + code_.category().name() + ": " + code_.message() + ")";
}

namespace kafka {

Status KafkaStatus(rd_kafka_error_t* error, const std::string& context) {
  if (!error) return Status::Ok();
  ErrorPtr owned(error);
  return Status(MakeErrorCode(rd_kafka_error_code(error)), context + ": " + rd_kafka_error_string(error));
}

bool IsFenced(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

bool IsAuthorization(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
}

bool IsFatalClientError(rd_kafka_resp_err_t err) {
  // Rejected credentials and failed TLS handshakes are retried by librdkafka
  // forever; kstrand reports them once and stops instead.
  return err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL;
}

bool IsUnreachable(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
}

bool IsTimedOut(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE;
}

bool IsUnsupported(rd_kafka_resp_err_t err) {
  // librdkafka answers _UNSUPPORTED_FEATURE itself when the broker's ApiVersions
  // lack the request; UNSUPPORTED_VERSION would come from a broker that listed
  // the API but refused the version.
  return err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION;
}

bool IsRebalanceRefusal(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION;
}

bool IsRetriableCommit(rd_kafka_resp_err_t err) {
  return IsRebalanceRefusal(err) || err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR__WAIT_COORD ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

TxnAction ClassifyFatalProducerError(rd_kafka_resp_err_t err) {
  // Fenced: a newer instance owns the id and its partitions; a new producer
  // would fence it in turn (a zombie taking over). Any other fatal state
  // (INVALID_TXN_STATE from an EndTxn that met a broker restart: librdkafka
  // lacks KIP-890) ends the producer, not the id.
  return IsFenced(err) || IsAuthorization(err) ? TxnAction::kStop : TxnAction::kRenewProducer;
}

TxnAction ClassifyTxnError(const rd_kafka_error_t* error) {
  if (rd_kafka_error_is_fatal(error)) return ClassifyFatalProducerError(rd_kafka_error_code(error));
  if (rd_kafka_error_txn_requires_abort(error)) return TxnAction::kAbort;
  if (rd_kafka_error_is_retriable(error)) return TxnAction::kRetry;
  return TxnAction::kAbort;  // anything else: the open transaction cannot be trusted
}

}  // namespace kafka
}  // namespace kstrand
