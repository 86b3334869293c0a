/// @file
/// @brief Status and Result<T>: how kstrand reports outcomes that are normal in a
/// long-running service (timeouts, rebalances, broker errors, handler failures).
///
/// Thread safety: values; copy freely between threads.
/// Exceptions are used only for misuse at construction (bad configuration).
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace kstrand {

/// Errors raised by kstrand itself. Kafka errors use kafka_category() with
/// librdkafka's error code as value.
enum class Errc {
  kOk = 0,            ///< No error.
  kInvalidArgument,   ///< Bad flag, config value or input.
  kTimedOut,          ///< A deadline passed (broker unreachable, drain timeout).
  kNotFound,          ///< Topic, partition or key does not exist.
  kHandlerFailed,     ///< A user handler returned an error or threw.
  kShuttingDown,      ///< The runtime is stopping.
  kFenced,            ///< Work from an older assignment tried to commit.
  kInternal,          ///< Any other failure; the detail says what (an unexpected answer, a storage error).
  kAlreadyExists,     ///< A topic (or other named thing) to be created exists already.
  /// A handler failure no retry will fix (a message that fails validation):
  /// the topic's FailurePolicy skips its remaining attempts and applies its
  /// action (dead-letter, skip, stop) at once.
  kPermanentFailure,
};

/// Category of Errc, kstrand's own errors.
const std::error_category& kstrand_category() noexcept;
/// Category of librdkafka's rd_kafka_resp_err_t codes; message() is librdkafka's text.
const std::error_category& kafka_category() noexcept;

/// `e` in kstrand_category(); lets an Errc convert to std::error_code.
std::error_code make_error_code(Errc e) noexcept;

/// An outcome: Ok, or an error code with the most specific text known.
class [[nodiscard]] Status {
 public:
  /// Ok.
  Status() = default;
  /// An error `code` (any category) with its `detail` text.
  Status(std::error_code code, std::string detail) : code_(code), detail_(std::move(detail)) {}
  /// A kstrand error `code` with its `detail` text.
  Status(Errc code, std::string detail) : Status(make_error_code(code), std::move(detail)) {}

  /// Ok, spelled out.
  static Status Ok() { return {}; }

  /// True when there is no error.
  bool ok() const { return !code_; }
  /// The error code; false (no error) when ok().
  const std::error_code& code() const { return code_; }
  /// The most specific text known: librdkafka's own error string when there is one.
  const std::string& detail() const { return detail_; }
  /// "detail (category: code message)" for logs and CLI errors.
  std::string ToString() const;

 private:
  std::error_code code_;
  std::string detail_;
};

/// A value of type `T`, or the Status saying why there is none.
/// value(), `->` and `*` require ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  /// A value; implicit, so a function returning Result<T> may return a T.
  Result(T value) : v_(std::move(value)) {}   // NOLINT: implicit by design
  /// An error; implicit, so a function returning Result<T> may return a Status.
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  /// True when it holds a value.
  bool ok() const { return std::holds_alternative<T>(v_); }
  /// Ok when it holds a value, otherwise the error.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  /// The value.
  T& value() & { return std::get<T>(v_); }
  /// The value.
  const T& value() const& { return std::get<T>(v_); }
  /// The value, moved out.
  T&& value() && { return std::get<T>(std::move(v_)); }
  /// The value's members.
  T* operator->() { return &value(); }
  /// The value's members.
  const T* operator->() const { return &value(); }
  /// The value.
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kstrand

/// Errc converts to std::error_code (through kstrand::make_error_code).
template <>
struct std::is_error_code_enum<kstrand::Errc> : std::true_type {};

/// Evaluates `expr` (a Status) and returns it from the enclosing function
/// if it is an error.
#define KSTRAND_RETURN_IF_ERROR(expr)       \
  do {                                      \
    ::kstrand::Status _st = (expr);         \
    if (!_st.ok()) return _st;              \
  } while (0)
