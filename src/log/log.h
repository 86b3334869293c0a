// The one path every log line takes (kstrand/log.h is its public face):
// kstrand's own lines through spdlog's default logger, librdkafka's through
// the log callback kafka/client.cc sets on every conf. Both end in Emit, which
// applies the level, the repeat limit and the sink.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <string_view>

#include "kstrand/log.h"

namespace kstrand::log {

// Writes one line through the sink (or to stderr), unless its level is below
// the minimum (`requested`: a line someone asked for by name, which passes
// whatever the minimum) or it repeats a warning or error passed within
// kLogRepeatInterval. Never throws.
void Emit(LogLevel level, std::string_view component, std::string_view message, bool requested = false) noexcept;

// Makes spdlog's default logger feed Emit (component "kstrand"), once per
// process; later calls do nothing. Every client creation calls it, so a
// library user needs nothing; a program that logs before its first client
// (the CLI) calls it at start.
void Install();

}  // namespace kstrand::log
