// Stores: both backends apply, read, page and track offsets alike; RocksDB
// keeps data and offsets across Close and across reopening the whole StoreSet.
#include "state/partition_slots.h"
#include "state/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace kstrand::state {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

// A fresh directory per test, removed with everything in it afterwards.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kstrand-store-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~ScratchDirectory() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Backend {
  std::string name;
  bool persistent;
  std::function<Result<std::unique_ptr<StoreSet>>(const std::filesystem::path&)> open;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

constexpr size_t kBlockCacheBytes = 8 << 20;

const Backend kMemory{"Memory", false, [](const std::filesystem::path&) -> Result<std::unique_ptr<StoreSet>> {
                        return StoreSet::Memory();
                      }};
const Backend kRocksDb{"RocksDb", true, [](const std::filesystem::path& dir) {
                         return StoreSet::RocksDb((dir / "db").string(), kBlockCacheBytes);
                       }};

Record Put(std::string_view key, std::string_view value, int64_t offset) { return {key, value, offset}; }
Record Delete(std::string_view key, int64_t offset) { return {key, std::nullopt, offset}; }

std::optional<std::string> GetOrFail(const PartitionStore& store, std::string_view key) {
  auto value = store.Get(key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? value.value() : std::nullopt;
}

Entries ScanOrFail(const PartitionStore& store, std::string_view after, size_t limit) {
  auto page = store.Scan(after, limit);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page.value() : Entries{};
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { set_ = OpenSet(); }

  std::unique_ptr<StoreSet> OpenSet() {
    auto set = GetParam().open(dir_.path());
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    return set.ok() ? std::move(set).value() : nullptr;
  }

  std::shared_ptr<PartitionStore> OpenStore(std::string_view name, int32_t partition) {
    auto store = set_->Open(name, partition);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? store.value() : nullptr;
  }

  ScratchDirectory dir_;
  std::unique_ptr<StoreSet> set_;
};

TEST_P(StoreTest, PutOverwriteAndDeleteAreVisibleToGet) {
  auto store = OpenStore("counts", 0);
  ASSERT_TRUE(store);
  const std::string binary_key("a\0b", 3);
  std::vector<Record> batch = {Put("alice", "1", 10), Put("bob", "2", 11), Put("alice", "3", 12),
                               Put(binary_key, "nul", 13), Put("carol", "4", 14), Delete("carol", 15)};
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_EQ(GetOrFail(*store, "alice"), "3");
  EXPECT_EQ(GetOrFail(*store, "bob"), "2");
  EXPECT_EQ(GetOrFail(*store, binary_key), "nul");
  EXPECT_EQ(GetOrFail(*store, "a"), std::nullopt);
  EXPECT_EQ(GetOrFail(*store, "carol"), std::nullopt);
  EXPECT_EQ(GetOrFail(*store, "nobody"), std::nullopt);

  std::vector<Record> deletes = {Delete("alice", 16), Delete("never-written", 17)};
  ASSERT_TRUE(store->Apply(deletes).ok());
  EXPECT_EQ(GetOrFail(*store, "alice"), std::nullopt);
  EXPECT_EQ(GetOrFail(*store, "bob"), "2");
}

TEST_P(StoreTest, ScanPagesInKeyOrderStrictlyAfterTheCursor) {
  auto store = OpenStore("names", 3);
  ASSERT_TRUE(store);
  std::vector<Record> batch = {Put("d", "4", 0), Put("b", "2", 1), Put("e", "5", 2),
                               Put("a", "1", 3), Put("c", "3", 4), Delete("e", 5)};
  ASSERT_TRUE(store->Apply(batch).ok());

  Entries all;
  std::string cursor;
  for (Entries page = ScanOrFail(*store, cursor, 2); !page.empty(); page = ScanOrFail(*store, cursor, 2)) {
    EXPECT_LE(page.size(), 2u);
    all.insert(all.end(), page.begin(), page.end());
    cursor = page.back().first;
  }
  EXPECT_EQ(all, (Entries{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}));

  EXPECT_EQ(ScanOrFail(*store, "b", 10), (Entries{{"c", "3"}, {"d", "4"}}));
  EXPECT_EQ(ScanOrFail(*store, "bb", 1), (Entries{{"c", "3"}}));  // cursor need not be a stored key
  EXPECT_EQ(ScanOrFail(*store, "d", 10), Entries{});
  EXPECT_EQ(ScanOrFail(*store, "", 0), Entries{});
}

TEST_P(StoreTest, AppliedIsTheLastOffsetOfTheLastBatch) {
  auto store = OpenStore("counts", 0);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->applied(), -1);
  std::vector<Record> first = {Put("k", "v", 100), Put("k", "w", 101)};
  ASSERT_TRUE(store->Apply(first).ok());
  EXPECT_EQ(store->applied(), 101);
  std::vector<Record> only_delete = {Delete("k", 205)};
  ASSERT_TRUE(store->Apply(only_delete).ok());
  EXPECT_EQ(store->applied(), 205);
  ASSERT_TRUE(store->Apply({}).ok());
  EXPECT_EQ(store->applied(), 205);
}

