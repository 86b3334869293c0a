#include "runtime/sub_lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <random>

#include "runtime/failure_decision.h"

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

}  // namespace kstrand::runtime
