// The stateful step: per-team counters kept in a compacted topic.
//
// Key = "<team>/<input partition>". Each input partition is owned by exactly
// one instance of a team at a time, so each counter record has one writer and
// no two instances ever overwrite each other's counts; the leaderboard sums a
// team's records. A record also says which input offsets it covers
// (`next_offset`): an instance that restores it skips events below that offset,
// so events replayed after a restart or a crash are never counted twice.
//
// The leaderboard and the teams read the counters topic whole with a
// kstrand::GlobalTable.
//
// Thread safety: TeamCounters is a value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <kstrand/status.h>

namespace kstrand::tutorial {

inline constexpr std::string_view kCountersTopic = "team-counters";

struct TeamCounters {
  std::string team;
  int32_t partition = -1;   // the input partition these counts cover
  int64_t next_offset = 0;  // every input offset below this one is counted
  uint64_t seen = 0;        // valid events
  uint64_t matched = 0;     // valid events that passed the team's filter
  uint64_t invalid = 0;     // malformed events, skipped
  std::map<std::string, uint64_t> countries;  // valid events per country

  // Adds other's counts (not its offset): a team's total over its partitions.
  void Add(const TeamCounters& other);
};

std::string CounterKey(std::string_view team, int32_t partition);
std::string EncodeCounters(const TeamCounters& c);
// Strict: names the first missing or mistyped field.
Result<TeamCounters> DecodeCounters(std::string_view json);

}  // namespace kstrand::tutorial
