// Runtime: one consumer-group member; this file is its wiring and the poll
// loop. Each turn the poll thread polls a batch (kafka::Consumer), hands each
// message to its partition's lane (Dispatch; lane.h), pauses and resumes
// partitions for backpressure, ticks the observability (watermarks,
// throughput, the member announcement), and every commit.interval commits
// (commit_strategy.h). Rebalances arrive on the same thread (rebalance.h);
// handlers run on the worker pool and never block it. Start builds the parts
// in order; Stop joins the poll thread, whose Shutdown drained and committed.
#include "kstrand/runtime.h"

#include "kstrand/shutdown.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <random>
#include <thread>
#include <unordered_map>

#include "group/announcer.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/consumer.h"
#include "kafka/error.h"
#include "kafka/local_broker.h"
#include "kafka/partition_list.h"
#include "kstrand/parse.h"
#include "kstrand/version.h"
#include "runtime/assignment.h"
#include "runtime/client_stats.h"
#include "runtime/clients.h"
#include "runtime/commit_strategy.h"
#include "runtime/lane.h"
#include "runtime/rebalance.h"
#include "runtime/settings.h"
#include "runtime/state_binding.h"

namespace kstrand {

using runtime::Lane;
using runtime::LaneEnv;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kRecentRebalances = 64;
// Throughput is measured over the last five one-second ticks.
constexpr size_t kThroughputSamples = 6;
constexpr int kPollBatch = 1024;
constexpr int kPollTimeoutMs = 100;
constexpr int kCommitTimeoutMs = 10000;  // bound on a synchronous commit (revoke, shutdown)
// Stop(): after the drain waited shutdown.timeout for handlers, how long the
// worker threads get to return before a handler still running is left to it.
constexpr auto kHungHandlerGrace = std::chrono::seconds(1);
// Stop() returns within its drain timeout plus this, whatever the brokers do:
// the final commit, leaving the group, the members record and the output's
// flush share it (each also bounded by kCommitTimeoutMs) and what is not done
// by then is abandoned and reported. docs/reliability.md, "Bounded shutdown".
constexpr auto kShutdownMargin = std::chrono::seconds(5);

// "<name>-<8 hex digits>": tells apart members that share a name (replicas
// of one service) in announcements.
std::string NewInstanceId(const std::string& name) {
  std::random_device random;
  return fmt::format("{}-{:08x}", name, random());
}

}  // namespace

class Runtime::Impl {
 public:
  explicit Impl(RuntimeConfig c) : config(std::move(c)) {
    for (const auto& t : config.topics) {
      auto spec = std::make_shared<TopicHandler>(t);
      // A table's lane applies its records in batches, in partition order.
      if (auto table = t.table) {
        spec->batch_handler = [table](std::span<const Message> batch) { return table->impl().Apply(batch); };
        spec->ordering = Ordering::kPartition;
      }
      specs.emplace(t.topic, std::move(spec));
    }
  }
  ~Impl() { Stop(config.shutdown_timeout); }

  Status Start();
  void Stop(std::chrono::milliseconds drain_timeout);
  Status Run(bool stop_on_signals);
  Status Wait();
  std::vector<TopicPartition> Assignment() const;
  RuntimeStats Stats() const;

  const RuntimeConfig config;
  std::atomic<bool> running{false};

 private:
  void PollLoop();
  void Dispatch(rd_kafka_message_t** msgs, ssize_t n);
  void ApplyBackpressure();
  void Shutdown();
  void Finish(Status status);

  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void OnError(const Status& error, bool fatal);
  void OnStatistics(std::string_view json);

  // Observability, on the poll thread: watermarks and the throughput sample
  // every second; the member announcement every members.interval and after
  // every assignment change.
  // This member's record: its assignment and progress now.
  void Announce();
  void Tick();
  void RefreshWatermarks(const std::vector<std::shared_ptr<Lane>>& lanes_now);


  // config.topics by name; read-only after construction. Lanes share them: a
  // late completion may reach its lane's handler spec after this runtime is gone.
  std::unordered_map<std::string, std::shared_ptr<const TopicHandler>> specs;

