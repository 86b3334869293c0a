// kstrand-bench-ordering: what the ordering mode and the handler kind buy, on
// one embedded cluster, in one run.
//
// Two topics are filled once, both with --partitions partitions, values of
// --size bytes and --keys distinct keys: message i has key "key-(i mod keys)",
// and key k goes to partition k mod partitions, so every partition holds the
// same keys and the same number of messages.
//
// io   (--io-messages records) I/O-bound handlers: each message "takes"
//      --io-latency-ms. Modes:
//        partition-sync  partition ordering, sync handler sleeping, --partition-workers (12)
//        key-sync        key ordering, sync handler sleeping, --key-workers (64)
//        key-async       key ordering, async handler whose completion a TimerQueue
//                        fires after the latency (no thread waits),
//                        max.in.flight --max-in-flight (2000), --async-workers (2)
//      Every mode gets the same backlog and is stopped --seconds after its first
//      handler call, or earlier when it drained the backlog. Its rate is the
//      messages completed in that window / the window (first handler call to
//      the budget, or to the last completion when it drained).
// cpu  (--cpu-messages records) a no-op sync handler, --cpu-workers (4), the
//      backlog drained; partition, key and unordered ordering. Its rate is
//      messages / (first handler call to last completion).
//
// Each run is a fresh Runtime in a fresh consumer group reading from the
// earliest offset, so group joins and shutdown are outside the clock. Each
// round runs every mode of a scenario once, starting with a different mode
// each round (round robin); the report is the median of --rounds (io, 3) or
// --cpu-rounds (cpu, 5) rounds.
// "CPU" is the CPU time (getrusage) of the whole process (our threads,
// librdkafka's, the mock broker's) in the window, in cores, also split by
// thread (/proc/self/task/*/schedstat); "others" is the CPU the rest of the
// machine used meanwhile (/proc/stat): a run in which it exceeds
// --max-other-cpu is run again (--retries) and marked disturbed if it still
// was. "longest stall" is the longest stretch without a completion.
//
// Why 400,000 messages by default and not more: a mock partition keeps only
// about 5 MiB; 12 partitions hold about 500,000 records of this size.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cpu_mark.h"
#include "kafka/admin.h"
#include "kafka/producer.h"
#include "kstrand/embedded_cluster.h"
#include "kstrand/runtime.h"
#include "runtime/timer_queue.h"

namespace {

using Clock = std::chrono::steady_clock;
using kstrand::Ordering;
using kstrand::Result;
using kstrand::Status;

// The mock partition log drops its oldest batches above 5 MiB or 100,000 batches.
constexpr int64_t kMockPartitionBytes = 5LL * 1024 * 1024;
// A v2 record costs about this much beyond its key and value.
constexpr int64_t kRecordOverhead = 12;

struct Options {
  std::string scenario = "all";
  int partitions = 12;
  int64_t keys = 10'000;
  size_t size = 100;
  // 400,000 records of ~120 B over 12 partitions is ~3.9 MiB per partition:
  // the most the mock keeps (5 MiB per partition) with some margin.
  int64_t io_messages = 400'000;
  int64_t cpu_messages = 400'000;
  double seconds = 10;         // io: budget per mode and round
  int io_latency_ms = 5;
  int timer_threads = 1;  // io key-async: TimerQueues firing the completions
  size_t max_in_flight = 2000;  // io key-async
  size_t partition_workers = 12;
  size_t key_workers = 64;
  size_t async_workers = 2;
  size_t cpu_workers = kstrand::RuntimeConfig{}.workers;
  int rounds = 3;      // io
  int cpu_rounds = 5;  // cpu: its runs are short (a fraction of a second) and cheap
  int timeout_s = 120;
  double max_other_cpu = 0.10;
  int retries = 3;    // re-runs of a disturbed run
  bool trace = false;  // print the runtime's progress every 100 ms
  std::vector<std::string> only;  // run only these modes
  std::vector<std::string> kafka;
  std::vector<std::string> settings;  // RuntimeConfig::Set("name", "value") for every run
};

// CPU time per thread of this process, from /proc/self/task, to show where
// the CPU went. librdkafka names its threads "rdk:*"; the async mode's timer
// threads are renamed "bench-timer"; kstrand's workers are the threads that
// called the handler; its other new threads are the poll thread (and an idle
// retry timer); threads older than the run belong to the embedded broker.
struct ThreadCpu {
  std::string name;
  double seconds = 0;
};
using ThreadSnapshot = std::map<int, ThreadCpu>;

ThreadSnapshot Threads() {
  ThreadSnapshot out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    // schedstat: nanoseconds on the CPU (precise, unlike stat's 10 ms ticks), ...
    std::ifstream stat(entry.path() / "schedstat"), comm(entry.path() / "comm");
    double ns = 0;
    std::string name;
    if (!(stat >> ns) || !std::getline(comm, name)) continue;
    out[std::stoi(entry.path().filename().string())] = {name, ns / 1e9};
  }
  return out;
}

