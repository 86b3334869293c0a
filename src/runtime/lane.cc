#include "runtime/lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <random>

#include "runtime/failure_decision.h"
#include "runtime/offset_metadata.h"

namespace kstrand::runtime {

using Clock = std::chrono::steady_clock;

namespace {

// Runs user code, turning any exception into a failed Status.
template <typename Fn>
Status CatchAll(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status(Errc::kHandlerFailed, std::string("handler threw: ") + e.what());
  } catch (...) {
    return Status(Errc::kHandlerFailed, "handler threw a non-standard exception");
  }
}

}  // namespace

Status InvokeHandler(const Handler& handler, const Message& message) {
  return CatchAll([&] { return handler(message); });
}

namespace {

// +-20%, so that many keys failing together do not retry in lockstep.
double BackoffJitter() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

}  // namespace

// ---- LaneEnv ----

LaneEnv::LaneEnv(size_t workers, size_t max_in_flight, LaneLimits l, std::function<void()> wake_poller)
    : limits(l), wake_poller_(std::move(wake_poller)), pool_(workers), in_flight_(max_in_flight, pool_) {}

LaneEnv::~LaneEnv() { Close(); }

void LaneEnv::WakePoller() {
  MutexLock lock(mu_);
  if (!closed_ && wake_poller_) wake_poller_();
}

void LaneEnv::RequestStop(Status why) {
  MutexLock lock(mu_);
  if (closed_) return;
  if (!stop_request_) stop_request_ = std::move(why);
  if (wake_poller_) wake_poller_();
}

std::optional<Status> LaneEnv::stop_request() const {
  MutexLock lock(mu_);
  return stop_request_;
}

size_t LaneEnv::Close(std::chrono::steady_clock::time_point deadline) {
  {
    MutexLock lock(mu_);
    closed_ = true;
  }
  timers_.Stop();
  const size_t left_running = pool_.Stop(deadline);
  in_flight_.DropWaiters();
  // Deliver what is under way, then stop the producer here: its delivery
  // callbacks hold lanes, and so this env, and must not be what destroys it
  // (on the producer's own thread).
  if (output) output->Close();
  return left_running;
}

// ---- SubLane ----

// One FIFO of a lane whose messages run one after another. Its messages are
// queued_ until taken into running_ (the in-flight set: the current sync slice,
// batch, or async message; it stays there across retries). Only the one party
// running the sub-lane (state kRunning or kAwaiting) touches running_, and it
// may do so outside the lane's lock; everything else is guarded by lane.mu_.
class SubLane final : public Task, public std::enable_shared_from_this<SubLane> {
 public:
  enum class State {
    kIdle,      // nothing to do, or nobody will run it
    kQueued,    // someone will call RunSome: pool, timer (retry), in-flight limit, or held by After()
    kRunning,   // a worker runs handlers of running_
    kAwaiting,  // an async completion or dead-letter deliveries are outstanding
  };

  SubLane(std::shared_ptr<Lane> lane, std::string key) : lane_(std::move(lane)), key_(std::move(key)) {
    context_.stop = lane_->stop_.get_token();
  }

  bool RunSome() override;
  void OnAsyncDone(Status status);

  const std::string& key() const { return key_; }
  // For the analysis: the Lane whose mu_ the caller holds is this sub-lane's
  // lane_ (which it cannot see by itself). Checked in debug builds.
  void OnLaneOf(const Lane* lane) const ASSERT_CAPABILITY(lane_->mu_) { assert(lane_.get() == lane); }

 private:
  friend class Lane;
  enum class Next { kIdle, kMore, kDeadLetter };

  static constexpr size_t kSlice = 64;  // sync messages per RunSome, for fairness between lanes

  // Records the outcome of running_: the first `done` succeeded; `failure`
  // (if any) is the error of the one after them (of all of them, for a batch).
  Next FinishLocked(size_t done, std::optional<Status> failure) REQUIRES(lane_->mu_);
  // After a success, a skip or a dead-letter: go on with what is queued.
  Next ContinueLocked() REQUIRES(lane_->mu_);
  // Nothing more runs here: drops running_ (uncommitted) and goes idle.
  void AbandonLocked() REQUIRES(lane_->mu_);
  void CompleteLocked(size_t n) REQUIRES(lane_->mu_);  // the first n of running_ are done

