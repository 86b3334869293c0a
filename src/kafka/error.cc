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

}  // namespace kafka
}  // namespace kstrand
