// StateBinding: the runtime's stores and tables bound to its partitions. The
// runtime tells it what was assigned and revoked; it opens and closes the
// stores' and tables' partitions, has the restorer replay changelogs
// (restorer.h), and is the only part of the runtime that sees Store::Impl and
// Table::Impl.
//
//   assigned   AssignTables (before the lanes exist: a table's partition
//              starts where its store stopped), then AssignStores per lane
//              (holds the lane until its stores caught up)
//   revoked    RevokeTables at once (readers stop answering for them), then
//              RevokeStores after the lanes drained (their handlers no
//              longer write)
//   each tick  CheckRestores
//
// Thread safety: the poll thread (Create on Start's thread, before it runs).
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kstrand/config.h"
#include "kstrand/status.h"
#include "runtime/lane.h"
#include "runtime/restorer.h"

namespace kstrand::runtime {

class StateBinding {
 public:
  using Specs = std::unordered_map<std::string, std::shared_ptr<const TopicHandler>>;

  // Each store's changelog topic exists with its input topic's partition
  // count (created compacted where the broker allows; `topics` as the broker
  // described them); binds the stores to it and starts the restorer.
  // `consumer` outlives this. `request_stop` stops the runtime when a
  // partition's state cannot be had (it cannot be served).
  static Result<std::unique_ptr<StateBinding>> Create(const RuntimeConfig& config, const Specs& specs,
                                                      kafka::Consumer& consumer,
                                                      const std::vector<kafka::TopicInfo>& topics,
                                                      std::function<void(Status)> request_stop, int timeout_ms);

  // A table's topic: its partitions keep their own positions (a rewind leaves them).
  bool IsTable(const std::string& topic) const;
  // Tables' partitions start where their stores stopped, not at the committed
  // offset (sets their offsets in `partitions`); their restore target is the
  // end offset now. Completions above the committed offset mean nothing to a
  // table: its entries leave `already_done`.
  void AssignTables(rd_kafka_topic_partition_list_t* partitions,
                    std::map<TopicPartition, std::vector<int64_t>>& already_done);
  // Opens the partition's stores, holds its lane and queues the restores.
  void AssignStores(const std::shared_ptr<Lane>& lane);
  void RevokeTables(const std::vector<TopicPartition>& partitions);
  void RevokeStores(const std::vector<TopicPartition>& partitions);
  // Restoring tables whose position reached the end offset are caught up
  // (the last offsets may hold no record).
  void CheckRestores();
  // Stops the restorer (the job in progress ends at its next batch); the
  // stores stay bound to the changelog producer.
  void StopRestoring() { restorer_.reset(); }

 private:
  StateBinding(const RuntimeConfig& config, const Specs& specs, kafka::Consumer& consumer,
               std::function<void(Status)> request_stop)
      : config_(config), specs_(specs), consumer_(consumer), request_stop_(std::move(request_stop)) {}
  Table::Impl* TableOf(const std::string& topic) const;

  const RuntimeConfig& config_;
  const Specs& specs_;
  kafka::Consumer& consumer_;
  const std::function<void(Status)> request_stop_;
  // Stores' changelog writes; null when no topic has stores.
  std::unique_ptr<kafka::Producer> changelog_producer_;
  std::unique_ptr<Restorer> restorer_;
};

}  // namespace kstrand::runtime
