/// @file
/// @brief Parsing of user-facing values (counts, durations, librdkafka properties),
/// with errors that say what was expected: the syntax the settings table
/// (RuntimeConfig::Set) and the kstrand CLI accept, for programs whose own
/// flags should read the same ("--work 50ms", "-X key=value").
///
/// Thread safety: plain functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "kstrand/status.h"

namespace kstrand {

/// A whole number in [min, max].
Result<size_t> ParseCount(std::string_view text, size_t min, size_t max);
/// The longest duration ParseDuration accepts: far above any sensible timeout,
/// so deadline arithmetic on steady_clock (nanoseconds) can never overflow.
inline constexpr std::chrono::milliseconds kMaxDuration{30LL * 24 * 3'600'000};

/// "250ms", "2s", "1m", "1h", or a bare number of milliseconds, at most kMaxDuration.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
/// `d` as ParseDuration reads it back: in minutes, seconds or milliseconds,
/// the largest unit that divides it ("1m", "2s", "250ms").
std::string FormatDuration(std::chrono::milliseconds d);
/// librdkafka properties given as "key=value" (the CLI's -X): split at the first
/// '=', so a value may contain '='; a key given twice keeps its last value.
Result<std::map<std::string, std::string>> ParseProperties(std::span<const std::string> pairs);

}  // namespace kstrand