  // Member order is destruction order. The poll thread is joined (Stop) before
  // anything below it goes.
  std::unique_ptr<kafka::Consumer> consumer;  // the handle, its queue and its close order
  std::shared_ptr<LaneEnv> env;  // workers, in-flight limit, timers, dead-letter producer
  // Stores and tables bound to the assignment (state_binding.h).
  std::unique_ptr<runtime::StateBinding> state;
  // Publishes this member's announcements; null when members.topic is empty
  // or the topic could not be had.
  std::unique_ptr<group::Announcer> announcer;
  const std::string instance = NewInstanceId(config.name);

  // The assigned partitions' lanes (assignment.h).
  runtime::Assignment assignment{specs};
  // When progress is committed, per delivery mode (commit_strategy.h).
  std::unique_ptr<runtime::CommitStrategy> commit_strategy;
  // The assign, revoke and lost paths (rebalance.h).
  std::unique_ptr<runtime::Rebalance> rebalance;
  std::vector<Message> dispatch_run;  // poll thread only: Dispatch's buffer, kept to reuse its capacity

  std::atomic<bool> stop_requested{false};  // by Stop(), a fatal error; never cleared
  // How long the shutdown drain waits for handlers: shutdown.timeout unless
  // Stop() was given another.
  std::atomic<std::chrono::milliseconds> shutdown_timeout{config.shutdown_timeout};
  // When Stop() must have returned: its call + the drain timeout + kShutdownMargin.
  std::atomic<Clock::time_point> shutdown_deadline{Clock::time_point::max()};
  // What a shutdown step may still wait: until shutdown_deadline less
  // `reserve_ms` (kept for the steps after it), at most kCommitTimeoutMs.
  int ShutdownMsLeft(int reserve_ms) const {
    const Clock::time_point deadline = shutdown_deadline;
    if (deadline == Clock::time_point::max()) return kCommitTimeoutMs;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left - reserve_ms, 0, kCommitTimeoutMs));
  }
  std::mutex stop_mu;  // one Start() or Stop() at a time
  Status fatal_status;  // poll thread only (Start's thread before it runs): set by a fatal client error
  std::atomic<uint64_t> rebalances{0}, commits{0}, commit_errors{0};

  // What Stats() reports beyond the lanes.
  mutable Mutex observed_mu;
  std::string member_id GUARDED_BY(observed_mu);
  std::chrono::system_clock::time_point started GUARDED_BY(observed_mu);
  std::deque<RebalanceRecord> recent_rebalances GUARDED_BY(observed_mu);
  // The last ~5 s, once a second.
  std::deque<std::pair<Clock::time_point, uint64_t>> processed_samples GUARDED_BY(observed_mu);
  ClientStats client_stats GUARDED_BY(observed_mu);
  // Poll thread only.
  bool announce_now = false;
  Clock::time_point next_tick, next_announce;

  Mutex state_mu;
  std::condition_variable state_cv;
  bool finished GUARDED_BY(state_mu) = false;
  Status exit_status GUARDED_BY(state_mu);
  std::thread poll_thread;
  std::atomic<std::thread::id> poll_thread_id;  // for Stop() to know it is called from on_rebalance
};

