// Conversions from librdkafka errors to kstrand::Status, keeping librdkafka's
// own text (the most specific explanation there is).
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

// Consumes (destroys) the rd_kafka_error_t.
Status KafkaStatus(rd_kafka_error_t* error, const std::string& context);

}  // namespace kstrand::kafka
