// The routing table: member announcements (group/announcement.h) read from
// the members topic, which anyone who can produce to it can write, and the
// partition -> owner table built from them (what Router and the users API route by).
//   - decoding any text never crashes; what decodes holds exactly the JSON's
//     values (no silent wrap-around), and encodes and decodes back to itself;
//   - liveness is decided for any decoded record without overflow;
//   - the table routes a partition to a member iff that member is the only
//     claimant and has an endpoint, and never names an endpoint nobody announced.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "group/announcement.h"

namespace {

using kstrand::group::AnnouncedPartition;
using kstrand::group::Announcement;
using nlohmann::json;

bool Same(const Announcement& x, const Announcement& y) {
  if (std::tie(x.instance, x.group, x.member, x.host, x.pid, x.endpoint, x.interval, x.started, x.updated) !=
          std::tie(y.instance, y.group, y.member, y.host, y.pid, y.endpoint, y.interval, y.started, y.updated) ||
      x.partitions.size() != y.partitions.size()) {
    return false;
  }
  for (size_t i = 0; i < x.partitions.size(); ++i) {
    const AnnouncedPartition& a = x.partitions[i];
    const AnnouncedPartition& b = y.partitions[i];
    if (std::tie(a.partition, a.committed, a.end_offset, a.lag, a.processed, a.in_flight, a.paused) !=
        std::tie(b.partition, b.committed, b.end_offset, b.lag, b.processed, b.in_flight, b.paused)) {
      return false;
    }
  }
  return true;
}

// The JSON number `field` of `j` equals `value` exactly.
template <typename T>
bool Holds(const json& j, const char* field, T value) {
  const json& n = j.at(field);
  return n.is_number_unsigned() ? std::cmp_equal(n.get<uint64_t>(), value) : std::cmp_equal(n.get<int64_t>(), value);
}

// Arbitrary text as a record: returns it when it decodes.
std::optional<Announcement> DecodeChecked(const std::string& text) {
  auto decoded = kstrand::group::DecodeAnnouncement(text);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().detail().starts_with("announcement: "));
    return std::nullopt;
  }
  const Announcement& a = *decoded;
  const json j = json::parse(text);
  FUZZ_CHECK(Holds(j, "pid", a.pid) && Holds(j, "interval_ms", a.interval.count()));
  FUZZ_CHECK(a.interval.count() > 0);
  for (size_t i = 0; i < a.partitions.size(); ++i) {
    const json& p = j.at("partitions").at(i);
    const AnnouncedPartition& d = a.partitions[i];
    FUZZ_CHECK(Holds(p, "partition", d.partition.partition.value()) && Holds(p, "committed", d.committed) &&
               Holds(p, "end_offset", d.end_offset) && Holds(p, "lag", d.lag) &&
               Holds(p, "processed", d.processed) && Holds(p, "in_flight", d.in_flight));
  }
  auto again = kstrand::group::DecodeAnnouncement(kstrand::group::EncodeAnnouncement(a));
  FUZZ_CHECK(again.ok() && Same(*again, a));
  (void)kstrand::group::IsLive(a, std::chrono::system_clock::now());
  return a;
}

// A record from a small vocabulary, so that members collide on partitions.
Announcement Structured(FuzzedDataProvider& in) {
  Announcement a;
  a.instance = "m" + std::to_string(in.ConsumeIntegralInRange(0, 7));
  a.group = "g";
  a.member = a.instance;
  a.interval = std::chrono::milliseconds(1000);
  a.updated = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  a.endpoint = in.ConsumeBool() ? "http://" + a.instance + ":80" : "";
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 6);
  for (size_t i = 0; i < n; ++i) {
    AnnouncedPartition p;
    p.partition.topic = in.ConsumeBool() ? "t" : "other";
    p.partition.partition = kstrand::Partition(in.ConsumeIntegralInRange<int32_t>(0, 7));
    a.partitions.push_back(p);
  }
  return a;
}

void CheckOwners(const std::vector<Announcement>& members) {
  const auto owners = kstrand::group::PartitionOwners(members, "t");
  // The reference: per partition of "t", every claim's endpoint.
  std::map<int32_t, std::vector<std::string>> claims;
  std::set<std::string> endpoints;
  for (const auto& m : members) {
    endpoints.insert(m.endpoint);
    for (const auto& p : m.partitions) {
      if (p.partition.topic == "t") claims[p.partition.partition.value()].push_back(m.endpoint);
    }
  }
  for (const auto& [partition, endpoint] : owners) {
    FUZZ_CHECK(claims.contains(partition) && endpoints.contains(endpoint) && !endpoint.empty());
  }
  for (const auto& [partition, claimants] : claims) {
    const bool owned = claimants.size() == 1 && !claimants.front().empty();
    FUZZ_CHECK(owners.contains(partition) == owned);
    if (owned) FUZZ_CHECK(owners.at(partition) == claimants.front());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<Announcement> members;
  if (in.ConsumeBool()) {
    // Records as the directory reads them: arbitrary text, one per record.
    while (in.remaining_bytes() > 0) {
      if (auto a = DecodeChecked(in.ConsumeRandomLengthString(4096))) members.push_back(std::move(*a));
    }
  } else {
    const size_t n = in.ConsumeIntegralInRange<size_t>(0, 8);
    for (size_t i = 0; i < n; ++i) {
      // Through the codec, as the records travel.
      Announcement a = Structured(in);
      auto decoded = kstrand::group::DecodeAnnouncement(kstrand::group::EncodeAnnouncement(a));
      FUZZ_CHECK(decoded.ok() && Same(*decoded, a));
      members.push_back(std::move(*decoded));
    }
  }
  CheckOwners(members);
  return 0;
}