Status Runtime::Impl::Start() {
  std::lock_guard starting(stop_mu);
  if (stop_requested) {
    return Status(Errc::kInvalidArgument, "runtime already stopped: a stopped runtime cannot start again; create a new one");
  }
  if (running || poll_thread.joinable()) return Status(Errc::kInvalidArgument, "runtime already started");
  kafka::Consumer::Callbacks callbacks;
  callbacks.on_rebalance = [this](rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    OnRebalance(err, parts);
  };
  callbacks.on_commit = [this](rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
    commit_strategy->OnAsyncCommitted(err, offsets);
  };
  callbacks.on_statistics = [this](std::string_view json) { OnStatistics(json); };
  callbacks.on_error = [this](const Status& error, bool fatal) { OnError(error, fatal); };
  auto created = kafka::Consumer::Create(runtime::ConsumerProperties(config), std::move(callbacks));
  if (!created.ok()) return created.status();
  consumer = std::move(created.value());

  const int connect_ms = static_cast<int>(config.connect_timeout.count());
  KSTRAND_RETURN_IF_ERROR(consumer->WaitForBrokers(config.brokers, connect_ms));
  if (config.delivery == Delivery::kExactlyOnce) {
    // librdkafka's mock cluster (our embedded broker) answers TxnOffsetCommit
    // without storing the offsets: every rebalance or restart would re-read
    // from the last plain commit and forward it all again.
    if (consumer->IsEmbeddedCluster(connect_ms)) {
      return Status(Errc::kInvalidArgument, "exactly-once needs Apache Kafka: the embedded broker at " +
                                                config.brokers + " does not store offsets committed in transactions");
    }
  }
  auto topics = kafka::DescribeTopics(consumer->handle(), connect_ms);
  if (!topics.ok()) return topics.status();
  KSTRAND_RETURN_IF_ERROR(runtime::CheckTopicsExist(config, *topics));

  runtime::LaneLimits limits{config.lane_max_messages, config.lane_max_bytes, config.max_ahead,
                             config.batch_max_messages};
  env = std::make_shared<LaneEnv>(config.workers, config.max_in_flight, limits,
                                  [c = consumer.get()] { c->Wake(); });
  auto output = runtime::Output::Create(runtime::OutputProperties(config), runtime::TransactionalId(config, instance),
                                       connect_ms);
  if (!output.ok()) return output.status();
  env->output = std::move(output.value());
  auto bound = runtime::StateBinding::Create(
      config, specs, *consumer, *topics, [env = env](Status why) { env->RequestStop(std::move(why)); },
      connect_ms);
  if (!bound.ok()) return bound.status();
  state = std::move(bound.value());
  const runtime::MemberParts member_parts{config, *consumer, assignment, env};
  commit_strategy = runtime::CommitStrategy::For(
      config.delivery, {member_parts,
                        [this](rd_kafka_topic_partition_list_t* partitions) { return rebalance->ReadCommitted(partitions); },
                        [this](const std::vector<TopicPartition>& partitions) { rebalance->DeferUnread(partitions); },
                        [this](const std::string& topic) { return state->IsTable(topic); }, commits, commit_errors});
  rebalance = std::make_unique<runtime::Rebalance>(
      runtime::Rebalance::Parts{member_parts, *state, *commit_strategy});
  // Subscribe last: a Start that fails after subscribing would leave a
  // consumer whose close runs rebalance callbacks into a half-built runtime.
  std::vector<std::string> subscription;
  for (const auto& t : config.topics) subscription.push_back(t.topic);
  KSTRAND_RETURN_IF_ERROR(consumer->Subscribe(subscription));
  if (!config.members_topic.empty()) {
    announcer = group::Announcer::Start(
        consumer->handle(), kafka::ConnectionProperties(config.brokers, config.kafka, config.name + "-members"),
        config.members_topic, instance, config.name, connect_ms);
    announce_now = true;
  }
  {
    MutexLock lock(observed_mu);
    started = std::chrono::system_clock::now();
  }
  running = true;
  poll_thread = std::thread([this] { PollLoop(); });
  poll_thread_id = poll_thread.get_id();
  return Status::Ok();
}

void Runtime::Impl::PollLoop() {
  std::vector<rd_kafka_message_t*> batch(kPollBatch);
  auto next_commit = Clock::now() + config.commit_interval;
  while (!stop_requested.load()) {
    if (size_t n = consumer->Consume(batch, kPollTimeoutMs); n > 0) Dispatch(batch.data(), static_cast<ssize_t>(n));
    ApplyBackpressure();
    Tick();
    if (auto why = env->stop_request()) {
      // A handler failure under FailureAction::kStopRuntime; Wait() reports it.
      if (fatal_status.ok()) fatal_status = std::move(*why);
      break;
    }
    if (Clock::now() >= next_commit) {
      commit_strategy->Commit(false, assignment.Lanes(), kCommitTimeoutMs);
      next_commit = Clock::now() + config.commit_interval;
    }
  }
  Shutdown();
}

