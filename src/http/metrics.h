// /metrics: Prometheus families built from the runtimes' snapshots at scrape
// time; kstrand/metrics.h's RenderPrometheusMetrics, which StatusServer and
// applications with their own /metrics call. Nothing is counted twice: the runtime keeps the only tally, and each
// scrape turns a fresh snapshot into families (what a prometheus::Collectable
// does, without a registry in between).
//
// Names: kstrand_ prefix, base units (seconds), counters end in _total.
// Labels: member (RuntimeConfig::name), and topic and partition on per-partition
// series. Only this process's runtimes: the other members of a group export
// their own, so summing over instances never counts a partition twice.
// Pure functions; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "http/snapshot.h"

namespace kstrand::http {

std::vector<prometheus::MetricFamily> CollectMetrics(const std::vector<MemberSnapshot>& members);

// The text exposition format (version 0.0.4).
std::string RenderMetrics(const std::vector<MemberSnapshot>& members);

}  // namespace kstrand::http