// Where the CPU of a window went, in CPU seconds per group of threads.
struct CpuSplit {
  double workers = 0;   // the Runtime's workers (the threads that called the handler)
  double poll = 0;      // the Runtime's other threads: its poll thread (and its idle retry timer)
  double timer = 0;     // the async mode's completion timer thread(s)
  double consumer = 0;  // the Runtime's librdkafka threads (started with this run)
  double broker = 0;    // the embedded cluster's librdkafka threads (and other threads older than the run)
  double main = 0;      // the bench's main thread (sleeps 1 ms at a time; io: Stats() every 10 ms)
};

CpuSplit Split(const ThreadSnapshot& before_run, const std::vector<int>& workers, const ThreadSnapshot& from,
               const ThreadSnapshot& to) {
  CpuSplit split;
  for (const auto& [tid, t] : to) {
    auto it = from.find(tid);
    const double used = t.seconds - (it == from.end() ? 0 : it->second.seconds);
    if (tid == getpid()) split.main += used;
    else if (t.name == "bench-timer") split.timer += used;
    else if (std::find(workers.begin(), workers.end(), tid) != workers.end()) split.workers += used;
    else if (before_run.count(tid)) split.broker += used;
    else if (t.name.rfind("rdk:", 0) == 0) split.consumer += used;
    else split.poll += used;
  }
  return split;
}

struct Mode {
  std::string name;
  Ordering ordering = Ordering::kPartition;
  bool async = false;
  size_t workers = 4;
  size_t max_in_flight = 0;  // 0: the Runtime's default
  double ceiling = 0;        // msg/s the mode cannot exceed (io), 0: none
};

struct Sample {
  int64_t processed = 0;
  double seconds = 0;
  double cpu = 0;        // CPU time this process used in the window
  double other_cpu = 0;  // CPU time other processes used in the window
  bool drained = false;  // the whole backlog was processed within the budget
  double in_flight = 0;  // mean Stats().in_flight in the window (io only)
  double timer_lag_ms = 0;  // async: mean lateness of the completion timers
  double complete_us = 0;   // async: mean time inside Completion::operator() (kstrand's completion path)
  double longest_stall_ms = 0;  // longest time in the window in which no message completed
  double stall_at_s = 0;        // when it began, from the first handler call
  std::string stall_state;      // the Runtime's Stats() 100 ms into that stall
  CpuSplit split;           // CPU seconds per group of threads
  double rate() const { return seconds > 0 ? processed / seconds : 0; }
  double cores() const { return seconds > 0 ? cpu / seconds : 0; }
  // /proc/stat counts in ticks of 10 ms.
  double other_load() const { return seconds > 0 ? std::max(0.0, other_cpu - 0.02) / seconds : 0; }
};

// Written by handlers and completions; read by the driving thread.
struct Progress {
  explicit Progress(int64_t total) : total(total) {}
  const int64_t total;
  std::atomic<bool> claimed{false};
  std::atomic<int64_t> first_ns{0};  // published after cpu_first
  std::atomic<int64_t> last_ns{0};   // published after cpu_last
  std::atomic<int64_t> done{0};
  CpuMark cpu_first, cpu_last;
  // Timer threads only: lateness of the completion timers and time spent in Completion::operator().
  std::atomic<int64_t> lag_ns{0}, lag_count{0}, complete_ns{0};

  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  }
  // Worker thread ids, for the CPU split.
  std::mutex tids_mu;
  std::vector<int> worker_tids;  // guarded by tids_mu

  void Started() {
    thread_local const Progress* registered_for = nullptr;
    if (registered_for != this) {
      registered_for = this;
      std::lock_guard lock(tids_mu);
      worker_tids.push_back(static_cast<int>(gettid()));
    }
    if (first_ns.load(std::memory_order_relaxed) != 0 || claimed.exchange(true)) return;
    int64_t t = NowNs();
    cpu_first = CpuMark::Now();
    first_ns.store(t, std::memory_order_release);
  }
  void Done() {
    if (done.fetch_add(1, std::memory_order_relaxed) + 1 != total) return;
    int64_t t = NowNs();
    cpu_last = CpuMark::Now();
    last_ns.store(t, std::memory_order_release);
  }
};

