#include "http/metrics.h"

#include <prometheus/text_serializer.h>

#include "kstrand/metrics.h"

#include <chrono>
#include <limits>
#include <map>
#include <string_view>

namespace kstrand::http {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Collects samples into families in order of first use; a family's samples
// must be contiguous in the output, whichever member or partition adds them.
class FamilyBuilder {
 public:
  void Counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
    ClientMetric& m = Add(name, help, MetricType::Counter, labels);
    m.counter.value = value;
  }
  void Gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
    ClientMetric& m = Add(name, help, MetricType::Gauge, labels);
    m.gauge.value = value;
  }
  // LatencyStats counts per bucket; Prometheus wants each bucket to count
  // everything at or below its bound, and a +Inf bucket equal to the count.
  void Histogram(std::string_view name, std::string_view help, const Labels& labels, const LatencyStats& latency) {
    ClientMetric& m = Add(name, help, MetricType::Histogram, labels);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < LatencyStats::kBounds.size(); ++i) {
      cumulative += latency.counts[i];
      m.histogram.bucket.push_back({cumulative, LatencyStats::kBounds[i]});
    }
    cumulative += latency.counts.back();
    m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = latency.sum_seconds;
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  ClientMetric& Add(std::string_view name, std::string_view help, MetricType type, const Labels& labels) {
    auto [it, fresh] = index_.try_emplace(std::string(name), families_.size());
    if (fresh) families_.push_back({std::string(name), std::string(help), type, {}});
    ClientMetric& m = families_[it->second].metric.emplace_back();
    m.label = labels;
    return m;
  }

  std::vector<MetricFamily> families_;
  std::map<std::string, size_t, std::less<>> index_;  // family name -> position in families_
};

double Seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void AddPartition(FamilyBuilder& out, const std::string& member, const PartitionStats& p) {
  const Labels labels = {{"member", member},
                         {"topic", p.partition.topic},
                         {"partition", std::to_string(p.partition.partition.value())}};
  // Per partition, since this member was assigned it: a partition that moves
  // starts again at 0 on its new owner, which rate() reads as a counter reset.
  out.Counter("kstrand_processed_total", "Messages whose handler succeeded", labels, p.processed);
  out.Counter("kstrand_failed_total", "Messages that failed their last attempt", labels, p.failed);
  out.Counter("kstrand_retried_total", "Attempts after a failure", labels, p.retried);
  out.Counter("kstrand_dead_lettered_total", "Messages produced to the dead-letter topic", labels, p.dead_lettered);
  out.Counter("kstrand_skipped_total", "Failed messages skipped by policy", labels, p.skipped);
  // Offsets not known yet (-1) are left out rather than exported as -1, which
  // a lag alert or a sum would take for a real value.
  if (p.lag >= 0) out.Gauge("kstrand_lag", "End offset minus the committed offset (messages)", labels, p.lag);
  if (p.end_offset >= 0) out.Gauge("kstrand_end_offset", "The partition's high watermark", labels, p.end_offset);
  if (p.committed >= 0) out.Gauge("kstrand_committed_offset", "Last committed offset (next to read)", labels, p.committed);
  out.Gauge("kstrand_in_flight", "Messages taken by a handler, not completed", labels, p.in_flight);
  out.Gauge("kstrand_queued", "Messages received, waiting for their lane", labels, p.queued);
  out.Gauge("kstrand_paused", "1 while the partition is paused (backpressure or a failure)", labels, p.paused);
  out.Gauge("kstrand_stopped", "1 when a failed message stopped the partition", labels, p.stopped);
  out.Gauge("kstrand_assigned_timestamp_seconds", "When this member was assigned the partition (Unix time)", labels,
            Seconds(p.assigned_since));
}

void AddMember(FamilyBuilder& out, const MemberSnapshot& m) {
  const RuntimeStats& s = m.stats;
  const Labels labels = {{"member", m.name}};
  out.Gauge("kstrand_running", "1 while the runtime runs", labels, m.running);
  out.Gauge("kstrand_assigned_partitions", "Partitions assigned to this member", labels, s.partitions.size());
  if (s.started.time_since_epoch().count() != 0) {
    out.Gauge("kstrand_start_timestamp_seconds", "When the runtime started (Unix time)", labels, Seconds(s.started));
  }
  out.Gauge("kstrand_throughput_messages_per_second", "Messages processed per second over the last ~5 s", labels,
            s.throughput);
  // Runtime-wide, since start: unlike per-partition latency it never resets
  // when a partition moves, as a histogram's buckets must not.
  out.Histogram("kstrand_handler_latency_seconds", "Handler run time per message (per batch for batch handlers)",
                labels, s.latency);
  out.Counter("kstrand_rebalances_total", "Assignment changes this member handled", labels, s.rebalances);
  if (!s.recent_rebalances.empty()) {
    out.Gauge("kstrand_last_rebalance_duration_seconds",
              "Time the last assignment change took (reading offsets, or draining and committing)", labels,
              std::chrono::duration<double>(s.recent_rebalances.back().duration).count());
  }
  out.Counter("kstrand_commits_total", "Offset commits", labels, s.commits);
  out.Counter("kstrand_commit_errors_total", "Offset commits that failed", labels, s.commit_errors);
  out.Counter("kstrand_producer_renewals_total",
              "Exactly-once: transactional producers replaced after a fatal error that was not fencing", labels,
              s.producer_renewals);
  out.Counter("kstrand_fetched_messages_total", "Messages fetched from brokers (librdkafka statistics)", labels,
              s.client.rx_messages);
  out.Counter("kstrand_fetched_bytes_total", "Bytes fetched from brokers (librdkafka statistics)", labels,
              s.client.rx_bytes);
  out.Gauge("kstrand_fetch_queue_messages", "Fetched messages waiting in librdkafka's queues", labels,
            s.client.fetch_queue_messages);
  out.Gauge("kstrand_broker_rtt_p99_seconds", "The slowest broker's p99 round trip", labels,
            s.client.broker_rtt_p99_us / 1e6);
}

}  // namespace

std::vector<MetricFamily> CollectMetrics(const std::vector<MemberSnapshot>& members) {
  FamilyBuilder out;
  for (const MemberSnapshot& m : members) AddMember(out, m);
  for (const MemberSnapshot& m : members) {
    for (const PartitionStats& p : m.stats.partitions) AddPartition(out, m.name, p);
  }
  return out.Take();
}

std::string RenderMetrics(const std::vector<MemberSnapshot>& members) {
  return prometheus::TextSerializer().Serialize(CollectMetrics(members));
}

}  // namespace kstrand::http

namespace kstrand {

std::string RenderPrometheusMetrics(const std::vector<const Runtime*>& runtimes) {
  std::vector<http::MemberSnapshot> members;
  members.reserve(runtimes.size());
  for (const Runtime* runtime : runtimes) {
    if (runtime) members.push_back(http::Capture(*runtime));
  }
  return http::RenderMetrics(members);
}

}  // namespace kstrand
