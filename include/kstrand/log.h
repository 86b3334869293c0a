/// @file
/// @brief Where kstrand's log lines go: kstrand's own (rebalances, commit failures,
/// broker errors) and librdkafka's, for every client kstrand creates. By
/// default they are written to stderr, one line each, the component shown
/// unless it is kstrand:
/// ```
/// 2025-01-31 12:00:00.123 info  member-1: partitions assigned (2): orders[0,1]
/// 2025-01-31 12:00:00.456 warning librdkafka: rdkafka#producer-2 TOPICERR: ...
/// ```
/// An application routes them into its own logging with SetLogSink.
///
/// One line per event: librdkafka's connection failures arrive once, through
/// kstrand's error handling (librdkafka does not print its own "%3|...|FAIL|"
/// lines too). Repeated warnings and errors are rate-limited: the same
/// component and text (numbers aside, except those ending a name such as
/// member-2) passes at most once per kLogRepeatInterval; the next one that
/// passes after that says how many were suppressed in between. A broker
/// that is down otherwise produces hundreds of identical lines a second (every
/// client reports it on every reconnect attempt).
///
/// kstrand writes its own lines through spdlog's default logger, which it
/// replaces on its first use (creating a client, SetLogSink, SetLogLevel). An
/// application that also uses spdlog should log through a named logger of its
/// own and leave the default one alone: lines written to the default logger
/// reach this sink as component "kstrand".
///
/// Thread safety: every function may be called from any thread. The sink is
/// called from whichever thread logs: the caller's, kstrand's poll thread and
/// workers, and librdkafka's internal threads. Calls are serialized (one at a
/// time, under an internal lock), so a sink needs no lock of its own, but it
/// must return quickly (it holds up the thread that logged, possibly one of
/// librdkafka's network threads), must not call SetLogSink or SetLogLevel, and
/// must not call into kstrand (a Runtime, a Producer). An exception a sink
/// throws is caught and dropped. Once SetLogSink returns, the previous sink is
/// never called again, so whatever it captured may be destroyed then.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

namespace kstrand {

/// How severe a log line is.
enum class LogLevel {
  kDebug,    ///< Detail for debugging; dropped unless the level is lowered to it.
  kInfo,     ///< Normal operation (partitions assigned, a table or store restoring).
  kWarning,  ///< Something went wrong that kstrand goes on past (a failed commit, a broker down).
  kError,    ///< A failure (a message failing its last attempt, a partition stopped, a client error).
};

/// "debug", "info", "warning", "error".
std::string_view LogLevelName(LogLevel level);

/// One log line, as a LogSink receives it.
struct LogRecord {
  LogLevel level = LogLevel::kInfo;  ///< Its severity.
  /// "kstrand" for kstrand's own lines, "librdkafka" for librdkafka's.
  std::string_view component;
  /// One line without a trailing newline. librdkafka's start with the client's
  /// name and librdkafka's facility, e.g. "rdkafka#consumer-1 REQTMOUT: ...".
  std::string_view message;
  std::chrono::system_clock::time_point time;  ///< When it was logged.
};

/// Receives each line that passes the level. The record is valid only during
/// the call: copy what the sink keeps.
using LogSink = std::function<void(const LogRecord& record)>;

/// Routes every line at or above the minimum level to `sink`; nullptr restores
/// the default (stderr).
void SetLogSink(LogSink sink);

/// Lines below `level` are dropped before they are formatted. Default kInfo.
/// librdkafka's own filter comes first: its `log_level` property (kstrand sets
/// 4, warnings, for its consumers; a `kafka` property overrides it). Its debug
/// lines, which only the `debug` property turns on, pass whatever the level:
/// setting `debug` asks for them.
void SetLogLevel(LogLevel level);
/// The level SetLogLevel() set last; kInfo by default.
LogLevel GetLogLevel();

/// How often one repeated warning or error passes (see the top of this file):
/// 10 s, librdkafka's longest reconnect backoff (reconnect.backoff.max.ms), so
/// a broker that stays down shows up about once per reconnect cycle, and a
/// line in a log tail never lags the state by more than 10 s.
inline constexpr std::chrono::seconds kLogRepeatInterval{10};

}  // namespace kstrand
