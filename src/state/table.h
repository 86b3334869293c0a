// The runtime's side of tables and stores (kstrand/state.h).
//
// Table::Impl: the poll thread Assigns a table's partition when it is
// assigned (and reads the partition from the returned offset instead of the
// committed one), sets the restore target to the end offset, and Revokes it;
// the partition's lane applies each batch of records (Apply).
//
// Store::Impl: the Runtime binds the store to its changelog topic and
// producer at Start; on assignment the restorer (runtime/restorer.h) replays
// the changelog into it before the lane's handler runs; the handler writes
// through Put/Delete.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "kafka/producer.h"
#include "kstrand/message.h"
#include "kstrand/state.h"
#include "state/partition_slots.h"
#include "state/store.h"

namespace kstrand {

class Stores::Impl {
 public:
  explicit Impl(std::unique_ptr<state::StoreSet> set) : set(std::move(set)) {}
  const std::unique_ptr<state::StoreSet> set;
};

class Table::Impl : public state::PartitionSlots {
 public:
  using PartitionSlots::PartitionSlots;
  // A lane's batch, in offset order: keyless records are skipped (nothing to look up).
  Status Apply(std::span<const Message> messages);
};

class Store::Impl : public state::PartitionSlots {
 public:
  using PartitionSlots::PartitionSlots;
  // Called by Runtime::Start, before any partition is assigned.
  void Bind(std::string changelog_topic, kafka::Producer* producer);
  const std::string& changelog_topic() const { return changelog_topic_; }
  // Produces the change to the changelog, waits for the acknowledgement, applies it.
  Status Write(Partition partition, std::string_view key, std::optional<std::string_view> value);

 private:
  std::string changelog_topic_;          // set by Bind, before any other thread uses the store
  kafka::Producer* producer_ = nullptr;  // the Runtime's; outlives every write (lanes drain first)
};

}  // namespace kstrand
