// StoreSet::RocksDb(): one database per StoreSet, one column family per
// (store, partition), one LRU block cache shared by all of them.
//
// The applied offset of each partition store lives in the "__offsets" column
// family under the store's column family name, written in the same WriteBatch
// as the data it covers; a WriteBatch is atomic across column families, so
// after any crash the data and the offset agree. Store column families are
// named "<store>.<partition>" and so always contain a dot; "__offsets" and
// "default" do not, so no store can collide with them.
//
// Ownership: the StoreSet owns the DB and every column family handle, and must
// outlive every PartitionStore it returned (they borrow both). The StoreSet
// keeps a closed partition's handle because RocksDB has no public way to get
// a handle for an existing column family again without reopening the DB.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>

#include "state/store.h"

namespace kstrand::state {
namespace {

constexpr std::string_view kOffsetsColumnFamily = "__offsets";

// `context` names the directory and, where there is one, the store.
Status RocksStatus(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return Status::Ok();
  Errc code = Errc::kInternal;
  if (status.IsInvalidArgument()) code = Errc::kInvalidArgument;
  if (status.IsNotFound()) code = Errc::kNotFound;
  if (status.IsTimedOut()) code = Errc::kTimedOut;
  return Status(code, context + ": " + status.ToString());
}

std::string ColumnFamilyName(std::string_view store, int32_t partition) {
  return std::string(store) + "." + std::to_string(partition);
}

// Decimal, so `ldb scan --column_family=__offsets` shows readable offsets.
std::string EncodeOffset(int64_t offset) { return std::to_string(offset); }

std::optional<int64_t> DecodeOffset(std::string_view text) {
  int64_t offset = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return offset;
}

class RocksDbPartitionStore final : public PartitionStore {
 public:
  // Borrows `db`, both handles and the write mutex from the StoreSet, which outlives this store.
  RocksDbPartitionStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* data, rocksdb::ColumnFamilyHandle* offsets,
                        std::mutex* write_mutex, std::string context, int64_t applied)
      : db_(db), data_(data), offsets_(offsets), write_mutex_(write_mutex), context_(std::move(context)),
        applied_(applied) {}

  Status Apply(std::span<const Record> records) override {
    if (records.empty()) return Status::Ok();
    rocksdb::WriteBatch batch;
    for (const Record& record : records) {
      rocksdb::Status added = record.value ? batch.Put(data_, record.key, *record.value)
                                           : batch.Delete(data_, record.key);
      if (!added.ok()) return RocksStatus(added, context_ + ": apply");
    }
    const int64_t last_offset = records.back().offset;
    rocksdb::Status added = batch.Put(offsets_, data_->GetName(), EncodeOffset(last_offset));
    if (!added.ok()) return RocksStatus(added, context_ + ": apply");
    // WAL on, sync off: each write reaches the OS before Write returns, so a
    // process crash loses nothing; a machine crash may lose the last batches,
    // but whole batches only, offset included, so replaying the source from
    // applied() + 1 restores them. An fsync per batch would cap throughput at
    // the disk's flush rate for no gain in correctness.
    rocksdb::WriteOptions options;
    options.sync = false;
    {
      // One writer at a time per database. RocksDB would merge concurrent
      // batches into a write group whose leader copies the followers' batches,
      // synchronised by atomics inside librocksdb, which ThreadSanitizer cannot
      // see (Debian's build is not instrumented), so every TSan run reported
      // it. The WAL append is serial anyway; with sync off nothing waits on a disk.
      std::lock_guard lock(*write_mutex_);
      KSTRAND_RETURN_IF_ERROR(RocksStatus(db_->Write(options, &batch), context_ + ": apply"));
    }
    applied_.store(last_offset, std::memory_order_release);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), data_, key, &value);
    if (status.IsNotFound()) return std::optional<std::string>();
    KSTRAND_RETURN_IF_ERROR(RocksStatus(status, context_ + ": get"));
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view after,
                                                                size_t limit) const override {
    std::vector<std::pair<std::string, std::string>> page;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
    it->Seek(after);
    if (it->Valid() && it->key() == rocksdb::Slice(after)) it->Next();
    for (; it->Valid() && page.size() < limit; it->Next()) {
      page.emplace_back(it->key().ToString(), it->value().ToString());
    }
    KSTRAND_RETURN_IF_ERROR(RocksStatus(it->status(), context_ + ": scan"));
    return page;
  }

  int64_t applied() const override { return applied_.load(std::memory_order_acquire); }

  // One batch: a range delete from the smallest key through the largest, and
  // the applied offset, so a crash leaves either the old partition or none.
  Status Clear() override {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data_));
    it->SeekToLast();
    if (it->Valid()) {
      std::string end = it->key().ToString();
      end.push_back('\0');  // the smallest key after the largest one: the range's exclusive end
      rocksdb::Status added = batch.DeleteRange(data_, rocksdb::Slice(), end);
      if (!added.ok()) return RocksStatus(added, context_ + ": clear");
    }
    KSTRAND_RETURN_IF_ERROR(RocksStatus(it->status(), context_ + ": clear"));
    rocksdb::Status added = batch.Delete(offsets_, data_->GetName());
    if (!added.ok()) return RocksStatus(added, context_ + ": clear");
    {
      std::lock_guard lock(*write_mutex_);  // see Apply
      KSTRAND_RETURN_IF_ERROR(RocksStatus(db_->Write(rocksdb::WriteOptions(), &batch), context_ + ": clear"));
    }
    applied_.store(-1, std::memory_order_release);
    return Status::Ok();
  }

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const data_;
  rocksdb::ColumnFamilyHandle* const offsets_;
  std::mutex* const write_mutex_;
  const std::string context_;  // "RocksDB <directory>, store <store>.<partition>"
  std::atomic<int64_t> applied_;
};

