// Output: the runtime's one producer, for the records handlers produce
// (Message::Produce) and for dead letters.
//
// At-least-once and at-most-once: an idempotent producer, created on first
// use. Send() calls `done` once every record is acknowledged (or one failed),
// on the producer's delivery thread.
//
// Exactly-once: a transactional producer with one transaction open at a time.
// Send() enqueues the records into the open transaction and calls `done` at
// once, on the calling thread, while holding the transaction open (sharing a
// gate). Commit(), on the poll thread, holds that gate alone, so it sees
// no Send between enqueuing its records and `done` marking their message
// complete: every record in a transaction belongs to a message whose
// completion the same transaction commits, and the other way round. A
// transaction whose commit failed is aborted and the Output refuses further
// work until Reopen(): the lanes have marked complete what the abort undid, so
// the runtime first starts every partition again from its committed offset.
//
// Thread safety: Send from any thread; Commit and Close from one thread (the
// poll thread, then the stopping thread).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "kafka/client.h"
#include "kafka/handles.h"
#include "kafka/producer.h"
#include "kstrand/message.h"
#include "kstrand/status.h"

namespace kstrand::runtime {

class Output {
 public:
  // `transactional_id` empty: not transactional. A transactional Output
  // registers its id with the broker (fencing an earlier producer with the same
  // id and aborting what that one left open) before returning.
  static Result<std::unique_ptr<Output>> Create(kafka::Properties props, const std::string& transactional_id,
                                                int timeout_ms);
  ~Output();

  bool transactional() const { return transactional_; }

  // Sends `records` unless `admit()` (called just before) says no, in which
  // case `done` gets kFenced and nothing is sent. `done` runs exactly once.
  void Send(std::vector<OutputRecord> records, const std::function<bool()>& admit,
            std::function<void(Status)> done);

  // Exactly-once: commits the open transaction with the offsets `offsets()`
  // builds (called with the gate held alone; may return an empty list, and
  // then nothing is committed unless records were sent), then opens the next.
  // Errors that need an abort abort it and leave the Output failed.
  // Returns the offsets committed (null if nothing was).
  Result<kafka::TopicPartitionListPtr> Commit(rd_kafka_t* consumer,
                                              const std::function<kafka::TopicPartitionListPtr()>& offsets,
                                              int timeout_ms);
  // Exactly-once: aborts the open transaction (its records are never seen by
  // read_committed readers) and leaves the Output failed.
  void Abort(const std::string& why);
  // Exactly-once, after a failure: opens a new transaction. An abort still
  // unfinished (the broker does not answer: it is restarting, or gone for a
  // while) is waited for as long as that takes, until Interrupt. A producer that
  // librdkafka declared unable to go on, or whose last three commits timed out,
  // is replaced by a new one with the same transactional.id, unless it was
  // fenced (a newer instance owns the id now): then, or if the new one cannot
  // register, Reopen fails.
  Status Reopen();
  // From any thread: a Reopen waiting for the broker gives up within a second
  // (and fails), so that a shutdown is not held by a broker that does not answer.
  void Interrupt() { interrupted_ = true; }
  // How many times Reopen replaced the producer.
  int renewals() const { return renewals_.load(); }

  // Waits for deliveries (not transactional) or aborts what is open
  // (transactional: everything that mattered was committed), then stops the
  // producer. Send afterwards gets kShuttingDown.
  void Close(int flush_ms = 10000);

