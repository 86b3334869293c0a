#include "harness.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "kafka/client.h"
#include "kafka/producer.h"
#include "kstrand/log.h"

namespace kstrand::test {

namespace {

void SetUpLogging() {
  // Create spdlog's registry here, before any runtime thread logs: libspdlog is
  // not built with TSan, so TSan cannot see its thread-safe static init and
  // reports the first log call from a second thread as a race.
  spdlog::default_logger();
  // KSTRAND_TEST_LOG=debug shows kstrand's debug lines (e.g. commits refused during a rebalance).
  if (const char* level = std::getenv("KSTRAND_TEST_LOG"); level && std::string_view(level) == "debug") {
    SetLogLevel(LogLevel::kDebug);
  }
}

}  // namespace

void MockTest::SetUp() {
  SetUpLogging();
  auto cluster = EmbeddedCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(cluster.value());
}

std::string ProtocolName(GroupProtocol protocol) {
  return protocol == GroupProtocol::kClassic ? "classic" : "consumer";
}

void ScenarioTest::SetUp() {
  SetUpLogging();
  auto broker = ConnectTestBroker();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  broker_ = std::move(broker.value());
}

std::string ScenarioTest::UniqueName(const std::string& base) const {
  static std::mt19937_64 random{std::random_device{}()};
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
  return base + "-" + ProtocolName(GetParam()) + "-" + suffix;
}

std::string ScenarioTest::NewTopic(const std::string& base, int partitions) {
  std::string name = UniqueName(base);
  Status st = broker_->CreateTopic(name, partitions);
  if (!st.ok()) {
    ADD_FAILURE() << "create topic " << name << ": " << st.ToString();
    return "";
  }
  return name;
}

RuntimeConfig ScenarioTest::Config(const std::string& name, const std::string& group, const std::string& topic,
                                   Handler handler) const {
  return BaseConfig(broker_->bootstrap(), broker_->ClientProperties(GetParam()), name, group, topic,
                    std::move(handler));
}

std::unique_ptr<Runtime> MustCreate(RuntimeConfig config) {
  auto rt = Runtime::Create(std::move(config));
  if (!rt.ok()) {
    ADD_FAILURE() << "Runtime::Create: " << rt.status().ToString();
    return nullptr;
  }
  return std::move(rt.value());
}

RuntimeConfig BaseConfig(const EmbeddedCluster& cluster, const std::string& name, const std::string& group,
                         const std::string& topic, Handler handler) {
  return BaseConfig(cluster.bootstrap(), EmbeddedCluster::ClientProperties(), name, group, topic, std::move(handler));
}

RuntimeConfig BaseConfig(const std::string& bootstrap, std::map<std::string, std::string> client_properties,
                         const std::string& name, const std::string& group, const std::string& topic,
                         Handler handler) {
  RuntimeConfig c;
  c.name = name;
  c.brokers = bootstrap;
  c.group_id = group;
  c.commit_interval = 200ms;
  c.connect_timeout = 10s;
  c.kafka = std::move(client_properties);
  // KSTRAND_TEST_KAFKA_DEBUG=cgrp,fetch (librdkafka debug contexts) to diagnose a failure.
  if (const char* debug = std::getenv("KSTRAND_TEST_KAFKA_DEBUG"); debug && *debug) {
    c.kafka["debug"] = debug;
    c.kafka["log_level"] = "7";
  }
  c.on_rebalance = [](const RebalanceEvent& ev) {
    const char* kind = ev.kind == RebalanceKind::kAssigned ? "assigned" : ev.kind == RebalanceKind::kRevoked ? "revoked" : "lost";
    spdlog::info("{}: {} {} -> owns {}", ev.member, kind, Describe(ev.partitions), Describe(ev.assignment));
  };
  c.topics.push_back({topic, std::move(handler)});
  return c;
}

namespace {

Result<std::unique_ptr<kafka::Producer>> MakeProducer(const std::string& bootstrap) {
  return kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"log_level", "4"}});
}

}  // namespace

Status ProduceKeyed(const std::string& bootstrap, const std::string& topic, int keys, int per_key,
                    std::chrono::microseconds pause_between) {
  auto producer = MakeProducer(bootstrap);
  if (!producer.ok()) return producer.status();
  for (int seq = 0; seq < per_key; ++seq) {
    for (int k = 0; k < keys; ++k) {
      std::string key = "k" + std::to_string(k);
      KSTRAND_RETURN_IF_ERROR((*producer)->Produce(topic, key, key + ":" + std::to_string(seq)));
      if (pause_between.count() > 0) std::this_thread::sleep_for(pause_between);
    }
  }
  KSTRAND_RETURN_IF_ERROR((*producer)->Flush(30000));
  if ((*producer)->delivered() != static_cast<uint64_t>(keys) * per_key) {
    return Status(Errc::kInternal, "delivered " + std::to_string((*producer)->delivered()) + " of " +
                                       std::to_string(keys * per_key));
  }
  return Status::Ok();
}