TEST_P(StoreTest, OpeningAnOpenStoreReturnsTheSameObject) {
  auto first = OpenStore("counts", 1);
  auto second = OpenStore("counts", 1);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first.get(), second.get());
}

TEST_P(StoreTest, StoresAndPartitionsAreIsolated) {
  // "a.1" partition 2 and "a" partition 12 are distinct; a naive name join could conflate such pairs.
  const std::vector<std::pair<std::string, int32_t>> ids = {{"a", 1}, {"a", 2}, {"b", 1}, {"a.1", 2}, {"a", 12}};
  for (size_t i = 0; i < ids.size(); ++i) {
    auto store = OpenStore(ids[i].first, ids[i].second);
    ASSERT_TRUE(store);
    const std::string value = "value-" + std::to_string(i);
    const std::string own_key = "only-" + std::to_string(i);  // outlives the batch's string_views
    std::vector<Record> batch = {Put("shared", value, static_cast<int64_t>(i)),
                                 Put(own_key, value, static_cast<int64_t>(10 * i + 5))};
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto store = OpenStore(ids[i].first, ids[i].second);
    ASSERT_TRUE(store);
    const std::string value = "value-" + std::to_string(i);
    EXPECT_EQ(store->applied(), static_cast<int64_t>(10 * i + 5));
    EXPECT_EQ(ScanOrFail(*store, "", 100),
              (Entries{{"only-" + std::to_string(i), value}, {"shared", value}}));
  }
}

TEST_P(StoreTest, CloseThenOpenKeepsDataAndOffsetOnlyWhenPersistent) {
  auto store = OpenStore("counts", 4);
  ASSERT_TRUE(store);
  std::vector<Record> batch = {Put("alice", "7", 41), Put("bob", "8", 42)};
  ASSERT_TRUE(store->Apply(batch).ok());
  set_->Close("counts", 4);
  // The revoked store stays readable for whoever still holds it.
  EXPECT_EQ(GetOrFail(*store, "alice"), "7");

  auto reopened = OpenStore("counts", 4);
  ASSERT_TRUE(reopened);
  EXPECT_NE(reopened.get(), store.get());
  if (GetParam().persistent) {
    EXPECT_EQ(reopened->applied(), 42);
    EXPECT_EQ(ScanOrFail(*reopened, "", 10), (Entries{{"alice", "7"}, {"bob", "8"}}));
  } else {
    EXPECT_EQ(reopened->applied(), -1);
    EXPECT_EQ(ScanOrFail(*reopened, "", 10), Entries{});
  }
}

