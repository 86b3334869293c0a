// The runtime's side of tables (kstrand/state.h).
//
// The poll thread calls Assign when a table's partition is assigned (it reads
// the partition from the returned offset instead of the committed one), then
// SetRestoreTarget with the end offset; the partition's lane calls Apply with
// each batch of records, in offset order; the poll thread calls
// PositionReached while a partition restores (a compacted or transactional
// topic may end in offsets that carry no record), and Revoke after the lane
// drained. Readers (Get, Scan, WaitApplied) go through the public Table.
#pragma once

#include <condition_variable>
#include <shared_mutex>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "kstrand/message.h"
#include "kstrand/state.h"
#include "state/store.h"

namespace kstrand {

class Stores::Impl {
 public:
  explicit Impl(std::unique_ptr<state::StoreSet> set) : set(std::move(set)) {}
  const std::unique_ptr<state::StoreSet> set;
};

class Table::Impl {
 public:
  Impl(std::string name, std::shared_ptr<Stores> stores) : name_(std::move(name)), stores_(std::move(stores)) {}

  const std::string& name() const { return name_; }

  // Opens the partition's store; returns the offset to read it from: after
  // the last applied record, or RD_KAFKA_OFFSET_BEGINNING (-2) when empty.
  Result<int64_t> Assign(Partition partition);
  // The end offset seen at assignment (-1: could not be read; the first
  // watermark the consumer reports is used instead).
  void SetRestoreTarget(Partition partition, int64_t end);
  // True while the partition is assigned and has no restore target yet.
  bool NeedsRestoreTarget(Partition partition) const;
  // The consumer's position: at or past the target means caught up.
  void PositionReached(Partition partition, int64_t position);
  // Partitions assigned and not yet caught up.
  std::vector<Partition> Restoring() const;
  void Revoke(Partition partition);
  // A lane's batch: puts or deletes, skipping records at or below what the
  // store already applied (a replay after a revoke that timed out).
  Status Apply(std::span<const Message> messages);

  Availability availability(Partition partition) const;
  Lookup Get(Partition partition, std::string_view key) const;
  Page Scan(Partition partition, std::string_view after, size_t limit) const;
  Availability WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const;
  std::vector<TablePartitionStats> Stats() const;

 private:
  struct Slot {
    std::shared_ptr<state::PartitionStore> store;
    int64_t start = -1;
    int64_t target = -1;
    uint64_t applied_since_assigned = 0;
    bool ready = false;
  };
  // Marks the slot ready once the store's applied offset reached the target. Requires mu_.
  void CheckCaughtUpLocked(Slot& slot);
  Availability AvailabilityLocked(Partition partition, const Slot** slot) const;

  const std::string name_;
  const std::shared_ptr<Stores> stores_;
  // Readers share mu_ and read the store under it, so a revoke (exclusive)
  // never closes a store under a reader. Apply writes the store without it:
  // the lane is the partition's only writer.
  mutable std::shared_mutex mu_;
  mutable std::condition_variable_any applied_cv_;
  std::map<int32_t, Slot> slots_;  // guarded by mu_: the assigned partitions
};

}  // namespace kstrand