 private:
  Output(kafka::Properties props, std::string transactional_id, int timeout_ms)
      : props_(std::move(props)),
        transactional_id_(std::move(transactional_id)),
        transactional_(!transactional_id_.empty()),
        timeout_ms_(timeout_ms) {}
  Result<kafka::Producer*> Producer();  // creates it on first use (not transactional)
  // A transactional producer, registered (fencing earlier ones with the id)
  // and with a transaction open.
  Result<std::unique_ptr<kafka::Producer>> StartTransactional() const;
  // Replaces a producer in a fatal state by a new one, unless another instance
  // fenced it (kafka::Producer::FatalError tells).
  // Requires the gate held alone.
  Status RenewLocked() REQUIRES(gate_);
  // Handles a failed transactional call: retriable errors repeat `call` until
  // `deadline`; the rest abort the transaction and fail the Output. Requires
  // the gate held alone.
  Status Transact(const std::function<kafka::Producer::TxnResult()>& call,
                  std::chrono::steady_clock::time_point deadline) REQUIRES(gate_);
  // Fails the Output with `why` (unless it failed already) and aborts the
  // open transaction once, waiting up to `call_ms`. A timed-out abort goes on
  // inside librdkafka; with `until_done` it is resumed until it ends or
  // Interrupt is called. Requires the gate held alone.
  static constexpr int kAbortCallMs = 10000;
  void AbortLocked(Status why, int call_ms = kAbortCallMs, bool until_done = false) REQUIRES(gate_);

  // Send shares it; Commit, Abort and Close hold it alone. A holder-alone that
  // waits goes first: std::shared_mutex (glibc's rwlock) prefers sharers, and a
  // steady stream of sends could hold a commit off for good.
  class CAPABILITY("gate") Gate {
   public:
    void Share() ACQUIRE_SHARED() EXCLUDES(mu_);
    void Unshare() RELEASE_SHARED() EXCLUDES(mu_);
    void Hold() ACQUIRE() EXCLUDES(mu_);
    void Release() RELEASE() EXCLUDES(mu_);

   private:
    Mutex mu_;
    std::condition_variable cv_;
    int sharers_ GUARDED_BY(mu_) = 0;
    bool held_ GUARDED_BY(mu_) = false;  // held alone, or waited for
  };
  class SCOPED_CAPABILITY Shared {
   public:
    explicit Shared(Gate& g) ACQUIRE_SHARED(g) : gate_(g) { gate_.Share(); }
    ~Shared() RELEASE() { gate_.Unshare(); }

   private:
    Gate& gate_;
  };
  class SCOPED_CAPABILITY Alone {
   public:
    explicit Alone(Gate& g) ACQUIRE(g) : gate_(g) { gate_.Hold(); }
    ~Alone() RELEASE() { gate_.Release(); }

   private:
    Gate& gate_;
  };

  Status failure() const EXCLUDES(state_mu_);

  const kafka::Properties props_;
  const std::string transactional_id_;
  const bool transactional_;
  const int timeout_ms_;  // registering a transactional producer waits at least this long
  // Transactional: Send shares it from its first record until `done`
  // returned. Not transactional: Close waits for Sends still enqueueing.
  Gate gate_;
  std::mutex create_mu_;                       // not transactional: the first Send creates the producer
  std::unique_ptr<kafka::Producer> producer_;  // set under create_mu_ (or at Create, or alone by Reopen); reset by Close, alone
  mutable Mutex state_mu_;
  Status failed_ GUARDED_BY(state_mu_);  // an abort, or a Send that failed half-way
  bool closed_ GUARDED_BY(state_mu_) = false;
  bool aborted_ GUARDED_BY(gate_) = false;  // the open transaction was aborted (or none is open)
  // An abort that timed out (a broker restarting) goes on inside librdkafka
  // and must be called again to finish, even though aborted_ is set.
  bool abort_unfinished_ GUARDED_BY(gate_) = false;
  bool fatal_ GUARDED_BY(gate_) = false;    // librdkafka said the producer cannot go on
  int timed_out_commits_ GUARDED_BY(gate_) = 0;  // commits in a row that timed out (Reopen renews at 3)
  // Transactional: records were enqueued since the last commit (set while
  // shared, read and cleared alone).
  std::atomic<bool> records_in_transaction_{false};
  std::atomic<int> renewals_{0};
  std::atomic<bool> interrupted_{false};
};

}  // namespace kstrand::runtime
