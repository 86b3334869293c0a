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

size_t MessageFifo::bytes() const {
  size_t total = 0;
  for (size_t i = head_; i < items_.size(); ++i) total += items_[i].size();
  return total;
}

void MessageFifo::TakeFront(size_t n, std::vector<Message>& out) {
  if (n == 0) return;
  if (head_ == 0 && n == items_.size() && out.empty()) {
    out.swap(items_);  // all of it, and the runner's spent buffer comes back for the next pushes
    return;
  }
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(items_[head_ + i]));
  head_ += n;
  if (head_ == items_.size()) {
    clear();
  } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
    // Reclaim the taken front once it is most of the buffer: O(1) per message.
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

bool SubLane::EnqueueLocked(Message m) {
  queued_.push_back(std::move(m));
  if (state_ != State::kIdle) return false;
  state_ = State::kQueued;
  return true;
}

void SubLane::HaltLocked() {
  if (state_ == State::kRunning || state_ == State::kAwaiting) {
    // Its runner finishes the current step, then finds the lane halted.
    lane_->DroppedLocked(0, queued_.size(), queued_.bytes());
    queued_.clear();
    return;
  }
  AbandonLocked();
}

bool SubLane::RunSome() {
  const TopicHandler& spec = lane_->spec();
  bool send_letters = false;
  bool wake = false;  // the poller, once the lock is released
  {
    MutexLock lock(lane_->mu());
    if (lane_->HaltedLocked()) {
      AbandonLocked();  // dead letters due too: the failed message stays uncommitted
      return false;
    }
    if (dead_letters_due_) {
      dead_letters_due_ = false;
      send_letters = true;
      state_ = State::kAwaiting;
    } else {
      if (running_.empty() && queued_.empty()) {
        state_ = State::kIdle;
        lane_->ForgetLocked(this);
        return false;
      }
      // Sync and batch handlers hold a worker while they run, so the pool bounds
      // them; an async message holds a permit, taken before the message so that
      // the lane's in-flight count holds only messages handed over.
      if (spec.async_handler && permits_ == 0) {
        if (!lane_->env().in_flight().TryAcquire(1, shared_from_this())) {
          state_ = State::kQueued;  // the limit schedules us again
          return false;
        }
        permits_ = 1;
      }
      if (running_.empty()) {
        size_t n = spec.async_handler ? 1
                   : spec.batch_handler ? lane_->env().limits.batch_max_messages
                                        : kSlice;
        n = std::min(n, queued_.size());
        queued_.TakeFront(n, running_);
        size_t bytes = 0;
        for (Message& m : running_) {
          bytes += m.size();
          m.SetContext(&context_);
        }
        wake = lane_->TookLocked(n, bytes);
      }
      state_ = spec.async_handler ? State::kAwaiting : State::kRunning;
      context_.attempt = attempts_ + 1;
    }
  }
  if (wake) lane_->env().WakePoller();
  if (send_letters) {
    SendToDeadLetters();
    return false;  // their delivery reports
  }
  if (spec.async_handler) {
    StartAsync();
    return false;  // the completion reports
  }
  size_t done = 0;
  std::optional<Status> failure;
  LaneCounters& counters = lane_->counters();
  if (spec.batch_handler) {
    const auto start = Clock::now();
    Status st = CatchAll([&] { return spec.batch_handler(std::span<const Message>(running_)); });
    counters.latency.Record(Clock::now() - start);
    if (st.ok()) done = running_.size();
    else failure = std::move(st);
  } else {
    for (; done < running_.size(); ++done) {
      // A revoked partition stops between messages; the rest stay uncommitted.
      if (lane_->state() >= LaneState::kDropping) break;
      const auto start = Clock::now();
      Status st = InvokeHandler(spec.handler, running_[done]);
      counters.latency.Record(Clock::now() - start);
      if (!st.ok()) {
        failure = std::move(st);
        break;
      }
      context_.attempt = 1;  // the slice's next message runs for the first time
    }
  }
  if (auto records = TakeProduced(done); !records.empty()) {
    SendThenReport(std::move(records), {Outcome::Source::kHandler, done, std::move(failure)});
    return false;  // the output's answer reports
  }
  return Report({Outcome::Source::kHandler, done, std::move(failure)});
}

