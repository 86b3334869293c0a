// kstrand-bench-consume: consume throughput of kstrand::Runtime against a raw
// librdkafka consume loop, on the same data, in one process, in one run.
//
// One in-process EmbeddedCluster holds a topic filled once with --messages
// records of --size bytes, spread evenly (round robin) over --partitions.
// Each round then reads the whole topic twice, each time in a fresh consumer
// group from the earliest offset:
//   raw      one librdkafka consumer polled as the Runtime's poll thread polls
//            (rd_kafka_consume_batch_queue, up to 1024 per call, taking what is
//            queued without waiting for a full batch), a no-op per message, one
//            synchronous commit of the final offsets at the end;
//   kstrand  a Runtime with --workers worker threads, ordered by partition,
//            a no-op handler returning Status::Ok().
// Both use the same librdkafka properties (EmbeddedCluster::ClientProperties()
// plus what the Runtime sets itself: manual commit and offset store,
// cooperative-sticky, auto.offset.reset=earliest), so the difference is what
// kstrand adds on top of librdkafka.
//
// The clock runs from the first message handed to the application (raw: out
// of consume_batch_queue; kstrand: the first handler call) to the last one,
// so the group join is excluded. The order of the two alternates per round;
// the report is the median rate of each over --rounds rounds.
//
// The machine may be shared: during each measured window the bench compares
// the CPU time used by the whole system (/proc/stat) with its own; a round in
// which other processes used more than --max-other-cpu of a core is run again
// (up to --retries times) and reported as disturbed if it still was.
#include <librdkafka/rdkafka.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cpu_mark.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/handles.h"
#include "kafka/producer.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
using kstrand::Result;
using kstrand::Status;

// The mock partition log drops its oldest batches above 5 MiB or 100,000 batches.
constexpr int64_t kMockPartitionBytes = 5LL * 1024 * 1024;
// A v2 record of a null key and a small value costs about this much beyond the
// value (length, attributes, timestamp/offset deltas, key/value lengths, header count).
constexpr int64_t kRecordOverhead = 12;

struct Options {
  int64_t messages = 1'000'000;
  size_t size = 100;
  int partitions = 24;
  int rounds = 3;
  size_t workers = kstrand::RuntimeConfig{}.workers;
  int timeout_s = 120;
  size_t lane_max_messages = 0;  // 0: the RuntimeConfig default
  bool trace = false;            // print kstrand progress every 10 ms
  std::string only;              // "raw" or "kstrand": run just that one (for profiling)
  std::vector<std::string> kafka;  // extra librdkafka properties "k=v" for both consumers
  double max_other_cpu = 0.10;     // other processes' CPU, in cores, above which a round is disturbed
  int retries = 3;                 // re-runs of a disturbed round
};

void AddProperties(const std::vector<std::string>& kvs, std::map<std::string, std::string>& into) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) into[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
}

struct Sample {
  int64_t messages = 0;
  double seconds = 0;    // first message to last
  double cpu = 0;        // CPU time this process used meanwhile
  double other_cpu = 0;  // CPU time other processes used meanwhile
  double rate() const { return seconds > 0 ? messages / seconds : 0; }
  // Other processes' load, in cores (/proc/stat counts in ticks of 10 ms).
  double other_load() const { return seconds > 0 ? std::max(0.0, other_cpu - 0.02) / seconds : 0; }

  static Sample Of(int64_t messages, double seconds, const CpuMark& first, const CpuMark& last) {
    double cpu = last.process - first.process;
    return {messages, seconds, cpu, std::max(0.0, (last.system - first.system) - cpu)};
  }
};

kstrand::kafka::Properties ConsumerProperties(const std::string& bootstrap, const std::string& group) {
  // What Runtime::Impl::ClientProperties() sets, plus the embedded cluster's timing.
  kstrand::kafka::Properties p = {
      {"bootstrap.servers", bootstrap},
      {"group.id", group},
      {"client.id", "bench-raw"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"fetch.queue.backoff.ms", "10"},
      {"log_level", "4"},
  };
  for (const auto& [k, v] : kstrand::EmbeddedCluster::ClientProperties()) p[k] = v;
  // Cooperative-sticky with the classic protocol; KIP-848 rejects the property.
  if (p.count("group.protocol") == 0 || p["group.protocol"] == "classic") {
    p["partition.assignment.strategy"] = "cooperative-sticky";
  }
  return p;
}

Status Fail(const std::string& what) { return Status(kstrand::Errc::kInternal, what); }