Status Fail(const std::string& what) { return Status(kstrand::Errc::kInternal, what); }

std::string Key(int64_t k) { return "key-" + std::to_string(k); }

void AddProperties(const std::vector<std::string>& kvs, std::map<std::string, std::string>& into) {
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) into[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
}

// Creates and fills `topic`, and checks that the mock kept every record.
Status Fill(kstrand::EmbeddedCluster& cluster, const std::string& topic, int64_t messages, const Options& o) {
  KSTRAND_RETURN_IF_ERROR(cluster.CreateTopic(topic, o.partitions));
  auto producer = kstrand::kafka::Producer::Create({{"bootstrap.servers", cluster.bootstrap()},
                                                    {"linger.ms", "20"},
                                                    {"batch.num.messages", "10000"},
                                                    {"queue.buffering.max.messages", "500000"}});
  if (!producer.ok()) return producer.status();
  std::string value(o.size, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i % 26);
  std::vector<std::string> keys;
  for (int64_t k = 0; k < o.keys; ++k) keys.push_back(Key(k));
  auto t0 = Clock::now();
  for (int64_t i = 0; i < messages; ++i) {
    const int64_t k = i % o.keys;
    KSTRAND_RETURN_IF_ERROR(
        (*producer)->Produce(topic, keys[k], value, {}, static_cast<int32_t>(k % o.partitions)));
  }
  KSTRAND_RETURN_IF_ERROR((*producer)->Flush(120000));
  std::printf("produced %lld messages (%lld keys, %zu-byte values) to %s (%d partitions) in %.2f s\n",
              static_cast<long long>(messages), static_cast<long long>(o.keys), o.size, topic.c_str(), o.partitions,
              std::chrono::duration<double>(Clock::now() - t0).count());

  auto topics = kstrand::kafka::DescribeTopics((*producer)->handle(), 10000, topic, /*with_watermarks=*/true);
  if (!topics.ok()) return topics.status();
  int64_t total = 0;
  for (const auto& p : topics->front().partitions) {
    if (p.low < 0 || p.high < 0) return Fail("could not read the watermarks of partition " + std::to_string(p.id));
    if (p.low > 0) {
      return Fail(fmt::format("{} partition {} starts at offset {}: the embedded broker evicted its oldest records "
                              "(it keeps about 5 MiB per partition). Use fewer messages or more --partitions.",
                              topic, p.id, p.low));
    }
    total += p.high;
  }
  if (total != messages) return Fail(fmt::format("{} holds {} messages, expected {}", topic, total, messages));
  return Status::Ok();
}

