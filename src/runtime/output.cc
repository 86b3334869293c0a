#include "runtime/output.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "kafka/error.h"

namespace kstrand::runtime {

namespace {
using Clock = std::chrono::steady_clock;
// A resumed abort (Reopen, the broker restarting) waits in slices this long,
// so that Interrupt is seen soon.
constexpr int kResumeSliceMs = 1000;
// How often a long wait for the broker says it still waits.
constexpr std::chrono::seconds kStillWaitingEvery{30};
const Status kClosed(Errc::kShuttingDown, "the runtime's producer is closed");
constexpr std::chrono::milliseconds kInitTransactionsAtLeast(60000);
// What a transactional call's error says, as the runtime reports it.
Status Exactly(const Status& st) { return Status(st.code(), "exactly-once: " + st.detail()); }
// Commits in a row that timed out before Reopen replaces the producer. After a
// broker restart librdkafka can be left unable to reach the group coordinator
// (a kafka-eos chaos replica failed every commit that way for minutes while the
// other replicas went on); a new producer starts from fresh connections and
// lookups. Three: one or two time out around any broker restart.
constexpr int kTimedOutCommitsBeforeRenewal = 3;

}  // namespace

Result<std::unique_ptr<Output>> Output::Create(kafka::Properties props, const std::string& transactional_id,
                                               int timeout_ms) {
  std::unique_ptr<Output> out(new Output(std::move(props), transactional_id, timeout_ms));
  if (!out->transactional_) return out;
  auto producer = out->StartTransactional();
  if (!producer.ok()) return producer.status();
  out->producer_ = std::move(producer.value());
  return out;
}

Result<std::unique_ptr<kafka::Producer>> Output::StartTransactional() const {
  kafka::Properties tx = props_;
  tx["transactional.id"] = transactional_id_;
  auto producer = kafka::Producer::Create(tx);
  if (!producer.ok()) return producer.status();
  kafka::Producer& p = **producer;
  // The broker answered already; registering can still meet a transaction
  // coordinator that is loading or moving (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
  // a fresh cluster creating __transaction_state, a broker restarting). Like
  // Java's initTransactions (max.block.ms 60 s), retriable errors are retried
  // for at least a minute rather than failing the start.
  // In slices (a timed-out init_transactions resumes where it was), so that
  // Interrupt ends a renewal waiting for a broker that does not answer.
  const auto started = Clock::now();
  const auto deadline = started + std::max(std::chrono::milliseconds(timeout_ms_), kInitTransactionsAtLeast);
  auto said = started - kStillWaitingEvery;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    auto init = p.InitTransactions(static_cast<int>(std::clamp<int64_t>(left, 1, kResumeSliceMs)));
    if (init.ok()) break;
    if (init.action != kafka::TxnAction::kRetry || Clock::now() >= deadline || interrupted_) {
      return Status(init.status.code(), "exactly-once: transactional.id " + transactional_id_ + ": " +
                                            init.status.detail());
    }
    if (Clock::now() - said >= kStillWaitingEvery) {
      said = Clock::now();
      spdlog::warn("exactly-once: transactional.id {}: {}; retrying", transactional_id_, init.status.detail());
    }
    if (!kafka::Is(init.status, RD_KAFKA_RESP_ERR__TIMED_OUT)) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (auto begun = p.BeginTransaction(); !begun.ok()) return Exactly(begun.status);
  return producer;
}

Output::~Output() { Close(); }

void Output::Gate::Share() {
  MutexLock lock(mu_);
  while (held_) lock.Wait(cv_);
  ++sharers_;
}

void Output::Gate::Unshare() {
  MutexLock lock(mu_);
  if (--sharers_ == 0) cv_.notify_all();
}

void Output::Gate::Hold() {
  MutexLock lock(mu_);
  while (held_) lock.Wait(cv_);
  held_ = true;  // from here no new sharer enters
  while (sharers_ != 0) lock.Wait(cv_);
}

void Output::Gate::Release() {
  MutexLock lock(mu_);
  held_ = false;
  cv_.notify_all();
}

Status Output::failure() const {
  MutexLock lock(state_mu_);
  if (closed_) return kClosed;
  return failed_;
}

Result<kafka::Producer*> Output::Producer() {
  std::lock_guard lock(create_mu_);
  if (!producer_) {
    auto created = kafka::Producer::Create(props_);
    if (!created.ok()) return created.status();
    producer_ = std::move(created.value());
  }
  return producer_.get();
}

void Output::Send(std::vector<OutputRecord> records, const std::function<bool()>& admit,
                  std::function<void(Status)> done) {
  // Transactional: shared until `done` returned, so Commit cannot slip between
  // the records entering the transaction and their message being marked complete.
  Shared shared(gate_);
  if (Status st = failure(); !st.ok()) return done(st);
  if (transactional_) {
    if (!admit()) return done(Status(Errc::kFenced, "partition revoked"));
    records_in_transaction_ = true;
    for (const auto& r : records) {
      // Delivery errors surface when the transaction commits.
      if (Status st = producer_->Produce(r.topic, r.key, kafka::ValueOf(r), r.headers, r.partition); !st.ok()) {
        // Part of the message's records may be in the transaction: only an
        // abort keeps them from being seen. Commit aborts when it finds failed_.
        Status failed(st.code(), "exactly-once: " + st.detail());
        {
          MutexLock lock(state_mu_);
          if (failed_.ok()) failed_ = failed;
        }
        return done(failed);
      }
    }
    return done(Status::Ok());
  }

  auto producer = Producer();
  if (!producer.ok()) return done(producer.status());
  if (!admit()) return done(Status(Errc::kFenced, "partition revoked"));
  struct Pending {
    Pending(size_t n, std::function<void(Status)> d) : left(n), done(std::move(d)) {}
    std::atomic<size_t> left;
    std::mutex mu;
    Status first_error;  // guarded by mu
    std::function<void(Status)> done;
  };
  // One extra count for the enqueueing itself, released below, so `done`
  // cannot run before every record was handed over.
  auto pending = std::make_shared<Pending>(records.size() + 1, std::move(done));
  auto arrived = [pending](Status st, kafka::Producer::Delivered = {}) {
    if (!st.ok()) {
      std::lock_guard plock(pending->mu);
      if (pending->first_error.ok()) pending->first_error = std::move(st);
    }
    if (pending->left.fetch_sub(1) != 1) return;
    Status outcome;
    {
      std::lock_guard plock(pending->mu);
      outcome = pending->first_error;
    }
    pending->done(std::move(outcome));
  };
  for (const auto& r : records) {
    Status st = (*producer)->ProduceAsync(r.topic, r.key, kafka::ValueOf(r), r.headers, arrived, r.partition);
    if (!st.ok()) arrived(std::move(st));  // no delivery report will come for it
  }
  arrived(Status::Ok());
}

Status Output::Transact(const std::function<kafka::Producer::TxnResult()>& call, Clock::time_point deadline) {
  for (;;) {
    kafka::Producer::TxnResult result = call();
    if (result.ok()) return Status::Ok();
    const kafka::TxnAction action = result.action;
    if (action == kafka::TxnAction::kRenewProducer || action == kafka::TxnAction::kStop) fatal_ = true;
    Status st = Exactly(result.status);
    if (action != kafka::TxnAction::kRetry || Clock::now() >= deadline) {
      AbortLocked(st);
      return st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Output::AbortLocked(Status why, int call_ms, bool until_done) {
  {
    MutexLock lock(state_mu_);
    if (failed_.ok()) failed_ = std::move(why);
  }
  if (!producer_ || (aborted_ && !abort_unfinished_)) return;
  aborted_ = true;
  // Fatal errors (fenced by a newer producer with our id) cannot abort; the
  // broker aborts on its own then. A timed-out abort goes on in the
  // background and must be called again to finish: a transaction begun
  // before it has would fail ("Conflicting abort_transaction API call is
  // already in progress"), so a caller about to begin one resumes it.
  const auto started = Clock::now();
  auto said = started;
  for (;;) {
    auto aborted = producer_->AbortTransaction(abort_unfinished_ && until_done ? kResumeSliceMs : call_ms);
    const bool was_unfinished = abort_unfinished_;
    abort_unfinished_ = !aborted.ok() && aborted.action == kafka::TxnAction::kRetry;
    if (aborted.ok()) {
      if (was_unfinished) {
        spdlog::info("exactly-once: the abort finished after {} s",
                     std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count());
      }
      return;
    }
    const bool resume = abort_unfinished_ && until_done && !interrupted_;
    if (!was_unfinished || !resume || Clock::now() - said >= kStillWaitingEvery) {
      said = Clock::now();
      spdlog::warn("exactly-once: {}{}", aborted.status.detail(),
                   resume ? "; waiting for the broker to finish it (" +
                                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(said - started).count()) +
                                " s so far)"
                          : "");
    }
    if (!resume) return;
  }
}

Result<kafka::TopicPartitionListPtr> Output::Commit(rd_kafka_t* consumer,
                                                    const std::function<kafka::TopicPartitionListPtr()>& offsets,
                                                    int timeout_ms) {
  Alone alone(gate_);
  if (Status st = failure(); !st.ok()) {
    AbortLocked(st);  // a Send that failed half-way may have left records to undo
    return st;
  }
  kafka::TopicPartitionListPtr list = offsets();
  const bool has_offsets = list && list->cnt > 0;
  if (!has_offsets && !records_in_transaction_) return kafka::TopicPartitionListPtr();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  kafka::Producer& p = *producer_;
  Status st = Status::Ok();
  if (has_offsets) st = Transact([&] { return p.SendOffsetsToTransaction(list.get(), consumer, timeout_ms); }, deadline);
  if (st.ok()) st = Transact([&] { return p.CommitTransaction(timeout_ms); }, deadline);
  const bool timed_out = st.code().category() == kafka_category() &&
                         kafka::IsTimedOut(static_cast<rd_kafka_resp_err_t>(st.code().value()));
  timed_out_commits_ = timed_out ? timed_out_commits_ + 1 : 0;
  if (!st.ok()) return st;
  records_in_transaction_ = false;
  if (auto begun = p.BeginTransaction(); !begun.ok()) {
    fatal_ = begun.action == kafka::TxnAction::kRenewProducer || begun.action == kafka::TxnAction::kStop;
    Status st = Exactly(begun.status);
    MutexLock lock(state_mu_);
    failed_ = st;
    aborted_ = true;  // nothing is open to abort
    return st;
  }
  return list;
}

void Output::Abort(const std::string& why) {
  Alone alone(gate_);
  if (transactional_ && failure().code() != make_error_code(Errc::kShuttingDown)) {
    AbortLocked(Status(Errc::kFenced, why));
  }
}

Status Output::Reopen() {
  Alone alone(gate_);
  Status failed = failure();
  if (failed.ok()) return Status::Ok();
  if (failed.code() == make_error_code(Errc::kShuttingDown) || !producer_) return failed;
  if (!fatal_) {
    AbortLocked(failed, kAbortCallMs, /*until_done=*/true);  // a Send that failed half-way left it open
    if (abort_unfinished_) {
      return Status(Errc::kShuttingDown, "exactly-once: stopped while the broker had not finished aborting the "
                                         "transaction (after: " + failed.detail() + ")");
    }
    if (auto begun = producer_->BeginTransaction(); !begun.ok()) {
      if (begun.action != kafka::TxnAction::kRenewProducer && begun.action != kafka::TxnAction::kStop) {
        return Exactly(begun.status);
      }
      fatal_ = true;
    }
  }
  if (!fatal_ && timed_out_commits_ >= kTimedOutCommitsBeforeRenewal) {
    spdlog::warn("exactly-once: {} commits in a row timed out (the last: {})", timed_out_commits_, failed.detail());
    fatal_ = true;
  }
  if (fatal_) KSTRAND_RETURN_IF_ERROR(RenewLocked());
  MutexLock lock(state_mu_);
  failed_ = Status::Ok();
  aborted_ = false;
  abort_unfinished_ = false;
  records_in_transaction_ = false;
  return Status::Ok();
}

Status Output::RenewLocked() {
  const kafka::Producer::TxnResult fatal = producer_->FatalError();
  if (fatal.action == kafka::TxnAction::kStop) return Exactly(fatal.status);
  // A new producer's registration bumps the epoch and has the coordinator
  // abort what the old one left open; the runtime has rewound every
  // partition to its committed offset already.
  spdlog::warn("exactly-once: {}; starting a new producer with transactional.id {}",
               fatal.ok() ? "the transaction cannot go on" : fatal.status.detail(), transactional_id_);
  // Nothing it holds may be delivered: its transaction is over.
  producer_->Purge();
  producer_.reset();
  auto renewed = StartTransactional();
  if (!renewed.ok()) return renewed.status();  // Send and Commit refuse without a producer: failed_ stays set
  producer_ = std::move(renewed.value());
  fatal_ = false;
  timed_out_commits_ = 0;
  renewals_++;
  return Status::Ok();
}

void Output::Close(int flush_ms) {
  Alone alone(gate_);
  {
    MutexLock lock(state_mu_);
    if (closed_) return;
    closed_ = true;
  }
  if (!producer_) return;
  if (transactional_) {
    // Whatever mattered was committed before the runtime stopped; what is
    // open now belongs to no committed offset.
    // Within the shutdown's deadline: the broker aborts what is left open when
    // the transaction times out, or when the next producer with our id registers.
    AbortLocked(Status(Errc::kShuttingDown, "closing"), std::max(flush_ms, 100));
  } else if (Status st = producer_->Flush(flush_ms); !st.ok()) {
    spdlog::warn("producer: {}", st.ToString());
    // Fail what is still undelivered now, so the destructor's flush only
    // serves their reports instead of waiting again for a dead broker.
    producer_->Purge();
  }
  // Destroyed here, not by a delivery callback's last reference to a lane.
  producer_.reset();
}

}  // namespace kstrand::runtime