Status ProduceToPartitions(const std::string& bootstrap, const std::string& topic, int partitions,
                           int per_partition) {
  auto producer = MakeProducer(bootstrap);
  if (!producer.ok()) return producer.status();
  for (int seq = 0; seq < per_partition; ++seq) {
    for (int p = 0; p < partitions; ++p) {
      std::string key = "p" + std::to_string(p);
      KSTRAND_RETURN_IF_ERROR((*producer)->Produce(topic, key, key + ":" + std::to_string(seq), {}, p));
    }
  }
  KSTRAND_RETURN_IF_ERROR((*producer)->Flush(30000));
  if ((*producer)->delivered() != static_cast<uint64_t>(partitions) * per_partition) {
    return Status(Errc::kInternal, "delivered " + std::to_string((*producer)->delivered()));
  }
  return Status::Ok();
}

std::pair<std::string, int64_t> ParseValue(std::string_view value) {
  auto colon = value.rfind(':');
  if (colon == std::string_view::npos) return {std::string(value), -1};
  int64_t seq = -1;
  std::from_chars(value.data() + colon + 1, value.data() + value.size(), seq);
  return {std::string(value.substr(0, colon)), seq};
}

std::vector<ReadRecord> ReadTopic(const std::string& bootstrap, const std::string& topic, int partitions,
                                  size_t want, std::chrono::milliseconds timeout) {
  std::vector<ReadRecord> out;
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                 {"group.id", "kstrand-test-reader"},
                                                 {"enable.auto.commit", "false"},
                                                 // librdkafka's default, stated: exactly-once tests rely on it.
                                                 {"isolation.level", "read_committed"},
                                                 {"log_level", "4"}});
  if (!rk.ok()) {
    ADD_FAILURE() << "topic reader: " << rk.status().ToString();
    return out;
  }
  kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk->get(), list.get())) {
    ADD_FAILURE() << "topic reader: assign: " << rd_kafka_err2str(err);
    return out;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk->get(), 100));
    if (!m || m->err) continue;
    ReadRecord r;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        r.headers[name] = value ? std::string(static_cast<const char*>(value), size) : std::string();
      }
    }
    out.push_back(std::move(r));
  }
  rd_kafka_consumer_close(rk->get());
  return out;
}

std::unique_ptr<OffsetReader> OffsetReader::Create(const std::string& bootstrap, const std::string& group) {
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                 {"group.id", group},
                                                 {"enable.auto.commit", "false"},
                                                 {"log_level", "4"}});
  if (!rk.ok()) {
    ADD_FAILURE() << "offset reader: " << rk.status().ToString();
    return nullptr;
  }
  auto reader = std::unique_ptr<OffsetReader>(new OffsetReader());
  reader->rk_ = std::move(rk.value());
  return reader;
}

std::map<int32_t, int64_t> OffsetReader::Committed(const std::string& topic, int partitions, int timeout_ms) {
  kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), list.get(), timeout_ms);
  if (err) {
    ADD_FAILURE() << "rd_kafka_committed: " << rd_kafka_err2str(err);
    return {};
  }
  std::map<int32_t, int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err) {
      ADD_FAILURE() << "committed offset of " << topic << "[" << e.partition << "]: " << rd_kafka_err2str(e.err);
      return {};
    }
    out[e.partition] = e.offset < 0 ? -1 : e.offset;
  }
  return out;
}

std::map<int32_t, int64_t> OffsetReader::HighWatermarks(const std::string& topic, int partitions, int timeout_ms) {
  std::map<int32_t, int64_t> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), p, &low, &high, timeout_ms);
    if (err) {
      ADD_FAILURE() << "watermarks of " << topic << "[" << p << "]: " << rd_kafka_err2str(err);
      return {};
    }
    out[p] = high;
  }
  return out;
}

std::chrono::milliseconds StopWithin(Runtime& rt, std::chrono::seconds limit) {
  auto start = std::chrono::steady_clock::now();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread stopper([&] {
    rt.Stop();
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      std::fprintf(stderr, "FATAL: %s: Runtime::Stop() did not return within %llds\n", rt.config().name.c_str(),
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  }
  stopper.join();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

int SeenLog::Record(const Message& m) {
  std::lock_guard lock(mu_);
  ++total_;
  int before = seen_[{m.partition().value(), m.offset().value()}]++;
  if (before > 0) ++duplicates_;
  return before;
}

size_t SeenLog::unique() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

size_t SeenLog::duplicates() const {
  std::lock_guard lock(mu_);
  return duplicates_;
}

size_t SeenLog::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::map<int32_t, size_t> SeenLog::PerPartition() const {
  std::lock_guard lock(mu_);
  std::map<int32_t, size_t> out;
  for (const auto& [po, n] : seen_) out[po.first]++;
  return out;
}

std::string SeenLog::DescribeDuplicates() const {
  std::lock_guard lock(mu_);
  std::map<int32_t, std::vector<int64_t>> dups;
  for (const auto& [po, n] : seen_) {
    if (n > 1) dups[po.first].push_back(po.second);
  }
  std::string out;
  for (const auto& [p, offsets] : dups) {
    out += " p" + std::to_string(p) + ": " + std::to_string(offsets.front()) + "-" + std::to_string(offsets.back()) +
           " (" + std::to_string(offsets.size()) + ")";
  }
  return out;
}

std::set<int32_t> Partitions(const std::vector<TopicPartition>& tps) {
  std::set<int32_t> out;
  for (const auto& tp : tps) out.insert(tp.partition.value());
  return out;
}

std::string Describe(const std::vector<TopicPartition>& tps) {
  std::string out = "[";
  for (const auto& tp : tps) out += (out.size() > 1 ? "," : "") + std::to_string(tp.partition.value());
  return out + "]";
}

}  // namespace kstrand::test