void Runtime::Impl::Dispatch(rd_kafka_message_t** msgs, ssize_t n) {
  if (!commit_strategy->BeforeDispatch(msgs, static_cast<size_t>(n))) return;
  // Consecutive messages mostly share a partition: hand each run of them to
  // its lane in one Push (one lock) instead of one Push per message.
  std::shared_ptr<Lane> lane;
  const rd_kafka_topic_t* run_topic = nullptr;  // the run's partition, as the client names it
  int32_t run_partition = -1;
  std::vector<Message>& run = dispatch_run;
  auto flush = [&] {
    if (lane && !run.empty()) lane->Push(run);  // refused messages are dropped uncommitted
    run.clear();
  };
  for (ssize_t i = 0; i < n; ++i) {
    Message message(msgs[i]);  // owns and frees the rd_kafka_message_t
    const rd_kafka_message_t* m = msgs[i];
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("{}: consume error: {}", config.name, rd_kafka_message_errstr(m));
      }
      continue;
    }
    if (m->rkt != run_topic || m->partition != run_partition) {
      flush();
      run_topic = m->rkt;
      run_partition = m->partition;
      lane = assignment.Find(TopicPartition{rd_kafka_topic_name(m->rkt), Partition(m->partition)});
    }
    if (lane) run.push_back(std::move(message));
  }
  flush();
}

void Runtime::Impl::ApplyBackpressure() {
  kafka::TopicPartitionListPtr pause(rd_kafka_topic_partition_list_new(0));
  kafka::TopicPartitionListPtr resume(rd_kafka_topic_partition_list_new(0));
  std::vector<std::shared_ptr<Lane>> resumed;
  assignment.ForEach([&](const TopicPartition& tp, const std::shared_ptr<Lane>& lane) {
    // TryPause marks the lane paused before we pause the partition, so a
    // worker that drains the lane meanwhile wakes us to resume it.
    if (lane->TryPause()) {
      rd_kafka_topic_partition_list_add(pause.get(), tp.topic.c_str(), tp.partition.value());
    } else if (lane->paused() && !lane->stopped() && lane->HasRoom()) {
      rd_kafka_topic_partition_list_add(resume.get(), tp.topic.c_str(), tp.partition.value());
      resumed.push_back(lane);
    }
  });
  consumer->Pause(pause.get());
  consumer->Resume(resume.get());
  for (auto& l : resumed) l->SetPaused(false);
}

void Runtime::Impl::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  rebalances++;
  RebalanceRecord record{std::chrono::system_clock::now(), RebalanceKind::kAssigned, kafka::ToVector(partitions)};
  const auto start = Clock::now();
  record.kind = rebalance->OnRebalance(err, partitions);
  record.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  std::optional<std::string> id = consumer->MemberId();
  {
    MutexLock lock(observed_mu);
    if (id) member_id = std::move(*id);
    recent_rebalances.push_back(std::move(record));
    if (recent_rebalances.size() > kRecentRebalances) recent_rebalances.pop_front();
  }
  announce_now = true;
}

// On the thread polling the consumer: Start's (in WaitForBrokers) or the poll thread.
void Runtime::Impl::OnError(const Status& error, bool fatal) {
  if (fatal) {
    // Reported by Wait() once the shutdown this triggers has finished; during
    // Start, WaitForBrokers returns it instead.
    if (fatal_status.ok()) fatal_status = error;
    stop_requested = true;
    return;
  }
  spdlog::warn("{}: {}", config.name, error.detail());
}

void Runtime::Impl::OnStatistics(std::string_view text) {
  auto parsed = runtime::ParseClientStatistics(text);
  if (!parsed) return;
  MutexLock lock(observed_mu);
  client_stats = *parsed;
}

void Runtime::Impl::Announce() {
  if (!announcer) return;
  group::Announcement a;
  a.group = config.group_id;
  a.member = config.name;
  a.endpoint = config.endpoint;
  a.interval = config.members_interval;
  RuntimeStats stats = Stats();
  a.started = stats.started;
  for (const auto& p : stats.partitions) a.partitions.push_back(group::Announced(p));
  announcer->Publish(std::move(a));
}

void Runtime::Impl::RefreshWatermarks(const std::vector<std::shared_ptr<Lane>>& lanes_now) {
  for (const auto& lane : lanes_now) {
    int64_t low = -1, high = -1;
    // Cached from fetch responses: no request.
    if (consumer->CachedWatermarks(lane->partition().topic, lane->partition().partition.value(), &low, &high)) {
      lane->SetWatermarks(low, high);
    }
  }
}