Result<Sample> Run(const kstrand::EmbeddedCluster& cluster, const std::string& topic, int64_t total,
                   const Mode& mode, std::chrono::milliseconds latency, double budget_s, const std::string& group,
                   const Options& o) {
  // Destroyed in reverse: the Runtime first (Stop drains in-flight work, whose
  // completions the timers still fire), then the timers, then the progress.
  Progress progress(total);
  std::vector<std::unique_ptr<kstrand::runtime::TimerQueue>> timers;
  for (int i = 0; i < (mode.async ? o.timer_threads : 0); ++i) {
    timers.push_back(std::make_unique<kstrand::runtime::TimerQueue>());
    timers.back()->After(std::chrono::nanoseconds(0), [] { pthread_setname_np(pthread_self(), "bench-timer"); });
  }
  std::atomic<uint64_t> next_timer{0};

  kstrand::RuntimeConfig config;
  config.name = "bench-ordering";
  config.brokers = cluster.bootstrap();
  config.group_id = group;
  config.workers = mode.workers;
  if (mode.max_in_flight) config.max_in_flight = mode.max_in_flight;
  config.kafka = kstrand::EmbeddedCluster::ClientProperties();
  config.kafka["auto.offset.reset"] = "earliest";
  AddProperties(o.kafka, config.kafka);
  for (const auto& kv : o.settings) {
    const auto eq = kv.find('=');
    KSTRAND_RETURN_IF_ERROR(eq == std::string::npos ? Fail("--set wants name=value: " + kv)
                                                    : config.Set(kv.substr(0, eq), kv.substr(eq + 1)));
  }
  kstrand::TopicHandler th;
  th.topic = topic;
  th.ordering = mode.ordering;
  if (mode.async) {
    // The "I/O" is a timer: a waiting message costs a TimerQueue entry, not a
    // thread. --timer-threads > 1 spreads the timers over several queues.
    th.async_handler = [&progress, &timers, &next_timer, latency](const kstrand::Message&,
                                                                   kstrand::Completion done) {
      progress.Started();
      const auto due = Clock::now() + latency;
      auto& queue = *timers[next_timer.fetch_add(1, std::memory_order_relaxed) % timers.size()];
      queue.After(latency, [&progress, due, done = std::move(done)] {
        const auto now = Clock::now();
        progress.lag_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(now - due).count(),
                                  std::memory_order_relaxed);
        progress.lag_count.fetch_add(1, std::memory_order_relaxed);
        progress.Done();
        done(Status::Ok());
        progress.complete_ns.fetch_add(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - now).count(),
            std::memory_order_relaxed);
      });
    };
  } else if (latency.count() > 0) {
    th.handler = [&progress, latency](const kstrand::Message&) {
      progress.Started();
      std::this_thread::sleep_for(latency);
      progress.Done();
      return Status::Ok();
    };
  } else {
    th.handler = [&progress](const kstrand::Message&) {
      progress.Started();
      progress.Done();
      return Status::Ok();
    };
  }
  config.topics.push_back(std::move(th));

  const ThreadSnapshot before_run = Threads();
  auto rt = kstrand::Runtime::Create(std::move(config));
  if (!rt.ok()) return rt.status();
  KSTRAND_RETURN_IF_ERROR((*rt)->Start());

  const bool sample_in_flight = latency.count() > 0;
  double in_flight_sum = 0;
  int in_flight_samples = 0;
  auto next_sample = Clock::now(), next_trace = Clock::now();
  const auto give_up = Clock::now() + std::chrono::seconds(o.timeout_s);
  Sample s;
  CpuMark cut;
  ThreadSnapshot threads_first, threads_cut;
  int64_t last_done = -1, last_change_ns = 0, longest_stall_ns = 0, stall_at_ns = 0;  // sampled every ~1 ms
  int64_t stall_seen_ns = 0;
  std::string stall_state;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const int64_t first = progress.first_ns.load(std::memory_order_acquire);
    if (first && threads_first.empty()) threads_first = Threads();  // within ~1 ms of the first handler call
    if (first) {
      const int64_t done = progress.done.load(std::memory_order_relaxed), t = Progress::NowNs();
      if (done != last_done || last_change_ns == 0) {
        last_done = done;
        last_change_ns = t;
      }
      if (t - last_change_ns > longest_stall_ns) {
        longest_stall_ns = t - last_change_ns;
        stall_at_ns = last_change_ns - first;
      }
      // 100 ms into a stall longer than any before: what does the Runtime hold?
      if (t - last_change_ns >= 100'000'000 && stall_seen_ns != last_change_ns &&
          t - last_change_ns >= longest_stall_ns) {
        stall_seen_ns = last_change_ns;
        auto st = (*rt)->Stats();
        size_t paused = 0, buffered = 0;
        for (const auto& p : st.partitions) {
          paused += p.paused;
          buffered += p.queued;
        }
        stall_state = fmt::format("in flight {}, {} of {} partitions paused, {} buffered", st.in_flight, paused,
                                  st.partitions.size(), buffered);
      }
    }
    if (const int64_t last = progress.last_ns.load(std::memory_order_acquire)) {
      s.processed = total;
      s.seconds = (last - first) / 1e9;
      s.drained = true;
      cut = progress.cpu_last;
      threads_cut = Threads();
      break;
    }
    const int64_t now = Progress::NowNs();
    if (first && budget_s > 0 && now - first >= static_cast<int64_t>(budget_s * 1e9)) {
      s.processed = progress.done.load();
      cut = CpuMark::Now();
      threads_cut = Threads();
      s.seconds = (now - first) / 1e9;
      break;
    }
    if (first && o.trace && Clock::now() >= next_trace) {
      auto st = (*rt)->Stats();
      size_t paused = 0, buffered = 0;
      for (const auto& p : st.partitions) {
        paused += p.paused;
        buffered += p.queued;
      }
      std::printf("  %s t=%.3f processed %llu, in flight %zu, %zu lanes, %zu paused, %zu buffered\n", mode.name.c_str(),
                  (now - first) / 1e9, static_cast<unsigned long long>(st.processed), st.in_flight,
                  st.partitions.size(), paused, buffered);
      std::fflush(stdout);
      next_trace = Clock::now() + std::chrono::milliseconds(100);
    }
    if (first && sample_in_flight && Clock::now() >= next_sample) {
      in_flight_sum += static_cast<double>((*rt)->Stats().in_flight);
      ++in_flight_samples;
      next_sample = Clock::now() + std::chrono::milliseconds(10);
    }
    if (Clock::now() > give_up || !(*rt)->running()) {
      (*rt)->Stop();
      return Fail(fmt::format("{}: only {} of {} messages within {} s", mode.name, progress.done.load(), total,
                              o.timeout_s));
    }
  }
  (*rt)->Stop();  // joins the workers: cpu_first is visible from here on
  s.cpu = cut.process - progress.cpu_first.process;
  s.other_cpu = std::max(0.0, (cut.system - progress.cpu_first.system) - s.cpu);
  s.in_flight = in_flight_samples ? in_flight_sum / in_flight_samples : 0;
  if (int64_t n = progress.lag_count.load()) {
    s.timer_lag_ms = progress.lag_ns.load() / 1e6 / n;
    s.complete_us = progress.complete_ns.load() / 1e3 / n;
  }
  s.longest_stall_ms = longest_stall_ns / 1e6;
  s.stall_at_s = stall_at_ns / 1e9;
  if (s.longest_stall_ms >= 100) s.stall_state = stall_state;
  {
    std::lock_guard lock(progress.tids_mu);
    s.split = Split(before_run, progress.worker_tids, threads_first, threads_cut);
  }
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "1234567" -> "1,234,567"
std::string Grouped(double v) {
  std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

struct Results {
  std::vector<Mode> modes;
  std::vector<std::vector<Sample>> samples;  // per mode, per round
  int disturbed = 0;

  double MedianRate(size_t m) const {
    std::vector<double> v;
    for (const auto& s : samples[m]) v.push_back(s.rate());
    return Median(v);
  }
  template <typename F>
  double MedianOf(size_t m, F f) const {
    std::vector<double> v;
    for (const auto& s : samples[m]) v.push_back(f(s));
    return Median(v);
  }
  // Every round's rate; with mark_drained, those that drained the backlog get a "*".
  std::string PerRound(size_t m, bool mark_drained) const {
    std::string out;
    for (const auto& s : samples[m]) {
      out += (out.empty() ? "" : " / ") + Grouped(s.rate()) + (mark_drained && s.drained ? "*" : "");
    }
    return out;
  }
  const Mode* Find(const std::string& name, size_t* index) const {
    for (size_t m = 0; m < modes.size(); ++m) {
      if (modes[m].name == name) {
        *index = m;
        return &modes[m];
      }
    }
    return nullptr;
  }
};

// Runs every mode `rounds` times, round robin, starting each round with the next mode.
Result<Results> RunScenario(const kstrand::EmbeddedCluster& cluster, const std::string& scenario,
                            const std::string& topic, int64_t total, std::vector<Mode> modes,
                            std::chrono::milliseconds latency, double budget_s, int rounds, const Options& o) {
  Results r;
  for (auto& mode : modes) {
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), mode.name) != o.only.end()) {
      r.modes.push_back(std::move(mode));
    }
  }
  r.samples.resize(r.modes.size());
  if (r.modes.empty()) return r;
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < r.modes.size(); ++i) {
      const size_t m = (round + i) % r.modes.size();
      const Mode& mode = r.modes[m];
      Result<Sample> s = Sample{};
      bool disturbed = false;
      for (int attempt = 0; attempt <= o.retries; ++attempt) {
        s = Run(cluster, topic, total, mode, latency, budget_s,
                fmt::format("bench-ordering-{}-{}-{}-{}", scenario, mode.name, round, attempt), o);
        if (!s.ok()) return s.status();
        disturbed = s->other_load() > o.max_other_cpu;
        if (!disturbed) break;
        if (attempt < o.retries) {
          std::printf("%s round %d %s: other processes used %.2f cores; again\n", scenario.c_str(), round + 1,
                      mode.name.c_str(), s->other_load());
          std::fflush(stdout);
        }
      }
      r.samples[m].push_back(*s);
      r.disturbed += disturbed;
      std::printf("%s\n", fmt::format("{} round {} {}: {} msg/s ({} in {:.2f} s{}), CPU {:.2f} cores, longest stall "
                                      "{:.0f} ms at {:.2f} s{}, others {:.2f}{}",
                                      scenario, round + 1, mode.name, Grouped(s->rate()), s->processed, s->seconds,
                                      s->drained ? ", drained" : "", s->cores(), s->longest_stall_ms, s->stall_at_s,
                                      s->stall_state.empty() ? "" : " (" + s->stall_state + ")", s->other_load(),
                                      disturbed ? " [disturbed]" : "")
                               .c_str());
      std::fflush(stdout);
    }
  }
  return r;
}