  void StartAsync();
  void SendToDeadLetters(Status error);
  // The records the first `done` messages of running_ produced (the others'
  // are dropped: their attempt failed or never ran).
  std::vector<OutputRecord> TakeProduced(size_t done);
  // Sends them, then finishes like FinishLocked(done, failure); a send that
  // failed fails the attempt of the whole of running_.
  void SendThenFinish(std::vector<OutputRecord> records, size_t done, std::optional<Status> failure);
  void Schedule() { lane_->env_->pool().Schedule(shared_from_this()); }

  const std::shared_ptr<Lane> lane_;
  const std::string key_;  // key ordering: the key ("" also for the null-key lane)
  State state_ GUARDED_BY(lane_->mu_) = State::kIdle;
  std::deque<Message> queued_ GUARDED_BY(lane_->mu_);
  // Filled under lane_->mu_; while state_ is kRunning or kAwaiting, read by
  // the party running the sub-lane without it (one runner at a time).
  std::vector<Message> running_;
  int attempts_ GUARDED_BY(lane_->mu_) = 0;  // failed attempts of running_ so far
  // What running_'s messages report as attempt() and stop_token(); written
  // only by the party running the sub-lane, before it hands them to a handler.
  detail::HandlerContext context_;
  size_t permits_ GUARDED_BY(lane_->mu_) = 0;  // in-flight permits held for running_ (async handlers)
  Status last_error_;    // for dead-letter headers
  int letter_attempts_ = 0;  // likewise: attempts made before the policy applied
  // Set with a Schedule() by a completion that must not send the dead letters
  // itself (it may run inside Output::Send); RunSome sends them.
  bool dead_letters_due_ = false;
  // When the running async message was handed over; set before the handler
  // gets its Completion, so the completing thread sees it.
  Clock::time_point async_started_;
};

namespace {

// The Completion handed to an async handler.
class AsyncCompletion final : public detail::CompletionTarget {
 public:
  explicit AsyncCompletion(std::shared_ptr<SubLane> sub) : sub_(std::move(sub)) {}
  ~AsyncCompletion() override {
    if (!done_.load()) sub_->OnAsyncDone(Status(Errc::kHandlerFailed, "completion dropped without being called"));
  }
  void Complete(Status status) override {
    if (done_.exchange(true)) return;  // the first call wins
    sub_->OnAsyncDone(std::move(status));
  }

 private:
  std::shared_ptr<SubLane> sub_;
  std::atomic<bool> done_{false};
};

}  // namespace