bool SubLane::Report(Outcome outcome) {
  Next next = Next::kIdle;
  {
    MutexLock lock(lane_->mu());
    switch (outcome.source) {
      case Outcome::Source::kHandler:
        next = FinishLocked(outcome.done, std::move(outcome.failure));
        break;
      case Outcome::Source::kOutputFailed:
        // Transactional: the transaction is doomed (or the lane retired), not
        // the handler's failure; the runtime starts the partition again from
        // its last commit. Otherwise it fails the attempt of all of running_.
        next = lane_->env().output->transactional() ? AbandonLocked() : FinishLocked(0, std::move(outcome.failure));
        break;
      case Outcome::Source::kDeadLetters:
        next = LettersDeliveredLocked(outcome.failure);
        break;
    }
    if (next == Next::kDeadLetter) {
      // Sent by the next RunSome: this may run inside Output::Send.
      dead_letters_due_ = true;
      state_ = State::kQueued;
    }
  }
  return next != Next::kIdle;
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

void SubLane::SendThenReport(std::vector<OutputRecord> records, Outcome outcome) {
  auto admit = [this] { return !lane_->retired(); };
  auto report = [self = shared_from_this(), outcome = std::move(outcome)](Status sent) mutable {
    if (!sent.ok()) outcome = {Outcome::Source::kOutputFailed, 0, std::move(sent)};
    if (self->Report(std::move(outcome))) self->Schedule();
  };
  lane_->env().output->Send(std::move(records), admit, std::move(report));
}

void SubLane::StartAsync() {
  async_started_ = Clock::now();
  auto target = std::make_shared<AsyncCompletion>(shared_from_this());
  Status started = CatchAll([&] {
    lane_->spec().async_handler(running_.front(), Completion(target));
    return Status::Ok();
  });
  if (!started.ok()) target->Complete(std::move(started));  // ignored if the handler completed first
}

void SubLane::OnAsyncDone(Status status) {
  lane_->counters().latency.Record(Clock::now() - async_started_);
  const size_t done = status.ok() ? 1 : 0;
  std::optional<Status> failure;
  if (!status.ok()) failure = std::move(status);
  if (auto records = TakeProduced(done); !records.empty()) {
    return SendThenReport(std::move(records), {Outcome::Source::kHandler, done, std::nullopt});
  }
  if (Report({Outcome::Source::kHandler, done, std::move(failure)})) Schedule();
}

void SubLane::CompleteLocked(size_t n) {
  lane_->CompletedLocked(std::span<const Message>(running_.data(), n));
  running_.erase(running_.begin(), running_.begin() + static_cast<std::ptrdiff_t>(n));
}

SubLane::Next SubLane::FinishLocked(size_t done, std::optional<Status> failure) {
  if (permits_ > 0) lane_->env().in_flight().Release(permits_);
  permits_ = 0;
  CompleteLocked(done);
  LaneCounters& counters = lane_->counters();
  counters.processed.fetch_add(done);
  if (done > 0) attempts_ = 0;
  if (lane_->HaltedLocked()) return AbandonLocked();
  if (!failure) return ContinueLocked();

  const FailurePolicy& policy = lane_->spec().on_failure;
  const Message& first = running_.front();
  const std::string where = lane_->partition().ToString() + " offset " + std::to_string(first.offset().value());
  ++attempts_;
  using Action = FailureDecision::Action;
  const FailureDecision decision = DecideAfterFailure(policy, attempts_, *failure, BackoffJitter());
  if (decision.action == Action::kRetry) {
    counters.retried.fetch_add(1);
    const auto wait = decision.wait;
    spdlog::debug("{}: attempt {} of {} failed: {}; retrying in {} ms", where, attempts_, policy.max_attempts,
                 failure->ToString(), std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    state_ = State::kQueued;  // order holds: nothing behind it in this sub-lane runs meanwhile
    lane_->env().timers().After(wait, [self = shared_from_this()] { self->Schedule(); });
    return Next::kIdle;
  }
  // Out of attempts: a batch failed as a whole, so the policy applies to all of it.
  const size_t failed = lane_->spec().batch_handler ? running_.size() : 1;
  counters.failed.fetch_add(failed);
  letter_attempts_ = attempts_;
  attempts_ = 0;
  switch (decision.action) {
    case Action::kRetry:
      break;  // handled above
    case Action::kSkip:
      spdlog::error("{}: {}; skipped", where, failure->ToString());
      counters.skipped.fetch_add(failed);
      CompleteLocked(failed);
      return ContinueLocked();
    case Action::kDeadLetter:
      last_error_ = std::move(*failure);
      state_ = State::kAwaiting;
      return Next::kDeadLetter;
    case Action::kStopRuntime:
      lane_->env().RequestStop(Status(Errc::kHandlerFailed, where + ": " + failure->ToString()));
      [[fallthrough]];
    case Action::kStopPartition:
      // The failed message is never completed, so the frontier never passes it.
      spdlog::error("{}: {}; partition stopped, offset not committed", where, failure->ToString());
      lane_->StopLocked();
      return AbandonLocked();
  }
  return Next::kIdle;
}

SubLane::Next SubLane::LettersDeliveredLocked(const std::optional<Status>& failure) {
  const size_t n = lane_->spec().batch_handler ? running_.size() : 1;
  if (!failure) {
    // Complete even if the lane was revoked meanwhile: under exactly-once
    // the letters are in the transaction that commits this completion.
    lane_->counters().dead_lettered.fetch_add(n);
    CompleteLocked(n);
    return lane_->HaltedLocked() ? AbandonLocked() : ContinueLocked();
  }
  // Transactional: the transaction is doomed; the partition starts again from its last commit.
  if (lane_->HaltedLocked() || lane_->env().output->transactional()) return AbandonLocked();
  // Not in the dead-letter topic, so it must not count as done.
  spdlog::error("{} offset {}: dead-lettering failed: {}; partition stopped, offset not committed",
                lane_->partition().ToString(), running_.front().offset().value(), failure->ToString());
  lane_->StopLocked();
  return AbandonLocked();
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

SubLane::Next SubLane::AbandonLocked() {
  if (permits_ > 0) lane_->env().in_flight().Release(permits_);
  permits_ = 0;
  lane_->DroppedLocked(running_.size(), queued_.size(), queued_.bytes());
  running_.clear();
  queued_.clear();
  dead_letters_due_ = false;
  state_ = State::kIdle;
  lane_->ForgetLocked(this);  // may destroy this sub-lane: last
  return Next::kIdle;
}

void SubLane::SendToDeadLetters() {
  // running_ is ours (state kAwaiting): read it outside the lock, because
  // sending may wait for room in the producer's queue.
  const FailurePolicy& policy = lane_->spec().on_failure;
  const size_t n = lane_->spec().batch_handler ? running_.size() : 1;
  std::vector<OutputRecord> letters;
  for (size_t i = 0; i < n; ++i) {
    const Message& m = running_[i];
    OutputRecord r{policy.dead_letter_topic, m.key() ? std::optional<std::string>(*m.key()) : std::nullopt,
                   std::string(m.value())};
    for (auto& [name, value] : m.headers()) r.headers.emplace_back(name, value);
    r.headers.emplace_back("kstrand-source-topic", m.topic());
    r.headers.emplace_back("kstrand-source-partition", std::to_string(m.partition().value()));
    r.headers.emplace_back("kstrand-source-offset", std::to_string(m.offset().value()));
    r.headers.emplace_back("kstrand-error", last_error_.ToString());
    r.headers.emplace_back("kstrand-attempts", std::to_string(letter_attempts_));
    spdlog::warn("{} offset {}: {}; sending to dead-letter topic {}", lane_->partition().ToString(),
                 m.offset().value(), last_error_.ToString(), policy.dead_letter_topic);
    letters.push_back(std::move(r));
  }
  auto admit = [this] { return !lane_->retired(); };
  auto report = [self = shared_from_this()](Status sent) {
    std::optional<Status> failure;
    if (!sent.ok()) failure = std::move(sent);
    if (self->Report({Outcome::Source::kDeadLetters, 0, std::move(failure)})) self->Schedule();
  };
  lane_->env().output->Send(std::move(letters), admit, std::move(report));
}

}  // namespace kstrand::runtime
