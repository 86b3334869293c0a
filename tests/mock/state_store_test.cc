// Handler-owned stores (kstrand::Store): a counting handler's counts survive
// a hand-over to another member through the changelog, and a RocksDB member
// restarted restores only the changelog records written after it stopped.
#include <filesystem>
#include <random>

#include "harness.h"
#include "kstrand/state.h"

namespace kstrand::test {
namespace {

constexpr int kPartitions = 4;
constexpr int kKeys = 20;

class StoreTest : public MockTest {
 protected:
  void SetUp() override {
    MockTest::SetUp();
    ASSERT_TRUE(cluster_->CreateTopic("events", kPartitions).ok());
    // The embedded broker cannot create topics through the Admin API.
    ASSERT_TRUE(cluster_->CreateTopic("counters-counts-changelog", kPartitions).ok());
  }

  // A member whose handler counts messages per key in `counts`.
  std::unique_ptr<Runtime> Member(const std::string& name, const std::shared_ptr<Store>& counts) {
    auto config = BaseConfig(*cluster_, name, "counters", "events", [counts](const Message& m) -> Status {
      auto current = counts->Get(m.partition(), *m.key());
      if (!current.ok()) return current.status();
      const int n = current->has_value() ? std::stoi(**current) : 0;
      return counts->Put(m.partition(), *m.key(), std::to_string(n + 1));
    });
    config.topics[0].stores = {counts};
    auto rt = MustCreate(std::move(config));
    if (rt) {
      EXPECT_TRUE(rt->Start().ok());
    }
    return rt;
  }

  static std::shared_ptr<Store> Counts(StateConfig state = {}) {
    auto stores = Stores::Open(std::move(state));
    EXPECT_TRUE(stores.ok()) << stores.status().ToString();
    auto counts = Store::Open("counts", stores.value());
    EXPECT_TRUE(counts.ok());
    return counts.value();
  }

  // Each key's count, looked up in whichever partition holds it.
  static std::map<std::string, int> Read(const Store& counts) {
    std::map<std::string, int> out;
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "k" + std::to_string(k);
      for (int p = 0; p < kPartitions; ++p) {
        auto v = counts.Get(Partition(p), key);
        if (v.ok() && v->has_value()) out[key] = std::stoi(**v);
      }
    }
    return out;
  }

  static uint64_t Applied(const Store& counts) {
    uint64_t n = 0;
    for (const auto& p : counts.Stats()) n += p.applied_since_assigned;
    return n;
  }

  static bool AllReady(const Store& counts) {
    auto stats = counts.Stats();
    return stats.size() == kPartitions && std::all_of(stats.begin(), stats.end(), [](const auto& p) {
             return p.availability == Availability::kReady;
           });
  }
};

TEST_F(StoreTest, CountsSurviveAHandOverThroughTheChangelog) {
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "events", kKeys, 10).ok());
  auto counts_a = Counts();
  auto a = Member("a", counts_a);
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitUntil([&] { return a->Stats().processed == kKeys * 10; }, 60s));
  for (const auto& [key, n] : Read(*counts_a)) EXPECT_EQ(n, 10) << key;
  EXPECT_EQ(Read(*counts_a).size(), size_t{kKeys});
  EXPECT_EQ(counts_a->changelog_topic(), "counters-counts-changelog");
  StopWithin(*a);
  EXPECT_EQ(counts_a->availability(Partition(0)), Availability::kNotAssigned);

  // A new member with empty memory stores: it restores the 200 changelog
  // records before its handler sees the next 10 messages per key.
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "events", kKeys, 10).ok());
  auto counts_b = Counts();
  auto b = Member("b", counts_b);
  ASSERT_TRUE(b);
  ASSERT_TRUE(WaitUntil([&] { return b->Stats().processed == kKeys * 10; }, 60s));
  auto totals = Read(*counts_b);
  EXPECT_EQ(totals.size(), size_t{kKeys});
  for (const auto& [key, n] : totals) EXPECT_EQ(n, 20) << key;
  EXPECT_EQ(Applied(*counts_b), uint64_t{2 * kKeys * 10});  // 200 restored + 200 written
  StopWithin(*b);
}

TEST_F(StoreTest, RocksDbRestartRestoresOnlyTheChangelogTail) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("kstrand-store-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  const StateConfig rocks{StoreBackend::kRocksDb, dir.string()};
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "events", kKeys, 10).ok());
  {
    auto counts = Counts(rocks);
    auto a = Member("a", counts);
    ASSERT_TRUE(a);
    ASSERT_TRUE(WaitUntil([&] { return a->Stats().processed == kKeys * 10; }, 60s));
    StopWithin(*a);
  }
  // Meanwhile another member (memory) counts 5 more per key: 100 changelog records.
  ASSERT_TRUE(ProduceKeyed(cluster_->bootstrap(), "events", kKeys, 5).ok());
  {
    auto counts = Counts();
    auto b = Member("b", counts);
    ASSERT_TRUE(b);
    ASSERT_TRUE(WaitUntil([&] { return b->Stats().processed == kKeys * 5; }, 60s));
    StopWithin(*b);
  }
  // The RocksDB member again: it restores only b's 100 records.
  auto counts = Counts(rocks);
  auto a = Member("a", counts);
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitUntil([&] { return AllReady(*counts); }, 60s));
  EXPECT_EQ(Applied(*counts), uint64_t{kKeys * 5});
  auto totals = Read(*counts);
  EXPECT_EQ(totals.size(), size_t{kKeys});
  for (const auto& [key, n] : totals) EXPECT_EQ(n, 15) << key;
  StopWithin(*a);
  a.reset();
  counts.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, AMissingChangelogTopicFailsStartNamingIt) {
  auto stores = Stores::Open({});
  ASSERT_TRUE(stores.ok());
  auto other = Store::Open("other", stores.value());
  ASSERT_TRUE(other.ok());
  auto config = BaseConfig(*cluster_, "a", "counters", "events", [](const Message&) { return Status::Ok(); });
  config.topics[0].stores = {other.value()};
  config.connect_timeout = 2s;  // the embedded broker's CreateTopics waits for a controller until then
  auto rt = MustCreate(std::move(config));
  ASSERT_TRUE(rt);
  Status st = rt->Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.detail().find("counters-other-changelog"), std::string::npos) << st.detail();
  EXPECT_NE(st.detail().find("4 partitions"), std::string::npos) << st.detail();
}

}  // namespace
}  // namespace kstrand::test
