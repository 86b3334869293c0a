/// @file
/// @brief State: key-value data per partition, on the member that owns the partition.
///
/// Two kinds:
/// - **Table**: a topic materialised as it is (the topic is its own changelog).
/// - **Store**: written by a topic's handler, logged to a compacted changelog topic
///   "<group>-<store>-changelog" with the input topic's partition count,
///   and restored from it before the partition's first message reaches
///   the handler.
///
/// ```
/// auto stores = kstrand::Stores::Open({.backend = kstrand::StoreBackend::kRocksDb, .directory = "data/a"});
/// auto users = kstrand::Table::Open("users", *stores);
/// config.topics.push_back({.topic = "users", .table = *users});   // no handler: the table applies
/// ```
///
/// A table reads its topic (which should be compacted: the topic is the
/// table's changelog). Each record puts its value under its key; a null value
/// (tombstone) deletes the key. The offset of the last applied record is stored
/// in the same atomic write as the data, so when a partition is assigned the
/// runtime starts reading it after that offset, not at the group's committed
/// offset: a RocksDB table replays only the tail, a memory table (empty at
/// start) the whole partition. That replay runs on the partition's lane, off
/// the poll thread; the partition answers once it has caught up with the end
/// offset read at assignment.
///
/// Thread safety: every method may be called from any thread. Stores must
/// outlive the Tables opened on it, and a Table the Runtime that applies it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand {

/// Where tables and stores keep their data.
enum class StoreBackend {
  kMemory,   ///< In memory: empty at start, so each assignment replays the whole partition.
  kRocksDb,  ///< On disk in RocksDB: a reassigned partition replays only the records after its stored offset.
};

/// How a member's Stores are opened.
struct StateConfig {
  StoreBackend backend = StoreBackend::kMemory;  ///< Default: memory.
  /// RocksDB: this member's database (one per running member; created if missing).
  std::string directory;
  /// RocksDB: one block cache shared by every table and partition.
  size_t block_cache_bytes = 64 << 20;
};

/// One member's stores: a memory backend, or one RocksDB database with a column
/// family per (table, partition) and one shared block cache.
class Stores {
 public:
  /// Opens the backend. Fails naming the directory when RocksDB cannot open it
  /// (missing permissions, or another process holding its lock).
  static Result<std::shared_ptr<Stores>> Open(StateConfig config);
  /// Closes the backend; every Table and Store opened on it must be gone.
  ~Stores();
  /// The config it was opened with.
  const StateConfig& config() const;

  class Impl;  // kstrand's own code
  /// kstrand's own code; not for applications.
  Impl& impl() const { return *impl_; }

 private:
  explicit Stores(StateConfig config, std::unique_ptr<Impl> impl);
  const StateConfig config_;
  std::unique_ptr<Impl> impl_;
};

/// Whether this member answers for a partition of a table now.
enum class Availability {
  kReady,        ///< Assigned here and caught up.
  kRestoring,    ///< Assigned here, still catching up with the end offset seen at assignment.
  kNotAssigned,  ///< Not this member's partition (another member's, or moving).
};

/// "ready", "restoring" or "not assigned".
std::string_view ToString(Availability a);

/// A key's value, with whether the partition could answer.
struct StateLookup {
  Availability availability;         ///< kReady when `value` is the answer.
  std::optional<std::string> value;  ///< The key's value, if ready and present.
};

/// A page of a partition's entries.
struct StatePage {
  Availability availability;  ///< kReady when `entries` is the answer.
  std::vector<std::pair<std::string, std::string>> entries;  ///< Ascending by key.
};

/// One partition of a table or store on this member. Offsets are of the
/// table's topic, or of the store's changelog.
struct StatePartitionStats {
  Partition partition;  ///< The partition.
  Availability availability = Availability::kNotAssigned;  ///< Whether it answers now.
  int64_t start = -1;           ///< First offset read after this assignment (0: from the beginning).
  int64_t restore_target = -1;  ///< The end offset at assignment; -1 until read.
  int64_t applied = -1;         ///< Offset of the last record applied, -1 if none.
  uint64_t applied_since_assigned = 0;  ///< Records applied since this assignment: the replay, then live ones.
};

/// A topic materialised per partition, read-only for applications (the topic's
/// records write it). Set it as TopicHandler::table to have a Runtime apply it.
class Table {
 public:
  /// Opens the table `name` in `stores` (the same name finds the same data again).
  static Result<std::shared_ptr<Table>> Open(std::string name, std::shared_ptr<Stores> stores);
  /// Closes the table; the Runtime applying it must be gone.
  ~Table();
  /// The table's name.
  const std::string& name() const;

  /// Whether the partition is served here now (no store access).
  Availability availability(Partition partition) const;

  /// A key's value, with the partition's availability.
  using Lookup = StateLookup;
  /// The value of `key` in `partition` (PartitionFor() in kstrand/routing.h says which).
  Lookup Get(Partition partition, std::string_view key) const;

  /// A page of entries, with the partition's availability.
  using Page = StatePage;
  /// Up to `limit` entries with keys strictly after `after`.
  Page Scan(Partition partition, std::string_view after, size_t limit) const;

  /// Blocks until the partition has applied `offset` (read-your-writes: wait
  /// for a record this process just produced). Returns kReady when it has, the
  /// partition's availability otherwise (timeout, or the partition moved away).
  Availability WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const;

  /// The partitions assigned to this member, ascending.
  std::vector<StatePartitionStats> Stats() const;

  class Impl;  // kstrand's own code: what the Runtime drives
  /// kstrand's own code; not for applications.
  Impl& impl() const { return *impl_; }

 private:
  explicit Table(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A store its topic's handler writes (TopicHandler::stores). The handler of a
/// partition's lane is its only writer; anyone may read.
///
/// Put and Delete produce the change to the changelog's matching partition,
/// wait until Kafka acknowledged it, then apply it locally together with its
/// changelog offset, in one atomic write: a handler that returned has its
/// changes in Kafka before its input offset can be committed, and a restart
/// replays only the changelog records after the stored offset.
class Store {
 public:
  /// Opens the store `name` in `stores` (the same name finds the same data again).
  static Result<std::shared_ptr<Store>> Open(std::string name, std::shared_ptr<Stores> stores);
  /// Closes the store; the Runtime using it must be gone.
  ~Store();
  /// The store's name.
  const std::string& name() const;
  /// "<group>-<name>-changelog"; empty until a Runtime uses the store.
  std::string changelog_topic() const;

  /// Whether the partition is served here now.
  Availability availability(Partition partition) const;
  /// The value of `key` in `partition`, nullopt if absent. kNotFound naming the
  /// partition when it is not assigned here or still restoring.
  Result<std::optional<std::string>> Get(Partition partition, std::string_view key) const;
  /// Sets `key` to `value` in `partition`: logged to the changelog (acknowledged
  /// by Kafka), then applied locally. Call it from the partition's handler.
  Status Put(Partition partition, std::string_view key, std::string_view value);
  /// Deletes `key` from `partition` (a tombstone in the changelog), as Put() does.
  Status Delete(Partition partition, std::string_view key);

  /// The partitions assigned to this member, ascending.
  std::vector<StatePartitionStats> Stats() const;

  class Impl;  // kstrand's own code: what the Runtime drives
  /// kstrand's own code; not for applications.
  Impl& impl() const { return *impl_; }

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand
