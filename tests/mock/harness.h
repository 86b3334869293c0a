// Shared pieces of the mock and kafka tiers: an embedded cluster per mock
// test, the broker a group scenario runs against (embedded in the mock tier, a
// real Kafka in the kafka tier), a base RuntimeConfig, test data with per-key
// sequence numbers, reading a group's committed offsets from outside the
// group, and a thread-safe log of what handlers saw.
//
// Thread safety: SeenLog may be used from any thread; the rest from the test thread.
//
// To diagnose a failure: KSTRAND_TEST_LOG=debug shows kstrand's debug lines
// (e.g. commits refused during a rebalance); KSTRAND_TEST_KAFKA_DEBUG=cgrp
// turns on librdkafka's debug contexts for every runtime a test creates.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kafka/handles.h"
#include "kstrand/config.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/message.h"
#include "kstrand/runtime.h"
#include "kstrand/status.h"

namespace kstrand::test {

using namespace std::chrono_literals;

// Each mock test runs against its own embedded cluster, started in SetUp and
// stopped after the test body (so after every Runtime the body created).
class MockTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::unique_ptr<EmbeddedCluster> cluster_;
};

// The two consumer group protocols a scenario runs under.
enum class GroupProtocol {
  kClassic,   // JoinGroup/SyncGroup, cooperative-sticky assigned by the members
  kConsumer,  // KIP-848 (group.protocol=consumer): the broker assigns
};
std::string ProtocolName(GroupProtocol protocol);
inline void PrintTo(GroupProtocol protocol, std::ostream* os) { *os << ProtocolName(protocol); }  // gtest's names

// The broker a group scenario runs against. The mock tier starts an embedded
// cluster per test; the kafka tier connects to one real broker that every test
// shares, which is why scenarios name their topics and groups with UniqueName.
class TestBroker {
 public:
  virtual ~TestBroker() = default;
  virtual const std::string& bootstrap() const = 0;
  virtual Status CreateTopic(const std::string& name, int partitions) = 0;
  // Consumer properties for a member of a group of `protocol` on this broker.
  virtual std::map<std::string, std::string> ClientProperties(GroupProtocol protocol) const = 0;
};

// Defined once per test binary (mock/embedded_broker.cc, kafka/kafka_broker.cc):
// the broker for one scenario, and the group protocols every scenario runs under.
Result<std::unique_ptr<TestBroker>> ConnectTestBroker();
std::vector<GroupProtocol> ScenarioProtocols();

// A scenario written once, compiled into both tiers, run once per protocol of
// ScenarioProtocols(). Instantiate a suite with KSTRAND_SCENARIO_SUITE(Suite).
class ScenarioTest : public ::testing::TestWithParam<GroupProtocol> {
 protected:
  void SetUp() override;
  const std::string& bootstrap() const { return broker_->bootstrap(); }
  // "<base>-<protocol>-<random>": tests sharing a broker never meet.
  std::string UniqueName(const std::string& base) const;
  // Creates a topic named UniqueName(base) and returns its name; "" after
  // reporting a failure through gtest.
  std::string NewTopic(const std::string& base, int partitions);
  // BaseConfig with this broker's client properties for the test's protocol.
  RuntimeConfig Config(const std::string& name, const std::string& group, const std::string& topic,
                       Handler handler) const;

  std::unique_ptr<TestBroker> broker_;
};

#define KSTRAND_SCENARIO_SUITE(suite)                                                      \
  INSTANTIATE_TEST_SUITE_P(, suite, ::testing::ValuesIn(::kstrand::test::ScenarioProtocols()), \
                           [](const auto& info) { return ::kstrand::test::ProtocolName(info.param); })

// Runtime::Create that reports a failure through gtest and returns nullptr.
std::unique_ptr<Runtime> MustCreate(RuntimeConfig config);

// A RuntimeConfig for the embedded cluster: its client properties, a 200 ms
// commit interval, one topic with `handler`, and an on_rebalance that logs
// every assignment change (the first thing to read when a test fails).
RuntimeConfig BaseConfig(const EmbeddedCluster& cluster, const std::string& name, const std::string& group,
                         const std::string& topic, Handler handler);
// The same for any broker, with the given client properties.
RuntimeConfig BaseConfig(const std::string& bootstrap, std::map<std::string, std::string> client_properties,
                         const std::string& name, const std::string& group, const std::string& topic,
                         Handler handler);

// Produces `per_key` records for each of `keys` keys, interleaved across keys
// (seq 0 of every key, then seq 1, ...). Key "k<i>", value "k<i>:<seq>".
// The default partitioner places keys; order per key is the produce order.
Status ProduceKeyed(const std::string& bootstrap, const std::string& topic, int keys, int per_key,
                    std::chrono::microseconds pause_between = {});

// Produces `per_partition` records to each partition explicitly.
// Key "p<partition>", value "p<partition>:<seq>".
Status ProduceToPartitions(const std::string& bootstrap, const std::string& topic, int partitions,
                           int per_partition);

// Splits a "key:seq" value.
std::pair<std::string, int64_t> ParseValue(std::string_view value);

// A plain librdkafka consumer with the group's id that never subscribes, so it
// reads the group's committed offsets without joining the group.
class OffsetReader {
 public:
  static std::unique_ptr<OffsetReader> Create(const std::string& bootstrap, const std::string& group);
  // Committed offset (next to read) per partition; -1 where nothing is committed.
  // Empty map on error (the failure is reported through gtest).
  std::map<int32_t, int64_t> Committed(const std::string& topic, int partitions, int timeout_ms = 5000);
  std::map<int32_t, int64_t> HighWatermarks(const std::string& topic, int partitions, int timeout_ms = 5000);

 private:
  kafka::ClientPtr rk_;
};

// A record as a plain consumer reads it back.
struct ReadRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;  // last value per name
};

// Reads `topic` from the beginning of every partition with a plain consumer
// outside any group (read_committed: records of aborted or open transactions
// are not seen), until `want` records arrived or `timeout` passed.
std::vector<ReadRecord> ReadTopic(const std::string& bootstrap, const std::string& topic, int partitions,
                                  size_t want, std::chrono::milliseconds timeout = 20s);

// Runtime::Stop() with a bound: if Stop() has not returned after `limit`, the
// test binary aborts with a message (a hung Stop() would otherwise only show as
// a CTest timeout with no hint of where it hung). Returns how long Stop() took.
std::chrono::milliseconds StopWithin(Runtime& rt, std::chrono::seconds limit = 60s);

// Polls `done` every 20 ms until it is true or `timeout` passed; returns done().
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// Every (partition, offset) handlers saw, with duplicates counted.
class SeenLog {
 public:
  // Returns how many times this (partition, offset) was seen before.
  int Record(const Message& m);
  size_t unique() const;
  size_t duplicates() const;
  size_t total() const;
  std::map<int32_t, size_t> PerPartition() const;  // unique offsets per partition
  // "partition: first-last (n)" for every partition with offsets seen twice.
  std::string DescribeDuplicates() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<int32_t, int64_t>, int> seen_;
  size_t duplicates_ = 0;
  size_t total_ = 0;
};

std::set<int32_t> Partitions(const std::vector<TopicPartition>& tps);
std::string Describe(const std::vector<TopicPartition>& tps);

// A handler that completes every message.
inline Handler Noop() {
  return [](const Message&) { return Status::Ok(); };
}

}  // namespace kstrand::test
