// Stores: the key-value data behind tables, one PartitionStore per
// (store name, partition).
//
// Every write is a batch of records from one source partition, applied in
// offset order; the offset of the batch's last record is written in the same
// atomic write as the data, so after a crash the data and `applied()` agree
// and a restart replays only what came after it.
//
// Two backends:
//   memory   a sorted map per partition; nothing survives Close() or a restart.
//   RocksDB  one database per StoreSet (per runtime), one column family per
//            (store, partition) named "<store>.<partition>", one block cache
//            shared by all of them. Close() keeps the data on disk.
//
// Thread safety: every method may be called from any thread. A PartitionStore
// has one writer at a time (its partition's lane) and any number of readers.
//
// Lifetime: a StoreSet must outlive every PartitionStore it returned (RocksDB
// stores borrow its database and column family handles).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kstrand/status.h"

namespace kstrand::state {

// One source record as a store applies it: a null value deletes the key.
struct Record {
  std::string_view key;
  std::optional<std::string_view> value;
  int64_t offset = -1;
};

class PartitionStore {
 public:
  virtual ~PartitionStore() = default;

  // Puts or deletes every record and records the last one's offset as applied,
  // in one atomic write. Records come in ascending offset order.
  virtual Status Apply(std::span<const Record> records) = 0;
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  // Up to `limit` entries with keys strictly greater than `after`, ascending.
  virtual Result<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view after,
                                                                        size_t limit) const = 0;
  // The offset of the last record applied, -1 if none.
  virtual int64_t applied() const = 0;
  // Deletes every entry and the applied offset, in one atomic write: the
  // partition is then rebuilt from its topic's beginning.
  virtual Status Clear() = 0;
};

class StoreSet {
 public:
  static std::unique_ptr<StoreSet> Memory();
  // Opens (creating if missing) the database in `directory`, with every
  // column family it already has. Fails naming the directory and RocksDB's reason.
  static Result<std::unique_ptr<StoreSet>> RocksDb(const std::string& directory, size_t block_cache_bytes);
  virtual ~StoreSet() = default;

  // The store `name` for `partition`, created if missing. Opening one that is
  // already open returns the same object.
  virtual Result<std::shared_ptr<PartitionStore>> Open(std::string_view name, int32_t partition) = 0;
  // The partition was revoked: memory drops its data; RocksDB keeps it on disk
  // for the next Open. Holders of the PartitionStore may still read it.
  virtual void Close(std::string_view name, int32_t partition) = 0;
};

}  // namespace kstrand::state