std::string OrderingName(Ordering o) {
  return o == Ordering::kPartition ? "partition" : o == Ordering::kKey ? "key" : "unordered";
}

std::string Ratio(double value, double base, const char* format) {
  return base > 0 ? fmt::format(fmt::runtime(format), value / base) : "-";
}

// Median cores per group of threads, per mode.
void PrintCpuSplit(const Results& r) {
  std::printf("\nwhere the CPU went (cores, median of the rounds):\n\n");
  std::printf("| mode | whole process | kstrand workers | kstrand poll thread | completion timer "
              "| librdkafka consumer | embedded broker | bench main |\n");
  std::printf("|---|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t m = 0; m < r.modes.size(); ++m) {
    auto per_s = [&](auto f) {
      return r.MedianOf(m, [&](const Sample& s) { return s.seconds > 0 ? f(s) / s.seconds : 0; });
    };
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r.modes[m].name.c_str(),
                per_s([](const Sample& s) { return s.cpu; }), per_s([](const Sample& s) { return s.split.workers; }),
                per_s([](const Sample& s) { return s.split.poll; }),
                per_s([](const Sample& s) { return s.split.timer; }),
                per_s([](const Sample& s) { return s.split.consumer; }),
                per_s([](const Sample& s) { return s.split.broker; }),
                per_s([](const Sample& s) { return s.split.main; }));
  }
}