void Runtime::Impl::Tick() {
  const auto now = Clock::now();
  const bool announce = announce_now || now >= next_announce;
  // An announcement carries fresh watermarks too.
  if (announce || now >= next_tick) RefreshWatermarks(assignment.Lanes());
  if (now >= next_tick) {
    rebalance->RetryUnread();
    state->CheckRestores();
    next_tick = now + std::chrono::seconds(1);
    const uint64_t processed = Stats().processed;
    MutexLock lock(observed_mu);
    processed_samples.emplace_back(now, processed);
    while (processed_samples.size() > kThroughputSamples) processed_samples.pop_front();
  }
  if (announce) {
    announce_now = false;
    next_announce = now + config.members_interval;
    Announce();
  }
}

void Runtime::Impl::Shutdown() {
  auto all = assignment.Lanes();
  const std::chrono::milliseconds drain_timeout = shutdown_timeout;
  const auto busy = rebalance->Drain(all, drain_timeout);
  // The margin's last seconds are kept for leaving the group and the flushes.
  commit_strategy->Commit(true, all, ShutdownMsLeft(2500));
  // Progress the final commit could not hand over (a broker down): the next
  // owner reads it again. Say which, so an operator knows what repeats.
  std::string uncommitted;
  for (const auto& lane : all) {
    auto want = lane->Committable();
    if (!want || want->offset <= lane->committed()) continue;
    uncommitted += (uncommitted.empty() ? "" : ", ") + lane->partition().ToString() + " processed up to offset " +
                   std::to_string(want->offset) + ", committed " +
                   (lane->committed() < 0 ? std::string("nothing") : "up to " + std::to_string(lane->committed()));
  }
  if (!uncommitted.empty() && fatal_status.ok() && busy.empty()) {
    fatal_status = Status(Errc::kTimedOut, "the final commit did not complete (" + uncommitted +
                                                  "); the next owner reads those messages again");
  }
  if (!busy.empty() && fatal_status.ok()) {
    std::string left;
    for (const auto& lane : busy) {
      left += (left.empty() ? "" : ", ") + lane->partition().ToString() + " (committed up to offset " +
              std::to_string(lane->committed()) + ")";
    }
    fatal_status = Status(Errc::kTimedOut, "handlers were still running after the shutdown drain (" +
                                               FormatDuration(drain_timeout) + "); left uncommitted past "
                                               "their message, to be read again by the next owner: " + left);
  }
  // Leaves the group; the revoke callback runs inside and finds the lanes drained.
  if (Status st = consumer->Close(ShutdownMsLeft(1000)); !st.ok()) spdlog::warn("{}: {}", config.name, st.detail());
  Finish(fatal_status);
}

void Runtime::Impl::Finish(Status status) {
  MutexLock lock(state_mu);
  if (!finished && exit_status.ok()) exit_status = std::move(status);
  finished = true;
  running = false;
  state_cv.notify_all();
}

void Runtime::Impl::Stop(std::chrono::milliseconds drain_timeout) {
  // Read by the poll thread's Shutdown() once it sees stop_requested.
  if (!stop_requested) {
    shutdown_timeout = drain_timeout;
    shutdown_deadline = Clock::now() + drain_timeout + kShutdownMargin;
  }
  stop_requested = true;
  // From a handler or on_rebalance: joining would wait for this very call.
  if (std::this_thread::get_id() == poll_thread_id.load() || (env && env->pool().OnWorkerThread())) {
    if (consumer) consumer->Wake();
    return;
  }
  std::lock_guard stopping(stop_mu);
  if (poll_thread.joinable()) {
    if (consumer) consumer->Wake();
    // The poll thread may be waiting in Reopen for a broker that does not answer.
    if (env && env->output) env->output->Interrupt();
    poll_thread.join();
  }
  if (state) state->StopRestoring();
  if (announcer) {
    // Gone from the group: say so at once rather than let the record expire.
    announcer->Leave(ShutdownMsLeft(500));
    announcer.reset();
  }
  // Joins workers and timers. The drain already waited for the handlers: a
  // worker still in one after a short grace is left to it.
  if (env) {
    if (size_t hung = env->Close(Clock::now() + kHungHandlerGrace, ShutdownMsLeft(0)); hung > 0) {
      spdlog::warn("{}: stopped with {} handler call(s) still running; they finish on their own", config.name, hung);
    }
    // Nothing runs the lanes any more: halting them drops the sub-lanes that
    // wait for a worker, a timer or a permit (each holds its lane, which
    // holds it), and a completion arriving later finds its lane halted and
    // only drops its message. The poll thread is gone.
    assignment.Halt();
    // A late completion's or a left handler's message may still belong to
    // the consumer, and rd_kafka_destroy() waits for every one of them: the
    // consumer goes with the last lane.
    if (consumer) env->KeepUntilLanesAreGone(std::shared_ptr<kafka::Consumer>(std::move(consumer)));
  }
  consumer.reset();
  Finish(Status::Ok());
}

