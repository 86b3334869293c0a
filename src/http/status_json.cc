#include "http/status_json.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

#include "http/dashboard.h"

namespace kstrand::http {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

json Time(system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return nullptr;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the compiler can imagine in each field
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

json Latency(const LatencyStats& l) {
  return {{"count", l.count},
          {"p50_ms", l.Quantile(0.5) * 1e3},
          {"p99_ms", l.Quantile(0.99) * 1e3},
          {"mean_ms", l.count == 0 ? 0.0 : l.sum_seconds / static_cast<double>(l.count) * 1e3}};
}

const char* KindName(RebalanceKind kind) {
  switch (kind) {
    case RebalanceKind::kAssigned: return "assigned";
    case RebalanceKind::kRevoked: return "revoked";
    case RebalanceKind::kLost: return "lost";
  }
  return "unknown";
}

json Partition(const PartitionStats& p) {
  return {{"topic", p.partition.topic},
          {"partition", p.partition.partition.value()},
          {"generation", p.generation.value()},
          {"assigned_since", Time(p.assigned_since)},
          {"committed", p.committed},
          {"frontier", p.frontier},
          {"end_offset", p.end_offset},
          {"lag", p.lag},
          {"processed", p.processed},
          {"failed", p.failed},
          {"retried", p.retried},
          {"dead_lettered", p.dead_lettered},
          {"skipped", p.skipped},
          {"queued", p.queued},
          {"in_flight", p.in_flight},
          {"paused", p.paused},
          {"stopped", p.stopped},
          {"latency", Latency(p.latency)}};
}

json Rebalances(const std::vector<RebalanceRecord>& records) {
  json out = json::array();
  for (const RebalanceRecord& r : records) {
    json parts = json::array();
    for (const auto& tp : r.partitions) parts.push_back(tp.ToString());
    out.push_back({{"at", Time(r.at)},
                   {"kind", KindName(r.kind)},
                   {"partitions", std::move(parts)},
                   {"duration_ms", std::chrono::duration<double, std::milli>(r.duration).count()}});
  }
  return out;
}

json Member(const MemberSnapshot& m) {
  const RuntimeStats& s = m.stats;
  json partitions = json::array();
  for (const PartitionStats& p : s.partitions) partitions.push_back(Partition(p));
  json settings = json::object();
  for (const auto& [name, value] : m.settings) settings[name] = value;
  return {{"name", m.name},
          {"group", m.group},
          {"member_id", s.member_id},
          {"running", m.running},
          {"started", Time(s.started)},
          {"topics", m.topics},
          {"processed", s.processed},
          {"failed", s.failed},
          {"retried", s.retried},
          {"dead_lettered", s.dead_lettered},
          {"skipped", s.skipped},
          {"in_flight", s.in_flight},
          {"throughput", s.throughput},
          {"latency", Latency(s.latency)},
          {"rebalances", s.rebalances},
          {"recent_rebalances", Rebalances(s.recent_rebalances)},
          {"commits", s.commits},
          {"commit_errors", s.commit_errors},
          {"producer_renewals", s.producer_renewals},
          {"client",
           {{"rx_messages", s.client.rx_messages},
            {"rx_bytes", s.client.rx_bytes},
            {"fetch_queue_messages", s.client.fetch_queue_messages},
            {"broker_rtt_p99_ms", s.client.broker_rtt_p99_us / 1e3}}},
          {"partitions", std::move(partitions)},
          {"settings", std::move(settings)}};
}

json Group(const GroupView& g) {
  json members = json::array();
  for (const GroupMember& m : g.members) {
    members.push_back({{"name", m.name},
                       {"id", m.id},
                       {"host", m.host},
                       {"pid", m.pid},
                       {"endpoint", m.endpoint},
                       {"local", m.local},
                       {"started", Time(m.started)},
                       {"partitions", m.partitions}});
  }
  json partitions = json::array();
  for (const GroupPartition& p : g.partitions) {
    json row = static_cast<const group::AnnouncedPartition&>(p);
    row["owner"] = p.owner;
    row["owner_id"] = p.owner_id;
    partitions.push_back(std::move(row));
  }
  return {{"name", g.name}, {"note", g.note}, {"members", std::move(members)}, {"partitions", std::move(partitions)}};
}

}  // namespace

std::string RenderStatus(const Snapshot& snapshot) {
  json members = json::array();
  for (const MemberSnapshot& m : snapshot.members) members.push_back(Member(m));
  json departed = json::array();
  for (const DepartedMember& d : snapshot.departed) {
    departed.push_back({{"name", d.name},
                        {"group", d.group},
                        {"started", Time(d.started)},
                        {"left", Time(d.left)},
                        {"recent_rebalances", Rebalances(d.recent_rebalances)}});
  }
  json settings = json::object();
  for (const Setting& s : Settings()) {
    settings[std::string(s.name)] = {{"default", s.default_value}, {"description", s.description}};
  }
  json out = {{"now", Time(snapshot.now)},
              {"host", snapshot.host},
              {"pid", snapshot.pid},
              {"members", std::move(members)},
              {"group", Group(snapshot.group)},
              {"departed", std::move(departed)},
              {"settings", std::move(settings)}};
  // Names come from users and brokers: replace invalid UTF-8 instead of throwing.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string RenderDashboard(std::string_view status_json) {
  // Inside <script>, "</script>" or "<!--" in a name would end the script
  // early; \u003c is the same character to the JSON parser.
  std::string safe;
  safe.reserve(status_json.size());
  for (char c : status_json) {
    if (c == '<') safe += "\\u003c";
    else safe += c;
  }
  std::string page(kDashboardHtml);
  constexpr std::string_view kPlaceholder = "/*KSTRAND_INITIAL_STATUS*/null";
  if (size_t at = page.find(kPlaceholder); at != std::string::npos) page.replace(at, kPlaceholder.size(), safe);
  return page;
}

}  // namespace kstrand::http