void PrintIo(const Results& r, const Options& o) {
  std::printf("\nI/O-bound: %d partitions, %lld keys, %d ms per message, budget %g s per run, median of %d rounds\n\n",
              o.partitions, static_cast<long long>(o.keys), o.io_latency_ms, o.seconds, o.rounds);
  std::printf("| mode | ordering | handler | workers | max.in.flight | msg/s | vs partition | ceiling msg/s "
              "| of ceiling | CPU cores | mean in flight | longest stall ms | rounds (msg/s) |\n");
  std::printf("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
  size_t a = 0, c = 0;
  const double base = r.Find("partition-sync", &a) ? r.MedianRate(a) : 0;
  for (size_t m = 0; m < r.modes.size(); ++m) {
    const Mode& mode = r.modes[m];
    const double rate = r.MedianRate(m);
    std::printf("| %s | %s | %s | %zu | %s | %s | %s | %s | %.2f | %.2f | %s | %.0f | %s |\n", mode.name.c_str(),
                OrderingName(mode.ordering).c_str(), mode.async ? "async (timer)" : "sync (sleep)", mode.workers,
                mode.max_in_flight ? Grouped(static_cast<double>(mode.max_in_flight)).c_str() : "1,000 (default)",
                Grouped(rate).c_str(), Ratio(rate, base, "{:.1f}x").c_str(), Grouped(mode.ceiling).c_str(),
                rate / mode.ceiling, r.MedianOf(m, [](const Sample& s) { return s.cores(); }),
                Grouped(r.MedianOf(m, [](const Sample& s) { return s.in_flight; })).c_str(),
                r.MedianOf(m, [](const Sample& s) { return s.longest_stall_ms; }), r.PerRound(m, true).c_str());
  }
  std::printf("\nA rate marked * drained the whole backlog (%lld messages) within the budget. ceiling = concurrency / "
              "latency: min(workers, partitions) for partition-sync, min(workers, max.in.flight) for key-sync, "
              "max.in.flight for key-async.\n",
              static_cast<long long>(o.io_messages));
  PrintCpuSplit(r);
  if (const Mode* async = r.Find("key-async", &c)) {
    const double rate = r.MedianRate(c), eff = rate / async->ceiling;
    std::printf("\n");
    if (base > 0) {
      std::printf("key-async / partition-sync: %.1fx (target >= 50x: %s)\n", rate / base,
                  rate / base >= 50 ? "met" : "NOT met");
    }
    std::printf("key-async: %.2f of its ceiling of %s msg/s (target >= 0.8: %s); the process used %.2f cores of %u; "
                "%d timer thread(s) fired the completions on average %.2f ms after they were due, each spending "
                "%.1f us inside Completion::operator(); %s in flight on average (max.in.flight %zu)\n",
                eff, Grouped(async->ceiling).c_str(), eff >= 0.8 ? "met" : "NOT met",
                r.MedianOf(c, [](const Sample& s) { return s.cores(); }), std::thread::hardware_concurrency(),
                o.timer_threads, r.MedianOf(c, [](const Sample& s) { return s.timer_lag_ms; }),
                r.MedianOf(c, [](const Sample& s) { return s.complete_us; }),
                Grouped(r.MedianOf(c, [](const Sample& s) { return s.in_flight; })).c_str(), async->max_in_flight);
  }
}

void PrintCpu(const Results& r, const Options& o) {
  std::printf("\nCPU-bound: no-op handler, %d partitions, %lld keys, %lld messages of %zu bytes drained, "
              "median of %d rounds\n\n",
              o.partitions, static_cast<long long>(o.keys), static_cast<long long>(o.cpu_messages), o.size,
              o.cpu_rounds);
  std::printf("| mode | ordering | workers | msg/s | vs partition | CPU cores | longest stall ms | rounds (msg/s) |\n");
  std::printf("|---|---|--:|--:|--:|--:|--:|---|\n");
  size_t a = 0, k = 0;
  const double base = r.Find("partition", &a) ? r.MedianRate(a) : 0;
  for (size_t m = 0; m < r.modes.size(); ++m) {
    const double rate = r.MedianRate(m);
    std::printf("| %s | %s | %zu | %s | %s | %.2f | %.0f | %s |\n", r.modes[m].name.c_str(),
                OrderingName(r.modes[m].ordering).c_str(), r.modes[m].workers, Grouped(rate).c_str(),
                Ratio(rate, base, "{:.2f}").c_str(), r.MedianOf(m, [](const Sample& s) { return s.cores(); }),
                r.MedianOf(m, [](const Sample& s) { return s.longest_stall_ms; }), r.PerRound(m, false).c_str());
  }
  PrintCpuSplit(r);
  if (base > 0 && r.Find("key", &k)) {
    const double ratio = r.MedianRate(k) / base;
    std::printf("\nkey / partition: %.2f (target >= 0.8: %s)\n", ratio, ratio >= 0.8 ? "met" : "NOT met");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Ordering modes and handler kinds of kstrand::Runtime, I/O-bound and CPU-bound, on an embedded cluster"};
  app.add_option("--scenario", o.scenario, "io, cpu or all")->check(CLI::IsMember({"io", "cpu", "all"}));
  app.add_option("--partitions", o.partitions, "partitions of each topic")->check(CLI::Range(1, 10000));
  app.add_option("--keys", o.keys, "distinct keys")->check(CLI::PositiveNumber);
  app.add_option("--size", o.size, "value size in bytes")->check(CLI::PositiveNumber);
  app.add_option("--io-messages", o.io_messages, "backlog of the io scenario")->check(CLI::PositiveNumber);
  app.add_option("--cpu-messages", o.cpu_messages, "backlog of the cpu scenario (drained)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seconds", o.seconds, "io: time budget per mode and round, from its first handler call")
      ->check(CLI::PositiveNumber);
  app.add_option("--io-latency-ms", o.io_latency_ms, "io: simulated I/O per message")->check(CLI::PositiveNumber);
  app.add_option("--timer-threads", o.timer_threads, "io: timer threads firing the async completions")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-in-flight", o.max_in_flight, "io: max.in.flight of the async mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--partition-workers", o.partition_workers, "io: workers of the partition-ordered sync mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--key-workers", o.key_workers, "io: workers of the key-ordered sync mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--async-workers", o.async_workers, "io: workers of the key-ordered async mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--cpu-workers", o.cpu_workers, "cpu: workers of every mode")->check(CLI::PositiveNumber);
  app.add_option("--rounds", o.rounds, "io rounds; each runs every mode once, round robin")
      ->check(CLI::PositiveNumber);
  app.add_option("--cpu-rounds", o.cpu_rounds, "cpu rounds; each runs every mode once, round robin")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", o.timeout_s, "give up on a run after this many seconds")->check(CLI::PositiveNumber);
  app.add_option("--max-other-cpu", o.max_other_cpu, "other processes' CPU (cores) above which a run is disturbed");
  app.add_option("--retries", o.retries, "re-runs of a disturbed run")->check(CLI::NonNegativeNumber);
  app.add_option("--only", o.only, "run only these modes (repeatable)")
      ->check(CLI::IsMember({"partition-sync", "key-sync", "key-async", "partition", "key", "unordered"}));
  app.add_flag("--trace", o.trace, "print the runtime's progress every 100 ms");
  app.add_option("--set", o.settings, "kstrand setting name=value for every run, e.g. lane.max.messages=20000 "
                                      "(repeatable; overrides --*-workers and --max-in-flight)");
  app.add_option("--kafka", o.kafka, "extra librdkafka property k=v for the consumers (repeatable)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  const bool io = o.scenario != "cpu", cpu = o.scenario != "io";

  const int64_t key_bytes = static_cast<int64_t>(Key(o.keys - 1).size());
  for (int64_t messages : {io ? o.io_messages : 0, cpu ? o.cpu_messages : 0}) {
    const int64_t per_partition = (messages + o.partitions - 1) / o.partitions;
    const double mib = per_partition * (static_cast<double>(o.size) + key_bytes + kRecordOverhead) / 1048576.0;
    if (mib > kMockPartitionBytes / 1048576.0 * 0.95) {
      std::fprintf(stderr,
                   "refusing to run: %lld messages over %d partitions is about %.1f MiB per partition; the embedded "
                   "broker keeps only about 5 MiB per partition. Use fewer messages or more --partitions.\n",
                   static_cast<long long>(messages), o.partitions, mib);
      return 2;
    }
  }

  auto cluster = kstrand::EmbeddedCluster::Start(1);
  if (!cluster.ok()) {
    std::fprintf(stderr, "embedded cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  for (auto [enabled, topic, messages] : {std::tuple{io, "ordering-io", o.io_messages},
                                          std::tuple{cpu, "ordering-cpu", o.cpu_messages}}) {
    if (!enabled) continue;
    if (auto st = Fill(**cluster, topic, messages, o); !st.ok()) {
      std::fprintf(stderr, "refusing to run: %s\n", st.ToString().c_str());
      return 2;
    }
  }
  std::printf("io: %d rounds, cpu: %d rounds, %u hardware threads\n", o.rounds, o.cpu_rounds,
              std::thread::hardware_concurrency());
  std::fflush(stdout);

  int disturbed = 0;
  std::optional<Results> io_results, cpu_results;
  if (io) {
    const double latency_s = o.io_latency_ms / 1000.0;
    const auto concurrency = [&](size_t n) { return static_cast<double>(n) / latency_s; };
    std::vector<Mode> modes = {
        {"partition-sync", Ordering::kPartition, false, o.partition_workers, 0,
         concurrency(std::min<size_t>(o.partition_workers, o.partitions))},
        {"key-sync", Ordering::kKey, false, o.key_workers, 0,
         concurrency(std::min({o.key_workers, kstrand::RuntimeConfig{}.max_in_flight, static_cast<size_t>(o.keys)}))},
        {"key-async", Ordering::kKey, true, o.async_workers, o.max_in_flight,
         concurrency(std::min(o.max_in_flight, static_cast<size_t>(o.keys)))},
    };
    auto r = RunScenario(**cluster, "io", "ordering-io", o.io_messages, std::move(modes),
                         std::chrono::milliseconds(o.io_latency_ms), o.seconds, o.rounds, o);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    disturbed += r->disturbed;
    io_results = std::move(*r);
  }
  if (cpu) {
    std::vector<Mode> modes = {
        {"partition", Ordering::kPartition, false, o.cpu_workers, 0, 0},
        {"key", Ordering::kKey, false, o.cpu_workers, 0, 0},
        {"unordered", Ordering::kUnordered, false, o.cpu_workers, 0, 0},
    };
    auto r = RunScenario(**cluster, "cpu", "ordering-cpu", o.cpu_messages, std::move(modes),
                         std::chrono::milliseconds(0), 0, o.cpu_rounds, o);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    disturbed += r->disturbed;
    cpu_results = std::move(*r);
  }
  if (io_results && !io_results->modes.empty()) PrintIo(*io_results, o);
  if (cpu_results && !cpu_results->modes.empty()) PrintCpu(*cpu_results, o);
  if (disturbed) {
    std::printf("\nwarning: %d runs were disturbed by other processes (> %.2f cores); the figures are not reliable\n",
                disturbed, o.max_other_cpu);
  }
  return 0;
}
