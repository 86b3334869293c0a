#include "log/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/mutex.h"

namespace kstrand {
namespace log {
namespace {

using Clock = std::chrono::steady_clock;

// Above this many distinct repeated lines tracked, the ones whose interval has
// passed are forgotten (a repeat of them passes again, as it would anyway).
constexpr size_t kMaxTracked = 1024;

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarning: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

LogLevel FromSpdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LogLevel::kDebug;
    case spdlog::level::info: return LogLevel::kInfo;
    case spdlog::level::warn: return LogLevel::kWarning;
    default: return LogLevel::kError;
  }
}

// What counts as "the same line" for the repeat limit: the text with each
// number as '#', and without librdkafka's own repeat count. librdkafka's
// repeated failures differ only in those ("Connect to ... failed: Connection
// refused (after 0ms in state CONNECT)", then "(after 1ms in state CONNECT,
// 4 identical error(s) suppressed)", "0/1 brokers are down", "1/1 ...").
// Digits that end a name (member-2, rdkafka#consumer-12) are kept: two
// members' lines are two lines.
std::string RepeatKey(LogLevel level, std::string_view component, std::string_view message) {
  constexpr std::string_view kLibrdkafkaCount = ", # identical error(s) suppressed";
  std::string key;
  key.reserve(component.size() + message.size() + 3);
  key += static_cast<char>('0' + static_cast<int>(level));
  key += component;
  key += '|';
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  const auto ends_name = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '#';
  };
  for (size_t i = 0; i < message.size();) {
    if (!is_digit(message[i])) {
      key += message[i++];
      continue;
    }
    size_t end = i;
    while (end < message.size() && is_digit(message[end])) ++end;
    if (i > 0 && ends_name(message[i - 1])) {
      key += message.substr(i, end - i);
    } else {
      key += '#';
    }
    i = end;
  }
  if (size_t at = key.find(kLibrdkafkaCount); at != std::string::npos) key.erase(at, kLibrdkafkaCount.size());
  return key;
}

void WriteStderr(const LogRecord& record) {
  const auto since_epoch = record.time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  std::string line = fmt::format("{:%Y-%m-%d %H:%M:%S}.{:03d} {:<5} ", local, millis, LogLevelName(record.level));
  if (record.component != "kstrand") fmt::format_to(std::back_inserter(line), "{}: ", record.component);
  line += record.message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines of different threads do not interleave
}

class Dispatcher {
 public:
  // Never destroyed: librdkafka's threads may log during static destruction.
  static Dispatcher& Get() {
    static auto* dispatcher = new Dispatcher();
    return *dispatcher;
  }

  std::atomic<LogLevel> min_level{LogLevel::kInfo};
  // Set once by Install(), kept with the dispatcher (never destroyed):
  // another thread may still log through the replaced default logger
  // (spdlog hands out a raw pointer), and ours must outlive an application
  // that replaces the default logger later.
  std::shared_ptr<spdlog::logger> replaced_default, kstrand_logger;

  void SetSink(LogSink sink) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    sink_ = std::move(sink);
  }

  void Emit(LogLevel level, std::string_view component, std::string_view message, bool requested) EXCLUDES(mu_) {
    if (!requested && level < min_level.load(std::memory_order_relaxed)) return;
    MutexLock lock(mu_);
    std::string counted;  // the message with the count of repeats suppressed before it
    if (level >= LogLevel::kWarning) {
      const auto now = Clock::now();
      auto [it, fresh] = repeats_.try_emplace(RepeatKey(level, component, message), Repeat{now, 0});
      if (!fresh) {
        Repeat& r = it->second;
        if (now - r.passed < kLogRepeatInterval) {
          ++r.suppressed;
          return;
        }
        if (r.suppressed > 0) {
          const auto window = std::chrono::duration_cast<std::chrono::seconds>(now - r.passed).count();
          counted = fmt::format("{} ({} similar line{} suppressed in the last {} s)", message, r.suppressed,
                                r.suppressed == 1 ? "" : "s", window);
          message = counted;
        }
        r = Repeat{now, 0};
      } else if (repeats_.size() > kMaxTracked) {
        std::erase_if(repeats_, [&](const auto& entry) { return now - entry.second.passed >= kLogRepeatInterval; });
      }
    }
    const LogRecord record{level, component, message, std::chrono::system_clock::now()};
    if (!sink_) {
      WriteStderr(record);
      return;
    }
    try {
      sink_(record);
    } catch (...) {
      // The sink's own failure has nowhere to go: dropping it keeps the
      // thread that logged (maybe librdkafka's) alive.
    }
  }

 private:
  struct Repeat {
    Clock::time_point passed;  // when a line with this key last passed
    uint64_t suppressed = 0;   // dropped since then
  };

  Mutex mu_;
  LogSink sink_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Repeat> repeats_ GUARDED_BY(mu_);  // key: RepeatKey
};

// spdlog's default logger's only sink: kstrand's own lines (spdlog::info(...)
// throughout src/) into Emit. Emit serializes, so no lock of spdlog's.
class ForwardSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Emit(FromSpdlog(msg.level), "kstrand", std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}
};

std::atomic<spdlog::logger*> installed{nullptr};

// At load, so kstrand's lines take this path from the first one on (a
// StatusServer may log before any client exists). Function-local statics
// only (spdlog's registry, the dispatcher): safe during static initialization.
[[maybe_unused]] const bool installed_at_load = (Install(), true);

}  // namespace

void Emit(LogLevel level, std::string_view component, std::string_view message, bool requested) noexcept {
  try {
    Dispatcher::Get().Emit(level, component, message, requested);
  } catch (...) {
    // Out of memory while formatting: the line is lost, the caller goes on.
  }
}

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>("kstrand", std::make_shared<ForwardSink>());
    logger->set_level(ToSpdlog(Dispatcher::Get().min_level.load()));
    Dispatcher& d = Dispatcher::Get();
    d.replaced_default = spdlog::default_logger();
    d.kstrand_logger = logger;
    installed = logger.get();
    spdlog::set_default_logger(std::move(logger));
  });
}

}  // namespace log

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

void SetLogSink(LogSink sink) {
  log::Install();
  log::Dispatcher::Get().SetSink(std::move(sink));
}

void SetLogLevel(LogLevel level) {
  log::Install();
  log::Dispatcher::Get().min_level = level;
  // So spdlog does not format what Emit would drop.
  if (spdlog::logger* logger = log::installed.load()) logger->set_level(log::ToSpdlog(level));
}

LogLevel GetLogLevel() { return log::Dispatcher::Get().min_level.load(); }

}  // namespace kstrand
