#include "kstrand/parse.h"

#include <charconv>
#include <cstdint>

namespace kstrand {

Result<size_t> ParseCount(std::string_view text, size_t min, size_t max) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status(Errc::kInvalidArgument, "expected a whole number, got '" + std::string(text) + "'");
  }
  if (n < min || n > max) {
    return Status(Errc::kInvalidArgument, "expected " + std::to_string(min) + ".." + std::to_string(max) +
                                              ", got " + std::to_string(n));
  }
  return n;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, text.data() + text.size() - end);
  int64_t scale = 0;
  if (unit.empty() || unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  // n * scale must not overflow (signed overflow is undefined behaviour).
  if (ec != std::errc() || text.empty() || scale == 0 || n < 0 || n > INT64_MAX / scale) {
    return Status(Errc::kInvalidArgument,
                  "expected a duration such as 250ms, 2s or 1m, got '" + std::string(text) + "'");
  }
  if (n * scale > kMaxDuration.count()) {
    return Status(Errc::kInvalidArgument, "duration '" + std::string(text) + "' is longer than 30 days");
  }
  return std::chrono::milliseconds(n * scale);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Result<std::map<std::string, std::string>> ParseProperties(std::span<const std::string> pairs) {
  std::map<std::string, std::string> out;
  for (const auto& kv : pairs) {
    auto eq = kv.find('=');
    // Only a value-less argument is echoed: a value may be a password.
    if (eq == std::string::npos) return Status(Errc::kInvalidArgument, "-X " + kv + ": expected key=value");
    if (eq == 0) return Status(Errc::kInvalidArgument, "-X =...: expected key=value, the key is empty");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace kstrand