TEST_P(StoreTest, ConcurrentScansSeeWholeBatchesOnly) {
  auto store = OpenStore("counts", 0);
  ASSERT_TRUE(store);
  // Every batch writes all keys with one value, so a scan showing two values saw half a batch.
  const std::vector<std::string> keys = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"};
  std::atomic<bool> done{false};
  std::atomic<int> scans{0};
  std::atomic<int> torn_scans{0};
  std::thread reader([&] {
    while (!done.load()) {
      Entries page = ScanOrFail(*store, "", keys.size());
      for (const auto& [key, value] : page) {
        if (value != page.front().second) torn_scans.fetch_add(1);
      }
      scans.fetch_add(1);
    }
  });
  // Until the reader has overlapped with many writes, however the threads are scheduled.
  int64_t offset = 0;
  for (; offset < 300 || scans.load() < 200; ++offset) {
    const std::string value = std::to_string(offset);
    std::vector<Record> batch;
    for (const std::string& key : keys) batch.push_back(Put(key, value, offset));
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(torn_scans.load(), 0);
  EXPECT_EQ(store->applied(), offset - 1);
  EXPECT_EQ(GetOrFail(*store, "k7"), std::to_string(offset - 1));
}

TEST_P(StoreTest, ClearDeletesEveryEntryAndTheAppliedOffsetOfThatPartitionOnly) {
  auto store = OpenStore("users", 0);
  auto other = OpenStore("users", 1);
  ASSERT_TRUE(store && other);
  const std::string binary_key("\xff\xff", 2);  // the largest keys are in the range too
  std::vector<Record> batch = {Put("", "empty key", 1), Put("alice", "1", 2), Put(binary_key, "max", 3)};
  ASSERT_TRUE(store->Apply(batch).ok());
  std::vector<Record> kept = {Put("bob", "2", 7)};
  ASSERT_TRUE(other->Apply(kept).ok());
  ASSERT_TRUE(store->Clear().ok());
  EXPECT_EQ(store->applied(), -1);
  EXPECT_EQ(ScanOrFail(*store, "", 10), Entries{});
  EXPECT_EQ(GetOrFail(*store, ""), std::nullopt);
  EXPECT_EQ(GetOrFail(*store, binary_key), std::nullopt);
  EXPECT_EQ(GetOrFail(*other, "bob"), "2");
  EXPECT_EQ(other->applied(), 7);
  // Rebuilt from offset 0 afterwards, as from a new store.
  std::vector<Record> again = {Put("carol", "3", 0)};
  ASSERT_TRUE(store->Apply(again).ok());
  EXPECT_EQ(store->applied(), 0);
  EXPECT_EQ(ScanOrFail(*store, "", 10), (Entries{{"carol", "3"}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(kMemory, kRocksDb),
                         [](const auto& info) { return info.param.name; });

TEST(RocksDbStoreTest, ReopeningTheStoreSetKeepsEveryStoresDataAndOffset) {
  ScratchDirectory dir;
  {
    auto set = kRocksDb.open(dir.path());
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    for (int32_t partition = 0; partition < 3; ++partition) {
      auto store = (*set)->Open("counts", partition);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      const std::string value = std::to_string(partition);
      std::vector<Record> batch = {Put("key", value, 1000 + partition), Delete("gone", 2000 + partition)};
      ASSERT_TRUE((*store)->Apply(batch).ok());
    }
    auto never_written = (*set)->Open("empty", 0);
    ASSERT_TRUE(never_written.ok()) << never_written.status().ToString();
    // Declared after `set`, so destroyed before it: a StoreSet outlives its stores.
  }
  auto set = kRocksDb.open(dir.path());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  for (int32_t partition = 0; partition < 3; ++partition) {
    auto store = (*set)->Open("counts", partition);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->applied(), 2000 + partition);
    EXPECT_EQ(ScanOrFail(**store, "", 10), (Entries{{"key", std::to_string(partition)}}));
  }
  auto never_written = (*set)->Open("empty", 0);
  ASSERT_TRUE(never_written.ok()) << never_written.status().ToString();
  EXPECT_EQ((*never_written)->applied(), -1);
}

TEST(RocksDbStoreTest, AClearedPartitionStaysClearedAfterReopening) {
  ScratchDirectory dir;
  {
    auto set = kRocksDb.open(dir.path());
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auto store = (*set)->Open("users", 0);
    ASSERT_TRUE(store.ok());
    std::vector<Record> batch = {Put("alice", "1", 5), Put("bob", "2", 6)};
    ASSERT_TRUE((*store)->Apply(batch).ok());
    ASSERT_TRUE((*store)->Clear().ok());
  }
  auto set = kRocksDb.open(dir.path());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto store = (*set)->Open("users", 0);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->applied(), -1);
  EXPECT_EQ(ScanOrFail(**store, "", 10), Entries{});
}

// A store continues from `start` (its last applied offset + 1); the partition
// holds offsets low .. high - 1.
TEST(StoreMatchesTopicTest, AStoreBeyondTheEndOrBeforeTheStartDoesNotMatch) {
  EXPECT_TRUE(kstrand::state::StoreMatchesTopic(5, 0, 5));     // caught up exactly
  EXPECT_TRUE(kstrand::state::StoreMatchesTopic(3, 0, 8));     // behind: replay 3..7
  EXPECT_TRUE(kstrand::state::StoreMatchesTopic(4, 4, 8));     // at the start
  EXPECT_FALSE(kstrand::state::StoreMatchesTopic(3, 0, 0));    // applied up to 2, the topic is empty (recreated)
  EXPECT_FALSE(kstrand::state::StoreMatchesTopic(9, 0, 8));    // applied up to 8, the end is 7
  EXPECT_FALSE(kstrand::state::StoreMatchesTopic(3, 5, 8));    // records 3 and 4 are gone (retention)
  EXPECT_TRUE(kstrand::state::StoreMatchesTopic(-2, 0, 8));    // nothing applied
  EXPECT_TRUE(kstrand::state::StoreMatchesTopic(3, -1, -1));   // offsets unknown
}

TEST(RocksDbStoreTest, OpenFailsNamingADirectoryThatCannotBeCreated) {
  // Under a regular file, so creating the directory fails even for root.
  ScratchDirectory dir;
  const std::filesystem::path file = dir.path() / "a-file";
  std::ofstream(file) << "not a directory";
  const std::string directory = (file / "db").string();
  auto set = StoreSet::RocksDb(directory, kBlockCacheBytes);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().detail().find(directory), std::string::npos) << set.status().ToString();
  EXPECT_NE(set.status().detail().find("IO error"), std::string::npos) << set.status().ToString();
}

}  // namespace
}  // namespace kstrand::state