bool SubLane::RunSome() {
  if (dead_letters_due_) {
    dead_letters_due_ = false;
    SendToDeadLetters(last_error_);
    return false;  // the deliveries schedule what follows
  }
  const TopicHandler& spec = *lane_->spec_;
  bool wake = false;
  {
    MutexLock lock(lane_->mu_);
    if (lane_->HaltedLocked()) {
      AbandonLocked();
      return false;
    }
    if (running_.empty() && queued_.empty()) {
      state_ = State::kIdle;
      lane_->ForgetLocked(this);
      return false;
    }
    // Sync and batch handlers hold a worker while they run, so the pool bounds
    // them; an async message holds a permit, taken before the message so that
    // in_flight_ counts only messages handed over.
    if (spec.async_handler && permits_ == 0) {
      if (!lane_->env_->in_flight().TryAcquire(1, shared_from_this())) {
        state_ = State::kQueued;  // the limit schedules us again
        return false;
      }
      permits_ = 1;
    }
    if (running_.empty()) {
      size_t n = spec.async_handler ? 1
                 : spec.batch_handler ? lane_->env_->limits.batch_max_messages
                                      : kSlice;
      n = std::min(n, queued_.size());
      for (size_t i = 0; i < n; ++i) {
        lane_->buffered_bytes_ -= queued_.front().size();
        running_.push_back(std::move(queued_.front()));
        running_.back().SetContext(&context_);
        queued_.pop_front();
      }
      lane_->buffered_ -= n;
      lane_->in_flight_ += n;
      wake = lane_->paused_.load() && !lane_->stopped_.load() && lane_->HasRoomLocked();
    }
    state_ = spec.async_handler ? State::kAwaiting : State::kRunning;
    context_.attempt = attempts_ + 1;
  }
  if (wake) lane_->env_->WakePoller();

  if (spec.async_handler) {
    StartAsync();
    return false;  // the completion schedules what follows
  }
  size_t done = 0;
  std::optional<Status> failure;
  if (spec.batch_handler) {
    const auto start = Clock::now();
    Status st = CatchAll([&] { return spec.batch_handler(std::span<const Message>(running_)); });
    lane_->latency_.Record(Clock::now() - start);
    if (st.ok()) done = running_.size();
    else failure = std::move(st);
  } else {
    for (; done < running_.size(); ++done) {
      // A revoked partition stops between messages; the rest stay uncommitted.
      if (lane_->revoked_.load() && lane_->drop_buffered_.load()) break;
      const auto start = Clock::now();
      Status st = InvokeHandler(spec.handler, running_[done]);
      lane_->latency_.Record(Clock::now() - start);
      if (!st.ok()) {
        failure = std::move(st);
        break;
      }
      context_.attempt = 1;  // the slice's next message runs for the first time
    }
  }
  if (auto records = TakeProduced(done); !records.empty()) {
    SendThenFinish(std::move(records), done, std::move(failure));
    return false;  // the send schedules what follows
  }
  Next next;
  {
    MutexLock lock(lane_->mu_);
    next = FinishLocked(done, std::move(failure));
  }
  if (next == Next::kDeadLetter) SendToDeadLetters(last_error_);
  return next == Next::kMore;
}

std::vector<OutputRecord> SubLane::TakeProduced(size_t done) {
  std::vector<OutputRecord> records;
  for (size_t i = 0; i < running_.size(); ++i) {
    auto produced = running_[i].TakeProduced();
    if (i >= done) continue;
    for (auto& r : produced) records.push_back(std::move(r));
  }
  return records;
}

void SubLane::SendThenFinish(std::vector<OutputRecord> records, size_t done, std::optional<Status> failure) {
  auto self = shared_from_this();
  auto admit = [this] { return !lane_->retired(); };
  // Runs inside Output::Send under exactly-once, so it only schedules: the
  // dead letters go out from RunSome.
  const bool transactional = lane_->env_->output->transactional();
  auto finish = [self, done, failure = std::move(failure), transactional](Status sent) mutable {
    Next next;
    {
      MutexLock lock(self->lane_->mu_);
      if (!sent.ok() && transactional) {
        // The transaction is doomed (or the lane retired): not the handler's
        // failure. The runtime starts the partition again from its last commit.
        self->AbandonLocked();
        return;
      }
      next = sent.ok() ? self->FinishLocked(done, std::move(failure)) : self->FinishLocked(0, std::move(sent));
      if (next == Next::kDeadLetter) {
        self->dead_letters_due_ = true;
        self->state_ = State::kQueued;
      }
    }
    if (next != Next::kIdle) self->Schedule();
  };
  lane_->env_->output->Send(std::move(records), admit, std::move(finish));
}

void SubLane::StartAsync() {
  async_started_ = Clock::now();
  auto target = std::make_shared<AsyncCompletion>(shared_from_this());
  Status started = CatchAll([&] {
    lane_->spec_->async_handler(running_.front(), Completion(target));
    return Status::Ok();
  });
  if (!started.ok()) target->Complete(std::move(started));  // ignored if the handler completed first
}

