// PartitionSlots: the assigned partitions of one table or store, each with its
// PartitionStore and restore progress; what Table::Impl and Store::Impl share.
//
// The poll thread (or the restorer) calls Assign when a partition is
// assigned, SetRestoreTarget with the end offset to catch up with, and Revoke
// once the partition's lane drained; Apply writes records in offset order
// (the partition's only writer); readers go through Get, Scan, WaitApplied.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kstrand/state.h"
#include "state/store.h"

namespace kstrand::state {

// False when a store that continues from `start` (after its last applied
// offset) cannot belong to a partition holding offsets `low` to `high` - 1:
// it lies beyond the end or before the start. Negative values: nothing
// applied or offsets unknown, nothing to check.
bool StoreMatchesTopic(int64_t start, int64_t low, int64_t high);

class PartitionSlots {
 public:
  PartitionSlots(std::string name, std::shared_ptr<Stores> stores) : name_(std::move(name)), stores_(std::move(stores)) {}

  const std::string& name() const { return name_; }

  // Opens the partition's store; returns the offset to read from: after the
  // last applied record, or RD_KAFKA_OFFSET_BEGINNING (-2) when it has none.
  Result<int64_t> Assign(Partition partition);
  // Checks an assigned partition's store against its topic partition, which
  // now holds offsets `low` to `high` - 1; `start` is what Assign returned. A
  // store applied past the end (written against another broker, or a topic
  // since recreated) or before the start (the records after it are gone) would
  // answer wrongly: it is cleared, with a warning naming the partition
  // (`where`) and the offsets, and read again from the topic's beginning.
  // Returns the offset to read from.
  Result<int64_t> TrustOrRebuild(Partition partition, int64_t start, int64_t low, int64_t high,
                                 std::string_view where);
  // The end offset to catch up with (ignored once set, or when negative).
  void SetRestoreTarget(Partition partition, int64_t end);
  // True while the partition is assigned and has no restore target yet.
  bool NeedsRestoreTarget(Partition partition) const;
  // The reader's position: at or past the target means caught up (the last
  // offsets may carry no record: compaction, transaction markers).
  void PositionReached(Partition partition, int64_t position);
  // Partitions assigned and not yet caught up.
  std::vector<Partition> Restoring() const;
  void Revoke(Partition partition);
  // Puts or deletes, skipping records at or below what the store already
  // applied (a replay after a revoke that timed out). A partition no longer
  // assigned is ignored: its next owner reads the records again.
  Status Apply(Partition partition, std::span<const Record> records);

  Availability availability(Partition partition) const;
  StateLookup Get(Partition partition, std::string_view key) const;
  StatePage Scan(Partition partition, std::string_view after, size_t limit) const;
  Availability WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const;
  std::vector<StatePartitionStats> Stats() const;

 private:
  struct Slot {
    std::shared_ptr<PartitionStore> store;
    int64_t start = -1;
    int64_t target = -1;
    uint64_t applied_since_assigned = 0;
    bool ready = false;
  };
  // Marks the slot ready once the store's applied offset reached the target. Requires mu_.
  static void CheckCaughtUpLocked(Slot& slot);
  Availability AvailabilityLocked(Partition partition, const Slot** slot) const;

  const std::string name_;
  const std::shared_ptr<Stores> stores_;
  // Readers share mu_ and read the store under it, so a revoke (exclusive)
  // never closes a store under a reader. Apply writes the store without it:
  // there is one writer per partition.
  mutable std::shared_mutex mu_;
  mutable std::condition_variable_any applied_cv_;
  std::map<int32_t, Slot> slots_;  // guarded by mu_: the assigned partitions
};

}  // namespace kstrand::state
