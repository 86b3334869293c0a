/// @file
/// @brief kstrand's metrics for an application's own /metrics endpoint, when it does
/// not use StatusServer (which serves the same text at its /metrics).
///
/// ```
/// // In the application's HTTP handler for GET /metrics:
/// std::string body = MyAppMetrics() + kstrand::RenderPrometheusMetrics({runtime.get()});
/// Reply(200, kstrand::kPrometheusContentType, body);
/// ```
///
/// The series: a kstrand_ prefix, base units (seconds), counters end in _total;
/// label `member` (RuntimeConfig::name) on every series, `topic` and
/// `partition` on per-partition ones. Per runtime: kstrand_running,
/// kstrand_assigned_partitions, kstrand_rebalances_total, kstrand_commits_total,
/// kstrand_commit_errors_total, kstrand_handler_latency_seconds (histogram),
/// kstrand_throughput_messages_per_second, kstrand_fetched_messages_total, ...
/// Per partition: kstrand_processed_total, kstrand_failed_total,
/// kstrand_retried_total, kstrand_dead_lettered_total, kstrand_skipped_total,
/// kstrand_lag, kstrand_committed_offset, kstrand_end_offset,
/// kstrand_in_flight, kstrand_queued, kstrand_paused, ... Each family comes with
/// its # HELP and # TYPE lines. Per-partition counters count since this member
/// was assigned the partition, so a partition that moves reads as a counter
/// reset, which rate() handles.
///
/// Only the given runtimes: the other members of a group export their own, so
/// a sum over instances never counts a partition twice.
///
/// Thread safety: may be called from any thread, concurrently with the
/// runtimes' work; each call takes a fresh snapshot. The runtimes must stay
/// alive for the duration of the call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kstrand/runtime.h"

namespace kstrand {

/// The Prometheus text exposition format (version 0.0.4) of `runtimes`'
/// series, ready to append to an application's own exposition (kstrand's
/// family names all start with kstrand_, so they do not collide with the
/// application's). Empty for no runtimes.
std::string RenderPrometheusMetrics(const std::vector<const Runtime*>& runtimes);

/// The Content-Type of that format.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace kstrand