void SubLane::OnAsyncDone(Status status) {
  lane_->latency_.Record(Clock::now() - async_started_);
  if (auto records = TakeProduced(status.ok() ? 1 : 0); !records.empty()) {
    return SendThenFinish(std::move(records), 1, std::nullopt);
  }
  Next next;
  {
    MutexLock lock(lane_->mu_);
    next = status.ok() ? FinishLocked(1, std::nullopt) : FinishLocked(0, std::move(status));
  }
  if (next == Next::kMore) Schedule();
  if (next == Next::kDeadLetter) SendToDeadLetters(last_error_);
}

void SubLane::CompleteLocked(size_t n) {
  for (size_t i = 0; i < n; ++i) lane_->frontier_.Complete(running_[i].offset().value());
  running_.erase(running_.begin(), running_.begin() + static_cast<std::ptrdiff_t>(n));
  lane_->in_flight_ -= n;
}

SubLane::Next SubLane::FinishLocked(size_t done, std::optional<Status> failure) {
  if (permits_ > 0) lane_->env_->in_flight().Release(permits_);
  permits_ = 0;
  CompleteLocked(done);
  lane_->processed_.fetch_add(done);
  if (done > 0) {
    attempts_ = 0;
    // The frontier moved: a partition paused at max.ahead may have room again.
    if (lane_->paused_.load() && !lane_->stopped_.load() && lane_->HasRoomLocked()) lane_->env_->WakePoller();
  }
  if (lane_->HaltedLocked()) {
    AbandonLocked();
    return Next::kIdle;
  }
  if (!failure) return ContinueLocked();

  const FailurePolicy& policy = lane_->spec_->on_failure;
  const Message& first = running_.front();
  const std::string where = lane_->tp_.ToString() + " offset " + std::to_string(first.offset().value());
  ++attempts_;
  using Action = FailureDecision::Action;
  const FailureDecision decision = DecideAfterFailure(policy, attempts_, *failure, BackoffJitter());
  if (decision.action == Action::kRetry) {
    lane_->retried_.fetch_add(1);
    const auto wait = decision.wait;
    spdlog::debug("{}: attempt {} of {} failed: {}; retrying in {} ms", where, attempts_, policy.max_attempts,
                 failure->ToString(), std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    state_ = State::kQueued;  // order holds: nothing behind it in this sub-lane runs meanwhile
    lane_->env_->timers().After(wait, [self = shared_from_this()] { self->Schedule(); });
    return Next::kIdle;
  }
  // Out of attempts: a batch failed as a whole, so the policy applies to all of it.
  const size_t failed = lane_->spec_->batch_handler ? running_.size() : 1;
  lane_->failed_.fetch_add(failed);
  letter_attempts_ = attempts_;
  attempts_ = 0;
  switch (decision.action) {
    case Action::kRetry:
      break;  // handled above
    case Action::kSkip:
      spdlog::error("{}: {}; skipped", where, failure->ToString());
      lane_->skipped_.fetch_add(failed);
      CompleteLocked(failed);
      return ContinueLocked();
    case Action::kDeadLetter:
      last_error_ = std::move(*failure);
      state_ = State::kAwaiting;
      return Next::kDeadLetter;
    case Action::kStopRuntime:
      lane_->env_->RequestStop(Status(Errc::kHandlerFailed, where + ": " + failure->ToString()));
      [[fallthrough]];
    case Action::kStopPartition:
      // The failed message is never completed, so the frontier never passes it.
      spdlog::error("{}: {}; partition stopped, offset not committed", where, failure->ToString());
      lane_->stopped_ = true;
      lane_->DropQueuedLocked();
      AbandonLocked();
      return Next::kIdle;
  }
  return Next::kIdle;
}

SubLane::Next SubLane::ContinueLocked() {
  if (!running_.empty() || !queued_.empty()) {
    state_ = State::kQueued;
    return Next::kMore;
  }
  state_ = State::kIdle;
  lane_->ForgetLocked(this);
  return Next::kIdle;
}

void SubLane::AbandonLocked() {
  if (permits_ > 0) lane_->env_->in_flight().Release(permits_);
  permits_ = 0;
  lane_->in_flight_ -= running_.size();
  running_.clear();
  lane_->buffered_ -= queued_.size();
  for (const Message& m : queued_) lane_->buffered_bytes_ -= m.size();
  queued_.clear();
  state_ = State::kIdle;
  lane_->ForgetLocked(this);
}

void SubLane::SendToDeadLetters(Status error) {
  // running_ is ours (state kAwaiting): read it outside the lock, because
  // sending may wait for room in the producer's queue.
  const FailurePolicy& policy = lane_->spec_->on_failure;
  const size_t n = lane_->spec_->batch_handler ? running_.size() : 1;
  std::vector<OutputRecord> letters;
  for (size_t i = 0; i < n; ++i) {
    const Message& m = running_[i];
    OutputRecord r{policy.dead_letter_topic, m.key() ? std::optional<std::string>(*m.key()) : std::nullopt,
                   std::string(m.value())};
    for (auto& [name, value] : m.headers()) r.headers.emplace_back(name, value);
    r.headers.emplace_back("kstrand-source-topic", m.topic());
    r.headers.emplace_back("kstrand-source-partition", std::to_string(m.partition().value()));
    r.headers.emplace_back("kstrand-source-offset", std::to_string(m.offset().value()));
    r.headers.emplace_back("kstrand-error", error.ToString());
    r.headers.emplace_back("kstrand-attempts", std::to_string(letter_attempts_));
    spdlog::warn("{} offset {}: {}; sending to dead-letter topic {}", lane_->tp_.ToString(), m.offset().value(),
                 error.ToString(), policy.dead_letter_topic);
    letters.push_back(std::move(r));
  }
  auto self = shared_from_this();
  auto admit = [this] { return !lane_->retired(); };
  const bool transactional = lane_->env_->output->transactional();
  auto finish = [self, n, transactional](Status sent) {
    Next next = Next::kIdle;
    {
      MutexLock lock(self->lane_->mu_);
      if (sent.ok()) {
        // Complete even if the lane was revoked meanwhile: under exactly-once
        // the letters are in the transaction that commits this completion.
        self->lane_->dead_lettered_.fetch_add(n);
        self->CompleteLocked(n);
        if (self->lane_->HaltedLocked()) self->AbandonLocked();
        else next = self->ContinueLocked();
      } else if (self->lane_->HaltedLocked() || transactional) {
        // Transactional: the transaction is doomed; the partition starts again from its last commit.
        self->AbandonLocked();
      } else {
        // Not in the dead-letter topic, so it must not count as done.
        spdlog::error("{} offset {}: dead-lettering failed: {}; partition stopped, offset not committed",
                      self->lane_->tp_.ToString(), self->running_.front().offset().value(), sent.ToString());
        self->lane_->stopped_ = true;
        self->lane_->DropQueuedLocked();
        self->AbandonLocked();
      }
    }
    if (next == Next::kMore) self->Schedule();
  };
  lane_->env_->output->Send(std::move(letters), admit, std::move(finish));
}

// ---- Lane ----

Lane::Lane(TopicPartition tp, Generation generation, std::shared_ptr<const TopicHandler> spec,
           std::shared_ptr<LaneEnv> env, std::vector<int64_t> already_done)
    : tp_(std::move(tp)),
      generation_(generation),
      spec_(std::move(spec)),
      env_(std::move(env)),
      already_done_(std::move(already_done)) {}

Lane::~Lane() = default;

void Lane::After(const std::shared_ptr<Lane>& predecessor) {
  MutexLock plock(predecessor->mu_);  // lock order: predecessor before successor
  if (predecessor->in_flight_ == 0) return;
  {
    MutexLock lock(mu_);
    predecessor_ = predecessor;
    ++holds_;
  }
  predecessor->on_idle_ = [weak = weak_from_this()] {
    if (auto successor = weak.lock()) successor->Release(/*predecessor_idle=*/true);
  };
}

void Lane::Hold() {
  MutexLock lock(mu_);
  ++holds_;
}

void Lane::Release(bool predecessor_idle) {
  std::vector<std::shared_ptr<SubLane>> held;
  {
    MutexLock lock(mu_);
    if (predecessor_idle) predecessor_.reset();
    if (--holds_ > 0) return;
    held.swap(held_);
  }
  for (auto& sub : held) env_->pool().Schedule(std::move(sub));
}

SubLane* Lane::NewSubLaneLocked(std::string key) {
  auto sub = std::make_shared<SubLane>(shared_from_this(), std::move(key));
  SubLane* raw = sub.get();
  live_.emplace(raw, std::move(sub));
  return raw;
}

SubLane* Lane::SubLaneFor(const Message& m) {
  switch (spec_->ordering) {
    case Ordering::kPartition:
      if (!partition_lane_) partition_lane_ = NewSubLaneLocked("");
      return partition_lane_;
    case Ordering::kKey: {
      auto key = m.key();
      if (!key) {
        if (!null_key_lane_) null_key_lane_ = NewSubLaneLocked("");
        return null_key_lane_;
      }
      auto it = key_lanes_.find(std::string(*key));
      if (it != key_lanes_.end()) return it->second;
      SubLane* sub = NewSubLaneLocked(std::string(*key));
      key_lanes_.emplace(sub->key(), sub);
      return sub;
    }
    case Ordering::kUnordered:
      return NewSubLaneLocked("");
  }
  return nullptr;
}

void Lane::ForgetLocked(SubLane* sub) {
  if (partition_lane_ == sub) {
    partition_lane_ = nullptr;
  } else if (null_key_lane_ == sub) {
    null_key_lane_ = nullptr;
  } else if (spec_->ordering == Ordering::kKey) {
    auto it = key_lanes_.find(sub->key());
    if (it != key_lanes_.end() && it->second == sub) key_lanes_.erase(it);
  }
  NotifyIdleLocked();
  live_.erase(sub);  // may destroy `sub`: last
}

void Lane::NotifyIdleLocked() {
  idle_cv_.notify_all();
  if (on_idle_ && in_flight_ == 0 && HaltedLocked()) {
    auto wake_successor = std::move(on_idle_);
    on_idle_ = nullptr;
    wake_successor();
  }
}

bool Lane::Push(Message message) {
  std::vector<Message> one;
  one.push_back(std::move(message));
  return Push(one);
}

bool Lane::Push(std::vector<Message>& messages) {
  std::vector<std::shared_ptr<SubLane>> schedule;
  {
    MutexLock lock(mu_);
    if (revoked_.load() || stopped_.load()) {
      messages.clear();
      return false;
    }
    for (Message& m : messages) {
      const int64_t offset = m.offset().value();
      frontier_.Track(offset);
      // Completed by a previous owner (commit metadata): skip it.
      while (already_done_next_ < already_done_.size() && already_done_[already_done_next_] < offset) {
        ++already_done_next_;
      }
      if (already_done_next_ < already_done_.size() && already_done_[already_done_next_] == offset) {
        frontier_.Complete(offset);
        continue;
      }
      SubLane* sub = SubLaneFor(m);
      sub->OnLaneOf(this);
      buffered_bytes_ += m.size();
      ++buffered_;
      sub->queued_.push_back(std::move(m));
      if (sub->state_ == SubLane::State::kIdle) {
        sub->state_ = SubLane::State::kQueued;
        (holds_ > 0 ? held_ : schedule).push_back(live_.at(sub));
      }
    }
  }
  messages.clear();
  for (auto& sub : schedule) env_->pool().Schedule(std::move(sub));
  return true;
}

bool Lane::TryPause() {
  MutexLock lock(mu_);
  if (paused_.load()) return false;
  if (!stopped_.load() && !FullLocked()) return false;
  paused_.store(true);
  return true;
}

bool Lane::Full() const {
  MutexLock lock(mu_);
  return FullLocked();
}

bool Lane::FullLocked() const {
  return buffered_ >= env_->limits.max_messages || buffered_bytes_ >= env_->limits.max_bytes ||
         frontier_.span() >= static_cast<int64_t>(env_->limits.max_ahead);
}

bool Lane::HasRoom() const {
  MutexLock lock(mu_);
  return HasRoomLocked();
}

bool Lane::HasRoomLocked() const {
  const LaneLimits& l = env_->limits;
  return buffered_ <= l.max_messages / 2 && buffered_bytes_ <= l.max_bytes / 2 &&
         frontier_.span() <= static_cast<int64_t>(l.max_ahead / 2);
}

void Lane::DropQueuedLocked() {
  // Sub-lanes that are running finish their current step and then see the
  // lane halted; the others are dropped here with their messages.
  std::vector<SubLane*> waiting;
  for (auto& [raw, sub] : live_) {
    sub->OnLaneOf(this);
    if (sub->state_ == SubLane::State::kRunning || sub->state_ == SubLane::State::kAwaiting) {
      buffered_ -= sub->queued_.size();
      for (const Message& m : sub->queued_) buffered_bytes_ -= m.size();
      sub->queued_.clear();
    } else {
      waiting.push_back(sub.get());
    }
  }
  held_.clear();
  for (SubLane* sub : waiting) {
    sub->OnLaneOf(this);
    sub->AbandonLocked();
  }
}

void Lane::Revoke(bool drop_buffered) {
  // Handlers told first, outside the lock: a stop_callback runs here, on this thread.
  stop_.request_stop();
  MutexLock lock(mu_);
  drop_buffered_ = drop_buffered;
  revoked_ = true;
  if (drop_buffered) DropQueuedLocked();  // their offsets stay pending: the frontier stops at the first
  NotifyIdleLocked();
}

bool Lane::WaitIdle(Clock::time_point deadline) {
  MutexLock lock(mu_);
  while (!(in_flight_ == 0 && (drop_buffered_.load() || stopped_.load() || buffered_ == 0))) {
    if (!lock.WaitUntil(idle_cv_, deadline)) {
      return in_flight_ == 0 && (drop_buffered_.load() || stopped_.load() || buffered_ == 0);
    }
  }
  return true;
}

bool Lane::Idle() const {
  MutexLock lock(mu_);
  return in_flight_ == 0 && (HaltedLocked() || buffered_ == 0);
}

std::optional<Lane::Commit> Lane::Committable() const {
  std::optional<int64_t> offset;
  std::vector<int64_t> above;
  {
    MutexLock lock(mu_);
    offset = frontier_.Committable();
    if (!offset) return std::nullopt;
    above = frontier_.CompletedAbove();
  }
  return Commit{*offset, EncodeCompletions(*offset, above)};
}

void Lane::Committed(int64_t offset) {
  int64_t prev = committed_.load();
  while (offset > prev && !committed_.compare_exchange_weak(prev, offset)) {
  }
}

PartitionStats Lane::Snapshot() const {
  PartitionStats s;
  s.partition = tp_;
  s.generation = generation_;
  s.assigned_since = assigned_since_;
  s.committed = committed_.load();
  s.processed = processed_.load();
  s.failed = failed_.load();
  s.retried = retried_.load();
  s.dead_lettered = dead_lettered_.load();
  s.skipped = skipped_.load();
  s.paused = paused_.load();
  s.stopped = stopped_.load();
  s.latency = latency_.Snapshot();
  s.end_offset = high_watermark_.load();
  {
    MutexLock lock(mu_);
    s.frontier = frontier_.Committable().value_or(-1);
    s.queued = buffered_;
    s.in_flight = in_flight_;
  }
  // Lag as kafka-consumer-groups reports it: from the committed offset; before
  // the first commit, from where consumption starts.
  const int64_t from = s.committed >= 0 ? s.committed : s.frontier >= 0 ? s.frontier : low_watermark_.load();
  if (s.end_offset >= 0 && from >= 0) s.lag = std::max<int64_t>(0, s.end_offset - from);
  return s;
}

}  // namespace kstrand::runtime
