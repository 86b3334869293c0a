// Restorer: replays stores' changelogs off the poll thread. When a partition
// of a topic with stores is assigned, the poll thread opens each store's
// partition, holds the partition's lane (Lane::Hold) and queues a job; the
// restorer reads the changelog partition from the store's applied offset to
// the end offset it finds, applies it, and releases the lane, so the handler
// never sees a message before its stores caught up. A job whose lane was
// revoked meanwhile stops early and releases nothing (the lane is gone).
//
// Thread safety: Enqueue from any thread; one thread runs the jobs in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "base/mutex.h"
#include <thread>

#include "kafka/client.h"
#include "kafka/reader.h"
#include "kstrand/status.h"
#include "runtime/lane.h"
#include "state/table.h"

namespace kstrand::runtime {

class Restorer {
 public:
  // `props`: connection properties for its group-less changelog reader.
  // `on_error` runs on the restorer thread when a changelog cannot be read:
  // the partition cannot be served, so the runtime stops.
  static Result<std::unique_ptr<Restorer>> Start(kafka::Properties props, std::function<void(Status)> on_error);
  ~Restorer();  // stops: the job in progress ends at its next batch

  // `start`: where the store's partition continues (PartitionSlots::Assign).
  void Enqueue(Store::Impl& store, Partition partition, int64_t start, std::shared_ptr<Lane> lane);

 private:
  struct Job {
    Store::Impl* store;
    Partition partition;
    int64_t start;
    std::shared_ptr<Lane> lane;
  };
  Restorer(std::unique_ptr<kafka::Reader> reader, std::function<void(Status)> on_error);
  void Run();
  Status Restore(const Job& job);

  const std::unique_ptr<kafka::Reader> reader_;
  const std::function<void(Status)> on_error_;
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;    // last: starts after everything above exists
};

}  // namespace kstrand::runtime
