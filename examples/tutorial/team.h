// A team's program, minus its flags: filter new_users events, forward the
// matches, and (the stateful step) keep the team's counters.
//
// A TeamProcessor supplies a Runtime's batch handler and rebalance callback.
// kstrand hands it the events of one input partition at a time, in offset
// order, and never one partition to two instances of the team at once, so the
// counters of a partition need no locking beyond finding them.
//
// Counting (see counters.h for the record and its key): before the first
// batch of a newly assigned partition, the processor restores that
// partition's counter record from the counters topic; after each batch it
// writes the new record and waits for the broker's acknowledgement before the
// batch completes, so the committed input offset never passes what the
// counters cover. Events below the restored record's next_offset were counted
// already (a replay after a crash, or after offsets that were not committed)
// and are skipped, forwards included.
//
// Thread safety: HandleBatch runs on kstrand's workers, one call per
// partition at a time; OnRebalance on its poll thread; the rest anywhere.
// The producer and the table must outlive the processor, and the processor
// the Runtime it configured.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <kstrand/config.h>
#include <kstrand/global_table.h>
#include <kstrand/message.h>
#include <kstrand/producer.h>

#include "tutorial/counters.h"
#include "tutorial/events.h"

namespace kstrand::tutorial {

// Which users a team is looking for. Empty fields match everything.
struct Filter {
  std::vector<std::string> countries;  // upper case
  int min_age = 0;

  bool Matches(const NewUser& user) const;
  std::string Describe() const;  // "country in {FR,DE} and age >= 18"
};

class TeamProcessor {
 public:
  struct Options {
    std::string team;                 // the group, and the counters' key prefix
    Filter filter;
    std::string output_topic;         // matches go here; empty: not forwarded
    bool print = false;               // log every match
    bool count = false;               // keep counters in counters_topic
    std::string counters_topic = std::string(kCountersTopic);
    std::chrono::milliseconds work{0};  // simulated work per event, to make lag visible
    std::chrono::milliseconds restore_timeout{30000};
  };

  // `producer` is required when forwarding or counting; `table` (following
  // counters_topic) when counting.
  TeamProcessor(Options options, Producer* producer, const GlobalTable* table);

  // Sets `topic`'s handler (a batch handler, partition order, retries then
  // stop-partition) and the rebalance callback in `config`; keeps any
  // on_rebalance already set and calls it first.
  void Configure(RuntimeConfig& config, const std::string& topic);

  Status HandleBatch(std::span<const Message> batch);
  void OnRebalance(const RebalanceEvent& event);

  // This instance's counts since it started (replays skipped, not counted).
  TeamCounters Totals() const;
  uint64_t replays_skipped() const { return replays_skipped_.load(); }
  // The counters this instance holds for an input partition it owns.
  std::optional<TeamCounters> Counters(int32_t partition) const;

 private:
  struct PartitionState {
    bool restored = false;
    TeamCounters counters;
  };

  std::shared_ptr<PartitionState> StateFor(int32_t partition);
  Status Restore(int32_t partition, PartitionState& state);
  // Sends every record and waits until all are acknowledged; the first error.
  Status ProduceAll(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& records);

  const Options options_;
  Producer* const producer_;
  const GlobalTable* const table_;
  std::atomic<uint64_t> replays_skipped_{0};
  mutable std::mutex mu_;
  // Guarded by mu_. A state is changed only by its partition's lane (under
  // mu_, so Counters() may read it); the shared_ptr keeps it alive for a lane
  // still finishing after a revoke erased it.
  std::map<int32_t, std::shared_ptr<PartitionState>> partitions_;
  TeamCounters totals_;  // guarded by mu_
};

}  // namespace kstrand::tutorial
