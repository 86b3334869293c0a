// The stateful step: per-team counters kept in a compacted topic.
//
// Key = "<team>/<input partition>". Each input partition is owned by exactly
// one instance of a team at a time, so each counter record has one writer and
// no two instances ever overwrite each other's counts; the leaderboard sums a
// team's records. A record also says which input offsets it covers
// (`next_offset`): an instance that restores it skips events below that offset,
// so events replayed after a restart or a crash are never counted twice.
//
// Thread safety: TeamCounters is a value. TopicTable's methods may be called
// from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kafka/client.h"
#include "kstrand/status.h"

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

// The latest value of every key of a topic, as a compacted topic means it:
// follows the topic from its beginning in a background thread with a
// group-less consumer; a null value (tombstone) removes its key. A missing
// topic is an empty table until the topic appears.
class TopicTable {
 public:
  // `props`: bootstrap.servers and security settings (kafka::ConnectionProperties).
  static Result<std::unique_ptr<TopicTable>> Start(kafka::Properties props, std::string topic);
  ~TopicTable();
  TopicTable(const TopicTable&) = delete;
  TopicTable& operator=(const TopicTable&) = delete;

  // Waits until every record in the topic when this was called has been read,
  // so a record acknowledged before the call is visible after it.
  bool WaitCaughtUp(std::chrono::milliseconds timeout) const;
  std::optional<std::string> Get(const std::string& key) const;
  std::map<std::string, std::string> Snapshot() const;

 private:
  class Impl;
  explicit TopicTable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand::tutorial
