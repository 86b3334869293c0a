// Status and Result<T>: how kstrand reports outcomes that are normal in a
// long-running service (timeouts, rebalances, broker errors, handler failures).
//
// Thread safety: values; copy freely between threads.
// Exceptions are used only for misuse at construction (bad configuration).
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace kstrand {

// Errors raised by kstrand itself. Kafka errors use kafka_category() with
// librdkafka's error code as value.
enum class Errc {
  kOk = 0,
  kInvalidArgument,   // bad flag, config value or input
  kTimedOut,          // a deadline passed (broker unreachable, drain timeout)
  kNotFound,          // topic, partition or key does not exist
  kHandlerFailed,     // a user handler returned an error or threw
  kShuttingDown,      // the runtime is stopping
  kFenced,            // work from an older assignment tried to commit
  kInternal,
  kAlreadyExists,     // a topic (or other named thing) to be created exists already
  // A handler failure no retry will fix (a message that fails validation):
  // the topic's FailurePolicy skips its remaining attempts and applies its
  // action (dead-letter, skip, stop) at once.
  kPermanentFailure,
};

const std::error_category& kstrand_category() noexcept;
// Category of librdkafka's rd_kafka_resp_err_t codes; message() is librdkafka's text.
const std::error_category& kafka_category() noexcept;

std::error_code make_error_code(Errc e) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(std::error_code code, std::string detail) : code_(code), detail_(std::move(detail)) {}
  Status(Errc code, std::string detail) : Status(make_error_code(code), std::move(detail)) {}

  static Status Ok() { return {}; }

  bool ok() const { return !code_; }
  const std::error_code& code() const { return code_; }
  // The most specific text known: librdkafka's own error string when there is one.
  const std::string& detail() const { return detail_; }
  // "detail (category: code message)" for logs and CLI errors.
  std::string ToString() const;

 private:
  std::error_code code_;
  std::string detail_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}   // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kstrand

template <>
struct std::is_error_code_enum<kstrand::Errc> : std::true_type {};

#define KSTRAND_RETURN_IF_ERROR(expr)       \
  do {                                      \
    ::kstrand::Status _st = (expr);         \
    if (!_st.ok()) return _st;              \
  } while (0)
