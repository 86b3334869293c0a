// Member announcements, the record: what each Runtime publishes about itself
// to the members topic (members.h follows that topic), and the routing table
// derived from the live records. Anyone who can write the topic can write a
// record, so decoding is strict and never trusts a field's range.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kstrand/runtime.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand::group {

// A partition as its owner reports it: the one shape of a partition's
// progress in the group views (http::GroupPartition adds its owner).
struct AnnouncedPartition {
  TopicPartition partition;
  int64_t committed = -1;
  int64_t end_offset = -1;
  int64_t lag = -1;
  uint64_t processed = 0;  // since this member was assigned the partition
  size_t in_flight = 0;
  bool paused = false;
};

struct Announcement {
  std::string instance;  // unique per Runtime object ("<name>-<8 hex>"); the record's key
  std::string group;
  std::string member;    // RuntimeConfig::name (client.id)
  std::string host;
  int64_t pid = 0;
  std::string endpoint;  // RuntimeConfig::endpoint: where this member serves HTTP, may be empty
  std::chrono::milliseconds interval{1000};
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point updated;
  std::vector<AnnouncedPartition> partitions;  // the assignment, sorted
};

// The owner's live figures of a partition, as it announces them.
AnnouncedPartition Announced(const PartitionStats& p);
// {"topic", "partition", "committed", "end_offset", "lag", "processed",
// "in_flight", "paused"}: the record's form, and the status API's.
void to_json(nlohmann::json& j, const AnnouncedPartition& p);

std::string EncodeAnnouncement(const Announcement& a);
// Strict: names the first missing or mistyped field.
Result<Announcement> DecodeAnnouncement(std::string_view json);

// Still refreshed often enough to count: updated within three of its intervals
// (plus clock skew between machines) of `now`. Otherwise its member crashed.
bool IsLive(const Announcement& a, std::chrono::system_clock::time_point now);

// The routing table of `topic`: partition -> endpoint, for each partition
// exactly one of `members` claims, when that member announced an endpoint.
// A partition claimed twice (it is moving, or a crashed member's record
// lingers) has no owner: a caller answers 503 rather than route wrongly.
std::map<int32_t, std::string> PartitionOwners(std::span<const Announcement> members, std::string_view topic);

}  // namespace kstrand::group
