// librdkafka's statistics (statistics.interval.ms, a JSON document per
// interval) reduced to what RuntimeStats::client reports.
//
// Thread safety: a pure function.
#pragma once

#include <optional>
#include <string_view>

#include "kstrand/runtime.h"

namespace kstrand::runtime {

// Fields missing or of the wrong type count as 0; nullopt if `json` is not JSON.
// fetch_queue_messages sums every real partition's fetchq_cnt (librdkafka's
// internal partition -1 aside); broker_rtt_p99_us is the slowest broker's.
std::optional<ClientStats> ParseClientStatistics(std::string_view json);

}  // namespace kstrand::runtime
