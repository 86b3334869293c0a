// /status: the snapshot as JSON, for the dashboard and for tools.
//
//   {now, host, pid,
//    members: [{name, group, member_id, running, started, topics, processed,
//               failed, retried, dead_lettered, skipped, in_flight, throughput,
//               rebalances, commits, commit_errors, client{...},
//               latency{count, p50_ms, p99_ms, mean_ms},
//               recent_rebalances: [{at, kind, partitions: ["t[0]"], duration_ms}],
//               partitions: [{topic, partition, generation, assigned_since,
//                             committed, frontier, end_offset, lag, processed,
//                             failed, retried, dead_lettered, skipped, queued,
//                             in_flight, paused, stopped, latency{...}}],
//               settings: {name: value}}],
//    group: {name, note, members: [{name, id, host, pid, endpoint, local,
//                                   started, partitions}],
//            partitions: [{topic, partition, owner, owner_id, committed,
//                          end_offset, lag, processed, in_flight, paused}]},
//    departed: [{name, group, started, left, recent_rebalances}],
//    settings: {name: {default, description}}}
//
// Times are ISO 8601 UTC strings (null before they happen); offsets are -1
// where not known yet. Settings come from the settings table only: librdkafka
// properties may hold credentials and never appear.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "http/snapshot.h"

namespace kstrand::http {

std::string RenderStatus(const Snapshot& snapshot);

// The dashboard page with `status_json` (RenderStatus's output) inlined, so
// the first view renders without waiting for a request.
std::string RenderDashboard(std::string_view status_json);

}  // namespace kstrand::http