class RocksDbStoreSet final : public StoreSet {
 public:
  using HandlePtr = std::unique_ptr<rocksdb::ColumnFamilyHandle>;

  static Result<std::unique_ptr<StoreSet>> Open(const std::string& directory, size_t block_cache_bytes) {
    const std::string context = "RocksDB " + directory;
    rocksdb::BlockBasedTableOptions table_options;
    table_options.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
    rocksdb::ColumnFamilyOptions column_family_options;
    column_family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;

    // A database must be opened with all its column families. Listing fails
    // when there is no database yet; then only the two we always need exist.
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(db_options, directory, &names).ok()) names.clear();
    for (std::string_view required : {std::string_view(rocksdb::kDefaultColumnFamilyName), kOffsetsColumnFamily}) {
      if (std::find(names.begin(), names.end(), required) == names.end()) names.emplace_back(required);
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, column_family_options);

    std::vector<rocksdb::ColumnFamilyHandle*> raw_handles;
    rocksdb::DB* raw_db = nullptr;
    KSTRAND_RETURN_IF_ERROR(
        RocksStatus(rocksdb::DB::Open(db_options, directory, descriptors, &raw_handles, &raw_db), context + ": open"));
    // From here on the handles are owned, so no path leaks them or the DB.
    std::unique_ptr<RocksDbStoreSet> set(new RocksDbStoreSet(context, column_family_options, raw_db));
    for (rocksdb::ColumnFamilyHandle* handle : raw_handles) set->handles_.emplace(handle->GetName(), handle);
    set->offsets_ = set->handles_.find(kOffsetsColumnFamily)->second.get();
    return std::unique_ptr<StoreSet>(std::move(set));
  }

  Result<std::shared_ptr<PartitionStore>> Open(std::string_view name, int32_t partition) override {
    const std::string column_family = ColumnFamilyName(name, partition);
    const std::string context = context_ + ", store " + column_family;
    std::lock_guard lock(mutex_);
    if (auto it = open_.find(column_family); it != open_.end()) return std::shared_ptr<PartitionStore>(it->second);

    auto handle = handles_.find(column_family);
    if (handle == handles_.end()) {
      rocksdb::ColumnFamilyHandle* created = nullptr;
      KSTRAND_RETURN_IF_ERROR(RocksStatus(db_->CreateColumnFamily(column_family_options_, column_family, &created),
                                          context + ": create column family"));
      handle = handles_.emplace(column_family, HandlePtr(created)).first;
    }

    int64_t applied = -1;
    std::string stored;
    rocksdb::Status read = db_->Get(rocksdb::ReadOptions(), offsets_, column_family, &stored);
    if (read.ok()) {
      std::optional<int64_t> decoded = DecodeOffset(stored);
      if (!decoded) return Status(Errc::kInternal, context + ": applied offset '" + stored + "' is not a number");
      applied = *decoded;
    } else if (!read.IsNotFound()) {
      return RocksStatus(read, context + ": read applied offset");
    }

    auto store = std::make_shared<RocksDbPartitionStore>(db_.get(), handle->second.get(), offsets_, &write_mutex_,
                                                         context, applied);
    open_.emplace(column_family, store);
    return std::shared_ptr<PartitionStore>(std::move(store));
  }

  void Close(std::string_view name, int32_t partition) override {
    std::lock_guard lock(mutex_);
    open_.erase(ColumnFamilyName(name, partition));
  }

 private:
  RocksDbStoreSet(std::string context, rocksdb::ColumnFamilyOptions column_family_options, rocksdb::DB* db)
      : context_(std::move(context)), column_family_options_(std::move(column_family_options)), db_(db) {}

  const std::string context_;  // "RocksDB <directory>"
  // Carries the shared block cache into every column family created later.
  const rocksdb::ColumnFamilyOptions column_family_options_;
  // Declared before the handles so it is destroyed after them, as RocksDB requires.
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* offsets_ = nullptr;  // owned by handles_
  std::mutex mutex_;
  std::mutex write_mutex_;  // see RocksDbPartitionStore::Apply
  // Every column family of the database by name, open partition or not.
  std::map<std::string, HandlePtr, std::less<>> handles_;  // guarded by mutex_
  std::map<std::string, std::shared_ptr<RocksDbPartitionStore>, std::less<>> open_;  // guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<StoreSet>> StoreSet::RocksDb(const std::string& directory, size_t block_cache_bytes) {
  return RocksDbStoreSet::Open(directory, block_cache_bytes);
}

}  // namespace kstrand::state