// Fills the topic and checks that the mock kept every record.
Status Produce(const kstrand::EmbeddedCluster& cluster, const std::string& topic, const Options& o,
               std::vector<int64_t>& last_offset) {
  auto producer = kstrand::kafka::Producer::Create({{"bootstrap.servers", cluster.bootstrap()},
                                                    {"linger.ms", "20"},
                                                    {"batch.num.messages", "10000"},
                                                    {"queue.buffering.max.messages", "500000"}});
  if (!producer.ok()) return producer.status();
  std::string value(o.size, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i % 26);
  auto t0 = Clock::now();
  for (int64_t i = 0; i < o.messages; ++i) {
    KSTRAND_RETURN_IF_ERROR((*producer)->Produce(topic, std::nullopt, value, {}, static_cast<int32_t>(i % o.partitions)));
  }
  KSTRAND_RETURN_IF_ERROR((*producer)->Flush(120000));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("produced %lld messages of %zu bytes to %d partitions in %.2f s\n",
              static_cast<long long>(o.messages), o.size, o.partitions, secs);

  auto topics = kstrand::kafka::DescribeTopics((*producer)->handle(), 10000, topic, /*with_watermarks=*/true);
  if (!topics.ok()) return topics.status();
  int64_t total = 0;
  last_offset.assign(o.partitions, -1);
  for (const auto& p : topics->front().partitions) {
    if (p.low < 0 || p.high < 0) return Fail("could not read the watermarks of partition " + std::to_string(p.id));
    if (p.low > 0) {
      return Fail(fmt::format(
          "partition {} starts at offset {} (high {}): the embedded broker evicted its oldest records "
          "(each mock partition keeps about 5 MiB / 100,000 batches), so a consumer could not read all "
          "{} messages. Use more --partitions or fewer --messages.",
          p.id, p.low, p.high, o.messages));
    }
    total += p.high - p.low;
    last_offset.at(p.id) = p.high - 1;
  }
  if (total != o.messages) {
    return Fail(fmt::format("the topic holds {} messages, expected {}", total, o.messages));
  }
  return Status::Ok();
}

Result<Sample> RunRaw(const kstrand::EmbeddedCluster& cluster, const std::string& topic, const Options& o,
                      const std::string& group) {
  auto props = ConsumerProperties(cluster.bootstrap(), group);
  AddProperties(o.kafka, props);
  auto rk = kstrand::kafka::NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_t* c = rk->get();
  rd_kafka_poll_set_consumer(c);
  kstrand::kafka::TopicPartitionListPtr sub(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(sub.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(c, sub.get())) return Fail(std::string("subscribe: ") + rd_kafka_err2str(err));
  kstrand::kafka::QueuePtr queue(rd_kafka_queue_get_consumer(c));

  std::vector<rd_kafka_message_t*> batch(1024);
  std::vector<int64_t> next(o.partitions, -1);
  int64_t count = 0;
  Clock::time_point first, last;
  CpuMark cpu_first, cpu_last;
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  while (count < o.messages) {
    if (Clock::now() > deadline) {
      return Fail(fmt::format("raw: only {} of {} messages within {} s", count, o.messages, o.timeout_s));
    }
    // Take what is there without waiting for a full batch (consume_batch_queue
    // waits until the batch is full or the timeout passed); when nothing is
    // there, wait for the next message.
    ssize_t n = rd_kafka_consume_batch_queue(queue.get(), 0, batch.data(), batch.size());
    if (n == 0) n = rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), 1);
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[i];
      if (!m->err) {
        if (count++ == 0) {
          first = Clock::now();
          cpu_first = CpuMark::Now();
        }
        next[m->partition] = m->offset + 1;  // the no-op "processing"
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("raw: consume error: {}", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (count >= o.messages) {
      last = Clock::now();
      cpu_last = CpuMark::Now();
    }
  }

  kstrand::kafka::TopicPartitionListPtr offsets(rd_kafka_topic_partition_list_new(o.partitions));
  for (int p = 0; p < o.partitions; ++p) {
    if (next[p] >= 0) rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), p)->offset = next[p];
  }
  if (rd_kafka_resp_err_t err = rd_kafka_commit(c, offsets.get(), 0)) {
    spdlog::warn("raw: commit: {}", rd_kafka_err2str(err));
  }
  queue.reset();
  rd_kafka_consumer_close(c);
  return Sample::Of(count, std::chrono::duration<double>(last - first).count(), cpu_first, cpu_last);
}

