// StoreSet::Memory(): a sorted map per (store, partition). For tests and for
// tables small enough to rebuild from their source on every assignment.
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "state/store.h"

namespace kstrand::state {
namespace {

class MemoryPartitionStore final : public PartitionStore {
 public:
  Status Apply(std::span<const Record> records) override {
    if (records.empty()) return Status::Ok();
    std::unique_lock lock(mutex_);
    for (const Record& record : records) {
      if (record.value) {
        entries_.insert_or_assign(std::string(record.key), std::string(*record.value));
      } else if (auto it = entries_.find(record.key); it != entries_.end()) {
        entries_.erase(it);
      }
    }
    // Under the lock, so no reader sees the data without its offset.
    applied_.store(records.back().offset, std::memory_order_release);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Result<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view after,
                                                                size_t limit) const override {
    std::vector<std::pair<std::string, std::string>> page;
    std::shared_lock lock(mutex_);
    for (auto it = entries_.upper_bound(after); it != entries_.end() && page.size() < limit; ++it) {
      page.emplace_back(it->first, it->second);
    }
    return page;
  }

  int64_t applied() const override { return applied_.load(std::memory_order_acquire); }

  Status Clear() override {
    std::unique_lock lock(mutex_);
    entries_.clear();
    applied_.store(-1, std::memory_order_release);
    return Status::Ok();
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> entries_;  // guarded by mutex_
  std::atomic<int64_t> applied_{-1};
};

class MemoryStoreSet final : public StoreSet {
 public:
  Result<std::shared_ptr<PartitionStore>> Open(std::string_view name, int32_t partition) override {
    std::lock_guard lock(mutex_);
    auto& store = stores_[{std::string(name), partition}];
    if (!store) store = std::make_shared<MemoryPartitionStore>();
    return std::shared_ptr<PartitionStore>(store);
  }

  // Holders keep the dropped map alive until they let go; the next Open starts empty.
  void Close(std::string_view name, int32_t partition) override {
    std::lock_guard lock(mutex_);
    stores_.erase({std::string(name), partition});
  }

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<MemoryPartitionStore>> stores_;  // guarded by mutex_
};

}  // namespace

std::unique_ptr<StoreSet> StoreSet::Memory() { return std::make_unique<MemoryStoreSet>(); }

}  // namespace kstrand::state