Status Runtime::Impl::Run(bool stop_on_signals) {
  if (stop_on_signals) InstallShutdownSignals();
  KSTRAND_RETURN_IF_ERROR(Start());
  for (;;) {
    if (stop_on_signals && WaitForShutdown(std::chrono::milliseconds(100))) break;
    MutexLock lock(state_mu);
    if (finished || stop_requested.load()) break;
    if (!stop_on_signals) lock.WaitUntil(state_cv, Clock::now() + std::chrono::milliseconds(100));
    if (finished || stop_requested.load()) break;
  }
  Stop(config.shutdown_timeout);
  return Wait();
}

Status Runtime::Impl::Wait() {
  MutexLock lock(state_mu);
  while (!finished) lock.Wait(state_cv);
  return exit_status;
}

std::vector<TopicPartition> Runtime::Impl::Assignment() const { return assignment.Partitions(); }

RuntimeStats Runtime::Impl::Stats() const {
  RuntimeStats s = assignment.Snapshot();
  for (const auto& p : s.partitions) {
    runtime::AddCounters(s, p);
    s.in_flight += p.in_flight;  // now: assigned partitions only
  }
  s.busy_workers = env ? env->pool().busy() : 0;
  s.rebalances = rebalances.load();
  s.commits = commits.load();
  s.commit_errors = commit_errors.load();
  s.producer_renewals = env && env->output ? static_cast<uint64_t>(env->output->renewals()) : 0;
  MutexLock lock(observed_mu);
  s.member_id = member_id;
  s.started = started;
  s.recent_rebalances.assign(recent_rebalances.begin(), recent_rebalances.end());
  s.client = client_stats;
  if (processed_samples.size() >= 2) {
    const auto& [t0, n0] = processed_samples.front();
    const auto& [t1, n1] = processed_samples.back();
    s.throughput = static_cast<double>(n1 - n0) / std::chrono::duration<double>(t1 - t0).count();
  }
  return s;
}

// ---- public face ----

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;

Result<std::unique_ptr<Runtime>> Runtime::Create(RuntimeConfig config) {
  KSTRAND_RETURN_IF_ERROR(CheckLibrdkafkaVersion());  // an older librdkafka loaded in our place
  // The user's own properties, before an embedded broker's are added below them.
  KSTRAND_RETURN_IF_ERROR(ValidateKafkaProperties(config));
  // Empty brokers: the `kstrand broker` of this machine; an embedded broker's
  // consumer properties go under config.kafka (kafka/local_broker.h).
  KSTRAND_RETURN_IF_ERROR(kafka::ResolveMemberConnection(&config.brokers, &config.kafka));
  KSTRAND_RETURN_IF_ERROR(ValidateTopics(config));
  KSTRAND_RETURN_IF_ERROR(ValidateSettings(config));
  KSTRAND_RETURN_IF_ERROR(kafka::ValidateProperties(config.kafka));
  return std::unique_ptr<Runtime>(new Runtime(std::make_unique<Impl>(std::move(config))));
}

Status Runtime::Start() { return impl_->Start(); }
void Runtime::Stop() { impl_->Stop(impl_->config.shutdown_timeout); }
void Runtime::Stop(std::chrono::milliseconds drain_timeout) { impl_->Stop(drain_timeout); }
Status Runtime::Run(bool stop_on_signals) { return impl_->Run(stop_on_signals); }
Status Runtime::Wait() { return impl_->Wait(); }
bool Runtime::running() const { return impl_->running.load(); }
std::vector<TopicPartition> Runtime::Assignment() const { return impl_->Assignment(); }
RuntimeStats Runtime::Stats() const { return impl_->Stats(); }
const RuntimeConfig& Runtime::config() const { return impl_->config; }

}  // namespace kstrand