Result<Sample> RunKstrand(const kstrand::EmbeddedCluster& cluster, const std::string& topic, const Options& o,
                          const std::string& group, const std::vector<int64_t>& last_offset) {
  // Written by the handler: the time of the first call, and the time the last
  // offset of the last partition was handled. The CPU marks are written once
  // each (by the thread that set first_ns / finished the last partition) and
  // read after Stop() joined the workers.
  std::atomic<int64_t> first_ns{0}, last_ns{0};
  CpuMark cpu_first, cpu_last;
  std::atomic<int> partitions_done{0};
  const int partitions_with_data =
      static_cast<int>(std::count_if(last_offset.begin(), last_offset.end(), [](int64_t o) { return o >= 0; }));
  auto now_ns = [] { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); };

  kstrand::RuntimeConfig config;
  config.name = "bench-kstrand";
  config.brokers = cluster.bootstrap();
  config.group_id = group;
  config.workers = o.workers;
  if (o.lane_max_messages) config.lane_max_messages = o.lane_max_messages;
  config.kafka = kstrand::EmbeddedCluster::ClientProperties();
  config.kafka["auto.offset.reset"] = "earliest";
  AddProperties(o.kafka, config.kafka);
  config.topics.push_back({topic, [&](const kstrand::Message& m) -> Status {
                             if (first_ns.load(std::memory_order_relaxed) == 0) {
                               int64_t zero = 0;
                               if (first_ns.compare_exchange_strong(zero, now_ns())) cpu_first = CpuMark::Now();
                             }
                             if (m.offset().value() == last_offset[m.partition().value()] &&
                                 partitions_done.fetch_add(1) + 1 == partitions_with_data) {
                               last_ns.store(now_ns());
                               cpu_last = CpuMark::Now();
                             }
                             return Status::Ok();
                           }});
  auto rt = kstrand::Runtime::Create(std::move(config));
  if (!rt.ok()) return rt.status();
  KSTRAND_RETURN_IF_ERROR((*rt)->Start());

  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  uint64_t processed = 0;
  auto next_trace = Clock::now();
  while ((processed = (*rt)->Stats().processed) < static_cast<uint64_t>(o.messages)) {
    if (o.trace && Clock::now() >= next_trace) {
      auto s = (*rt)->Stats();
      size_t paused = 0, buffered = 0, max_buffered = 0;
      for (const auto& p : s.partitions) {
        paused += p.paused;
        buffered += p.queued;
        max_buffered = std::max(max_buffered, p.queued);
      }
      if (s.processed > 0) {
        std::printf("  t=%.3f processed %llu, %zu lanes, %zu paused, %zu buffered (at most %zu in a lane)\n",
                    (now_ns() - first_ns.load()) / 1e9, static_cast<unsigned long long>(s.processed),
                    s.partitions.size(), paused, buffered, max_buffered);
      }
      next_trace = Clock::now() + std::chrono::milliseconds(10);
    }
    if (Clock::now() > deadline || !(*rt)->running()) {
      (*rt)->Stop();
      return Fail(fmt::format("kstrand: only {} of {} messages within {} s", processed, o.messages, o.timeout_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.trace ? 1 : 2));
  }
  (*rt)->Stop();
  if (processed != static_cast<uint64_t>(o.messages) || last_ns.load() == 0) {
    return Fail(fmt::format("kstrand: processed {} messages, expected {}", processed, o.messages));
  }
  return Sample::Of(static_cast<int64_t>(processed), (last_ns.load() - first_ns.load()) / 1e9, cpu_first, cpu_last);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Consume throughput: kstrand::Runtime against a raw librdkafka consume loop, on an embedded cluster"};
  app.add_option("--messages", o.messages, "messages to produce and consume per run")->check(CLI::PositiveNumber);
  app.add_option("--size", o.size, "value size in bytes")->check(CLI::PositiveNumber);
  app.add_option("--partitions", o.partitions, "partitions of the topic")->check(CLI::Range(1, 10000));
  app.add_option("--rounds", o.rounds, "rounds (each runs raw and kstrand, order alternating)")->check(CLI::PositiveNumber);
  app.add_option("--workers", o.workers, "kstrand worker threads")->check(CLI::PositiveNumber);
  app.add_option("--timeout", o.timeout_s, "give up on a run after this many seconds")->check(CLI::PositiveNumber);
  app.add_option("--lane-max-messages", o.lane_max_messages, "kstrand lane bound (0: the default)");
  app.add_option("--only", o.only, "run only this side (for profiling)")->check(CLI::IsMember({"raw", "kstrand"}));
  app.add_option("--kafka", o.kafka, "extra librdkafka property k=v for both consumers (repeatable)");
  app.add_flag("--trace", o.trace, "print kstrand progress every 10 ms");
  app.add_option("--max-other-cpu", o.max_other_cpu,
                 "other processes' CPU use (in cores) above which a round counts as disturbed");
  app.add_option("--retries", o.retries, "re-runs of a disturbed round")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  const int64_t per_partition = (o.messages + o.partitions - 1) / o.partitions;
  const int64_t est_bytes = per_partition * (static_cast<int64_t>(o.size) + kRecordOverhead);
  if (est_bytes > kMockPartitionBytes * 95 / 100) {
    std::fprintf(stderr,
                 "refusing to run: %lld messages of %zu bytes over %d partitions is about %.1f MiB per partition; "
                 "the embedded broker keeps only about 5 MiB per partition and would evict the oldest. "
                 "Use more --partitions or fewer --messages.\n",
                 static_cast<long long>(o.messages), o.size, o.partitions, est_bytes / 1048576.0);
    return 2;
  }

  auto cluster = kstrand::EmbeddedCluster::Start(1);
  if (!cluster.ok()) {
    std::fprintf(stderr, "embedded cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  const std::string topic = "bench";
  if (auto st = (*cluster)->CreateTopic(topic, o.partitions); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::vector<int64_t> last_offset;
  if (auto st = Produce(**cluster, topic, o, last_offset); !st.ok()) {
    std::fprintf(stderr, "refusing to run: %s\n", st.ToString().c_str());
    return 2;
  }
  std::fflush(stdout);
  std::printf("%d rounds, kstrand with %zu workers, %u hardware threads\n", o.rounds, o.workers,
              std::thread::hardware_concurrency());

  std::vector<double> raw_rates, ks_rates;
  int disturbed_rounds = 0;
  auto describe = [](const char* name, const Sample& s) {
    return fmt::format("{} {:.0f} msg/s ({:.3f} s, {:.2f} s CPU, others {:.2f} cores)", name, s.rate(), s.seconds,
                       s.cpu, s.other_load());
  };
  for (int r = 0; r < o.rounds; ++r) {
    Sample raw, ks;
    bool disturbed = false;
    for (int attempt = 0; attempt <= o.retries; ++attempt) {
      const std::string suffix = std::to_string(r) + "-" + std::to_string(attempt);
      auto run_raw = [&]() -> bool {
        auto s = RunRaw(**cluster, topic, o, "bench-raw-" + suffix);
        if (!s.ok()) std::fprintf(stderr, "round %d: %s\n", r + 1, s.status().ToString().c_str());
        if (s.ok()) raw = *s;
        return s.ok();
      };
      auto run_ks = [&]() -> bool {
        auto s = RunKstrand(**cluster, topic, o, "bench-kstrand-" + suffix, last_offset);
        if (!s.ok()) std::fprintf(stderr, "round %d: %s\n", r + 1, s.status().ToString().c_str());
        if (s.ok()) ks = *s;
        return s.ok();
      };
      bool ok = o.only == "raw"       ? run_raw()
                : o.only == "kstrand" ? run_ks()
                : r % 2 == 0          ? (run_raw() && run_ks())
                                      : (run_ks() && run_raw());
      if (!ok) return 1;
      disturbed = (o.only != "kstrand" && raw.other_load() > o.max_other_cpu) ||
                  (o.only != "raw" && ks.other_load() > o.max_other_cpu);
      if (!disturbed) break;
      if (attempt < o.retries) {
        std::printf("round %d: other processes used the CPU (raw: %.2f cores, kstrand: %.2f cores); again\n", r + 1,
                    raw.other_load(), ks.other_load());
        std::fflush(stdout);
      }
    }
    disturbed_rounds += disturbed;
    raw_rates.push_back(raw.rate());
    ks_rates.push_back(ks.rate());
    const char* mark = disturbed ? " [disturbed by other processes]" : "";
    if (!o.only.empty()) {
      std::printf("round %d: %s%s\n", r + 1, describe(o.only.c_str(), o.only == "raw" ? raw : ks).c_str(), mark);
    } else {
      std::printf("round %d (%s first): %s, %s, ratio %.2f%s\n", r + 1, r % 2 == 0 ? "raw" : "kstrand",
                  describe("raw", raw).c_str(), describe("kstrand", ks).c_str(), ks.rate() / raw.rate(), mark);
    }
    std::fflush(stdout);
  }
  const double raw_med = Median(raw_rates), ks_med = Median(ks_rates);
  if (o.only == "raw" || o.only == "kstrand") {
    std::printf("median of %d rounds: %s %.0f msg/s\n", o.rounds, o.only.c_str(), o.only == "raw" ? raw_med : ks_med);
  } else {
    std::printf("median of %d rounds: raw %.0f msg/s, kstrand %.0f msg/s, ratio %.2f\n", o.rounds, raw_med, ks_med,
                ks_med / raw_med);
  }
  if (disturbed_rounds) {
    std::printf("warning: %d of %d rounds were disturbed by other processes; the figures are not reliable\n",
                disturbed_rounds, o.rounds);
  }
  return 0;
}
