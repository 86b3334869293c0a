#include "group/announcement.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "kstrand/parse.h"

namespace kstrand::group {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

// A record is live while its member would have refreshed it within three
// intervals, plus this much for clock skew between machines.
constexpr milliseconds kClockSkew{2000};
// The latest time system_clock can hold, in ms since the epoch (the year 2262).
constexpr int64_t kMaxTimeMs = std::chrono::duration_cast<milliseconds>(system_clock::duration::max()).count();

int64_t ToMillis(system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
system_clock::time_point FromMillis(int64_t ms) { return system_clock::time_point(milliseconds(ms)); }

// The fields of a record that map one to one onto a member, one list for
// encoding and decoding: `field(name, member)` for each.
template <typename A, typename F>
void ForEachPlainField(A& a, F&& field) {
  field("instance", a.instance);
  field("group", a.group);
  field("member", a.member);
  field("host", a.host);
  field("pid", a.pid);
  field("endpoint", a.endpoint);
}
template <typename P, typename F>
void ForEachPlainField(P& p, F&& field) requires std::is_same_v<std::remove_const_t<P>, AnnouncedPartition> {
  field("topic", p.partition.topic);
  field("committed", p.committed);
  field("end_offset", p.end_offset);
  field("lag", p.lag);
  field("processed", p.processed);
  field("in_flight", p.in_flight);
  field("paused", p.paused);
}

}  // namespace

bool IsLive(const Announcement& a, system_clock::time_point now) {
  return now - a.updated < 3 * a.interval + kClockSkew;
}

AnnouncedPartition Announced(const PartitionStats& p) {
  return {p.partition, p.committed, p.end_offset, p.lag, p.processed, p.in_flight, p.paused};
}

void to_json(json& j, const AnnouncedPartition& p) {
  j = json::object();
  ForEachPlainField(p, [&](const char* name, const auto& value) { j[name] = value; });
  j["partition"] = p.partition.partition.value();
}

std::string EncodeAnnouncement(const Announcement& a) {
  json j = {{"v", 1},
            {"interval_ms", a.interval.count()},
            {"started_ms", ToMillis(a.started)},
            {"updated_ms", ToMillis(a.updated)},
            {"partitions", a.partitions}};
  ForEachPlainField(a, [&](const char* name, const auto& value) { j[name] = value; });
  return j.dump();
}

Result<Announcement> DecodeAnnouncement(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status(Errc::kInvalidArgument, "announcement: not a JSON object");
  std::string missing;
  // Reads field `name` of `from` as T, remembering the first one that is absent,
  // mistyped, or an integer T cannot hold (a wrapped partition would claim another one).
  auto get = [&]<typename T>(const json& from, const char* name, T& out) {
    auto it = from.find(name);
    bool ok = false;
    if (it == from.end()) {
    } else if constexpr (std::is_same_v<T, std::string>) {
      ok = it->is_string();
    } else if constexpr (std::is_same_v<T, bool>) {
      ok = it->is_boolean();
    } else {
      ok = it->is_number_unsigned() ? std::in_range<T>(it->template get<uint64_t>())
                                    : it->is_number_integer() && std::in_range<T>(it->template get<int64_t>());
    }
    if (ok) {
      out = it->template get<T>();
    } else if (missing.empty()) {
      missing = name;
    }
  };
  int64_t version = 0, interval_ms = 0, started_ms = 0, updated_ms = 0;
  Announcement a;
  get(j, "v", version);
  ForEachPlainField(a, [&](const char* name, auto& value) { get(j, name, value); });
  get(j, "interval_ms", interval_ms);
  get(j, "started_ms", started_ms);
  get(j, "updated_ms", updated_ms);
  auto parts = j.find("partitions");
  if (parts == j.end() || !parts->is_array()) {
    if (missing.empty()) missing = "partitions";
  } else {
    for (const auto& e : *parts) {
      if (!e.is_object()) {
        if (missing.empty()) missing = "partitions[]";
        break;
      }
      AnnouncedPartition p;
      int32_t partition = -1;
      ForEachPlainField(p, [&](const char* name, auto& value) { get(e, name, value); });
      get(e, "partition", partition);
      p.partition.partition = Partition(partition);
      a.partitions.push_back(std::move(p));
    }
  }
  if (!missing.empty()) {
    return Status(Errc::kInvalidArgument, "announcement: field '" + missing + "' missing, mistyped or out of range");
  }
  if (version != 1) return Status(Errc::kInvalidArgument, "announcement: unknown version " + std::to_string(version));
  // Bounds that keep IsLive's arithmetic (in the clock's nanoseconds) from
  // overflowing: an interval is a duration setting, and times fit the clock.
  if (interval_ms <= 0 || interval_ms > kMaxDuration.count()) {
    return Status(Errc::kInvalidArgument, "announcement: interval_ms must be 1 to " +
                                              std::to_string(kMaxDuration.count()));
  }
  if (started_ms < 0 || started_ms > kMaxTimeMs || updated_ms < 0 || updated_ms > kMaxTimeMs) {
    return Status(Errc::kInvalidArgument, "announcement: started_ms and updated_ms must be 0 to " +
                                              std::to_string(kMaxTimeMs));
  }
  a.interval = milliseconds(interval_ms);
  a.started = FromMillis(started_ms);
  a.updated = FromMillis(updated_ms);
  return a;
}

std::map<int32_t, std::string> PartitionOwners(std::span<const Announcement> members, std::string_view topic) {
  std::map<int32_t, std::vector<const std::string*>> claims;
  for (const auto& member : members) {
    for (const auto& p : member.partitions) {
      if (p.partition.topic == topic) claims[p.partition.partition.value()].push_back(&member.endpoint);
    }
  }
  std::map<int32_t, std::string> owners;
  for (const auto& [partition, endpoints] : claims) {
    if (endpoints.size() == 1 && !endpoints.front()->empty()) owners[partition] = *endpoints.front();
  }
  return owners;
}

}  // namespace kstrand::group
