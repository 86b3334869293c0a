#include "runtime/state_binding.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kafka/error.h"

namespace kstrand::runtime {

namespace {
// Bound on reading a table partition's end offset at assignment.
constexpr int kEndOffsetTimeoutMs = 5000;
}  // namespace

Result<std::unique_ptr<StateBinding>> StateBinding::Create(const RuntimeConfig& config, const Specs& specs,
                                                           kafka::Consumer& consumer,
                                                           const std::vector<kafka::TopicInfo>& topics,
                                                           std::function<void(Status)> request_stop, int timeout_ms) {
  std::unique_ptr<StateBinding> state(new StateBinding(config, specs, consumer, request_stop));
  auto find = [&](const std::string& name) -> const kafka::TopicInfo* {
    auto it = std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.name == name; });
    return it == topics.end() ? nullptr : &*it;
  };
  std::vector<std::pair<Store::Impl*, std::string>> bindings;
  for (const auto& t : config.topics) {
    const int partitions = static_cast<int>(find(t.topic)->partitions.size());  // Start checked it exists
    for (const auto& store : t.stores) {
      const std::string changelog = config.group_id + "-" + store->name() + "-changelog";
      const std::string needs = "compacted, with " + std::to_string(partitions) + " partitions as " + t.topic + " has";
      if (const auto* found = find(changelog)) {
        if (static_cast<int>(found->partitions.size()) != partitions) {
          return Status(Errc::kInvalidArgument, "changelog topic " + changelog + " of store " + store->name() +
                                                    " has " + std::to_string(found->partitions.size()) +
                                                    " partitions; it must be " + needs);
        }
      } else {
        Status created =
            kafka::CreateTopic(consumer.handle(), changelog, partitions, -1, timeout_ms,
                               {{"cleanup.policy", "compact"}});
        if (!created.ok() && !kafka::Is(created, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) {
          return Status(Errc::kNotFound, "changelog topic " + changelog + " of store " + store->name() +
                                             " does not exist and could not be created (" + created.ToString() +
                                             "); create it " + needs);
        }
      }
      bindings.emplace_back(&store->impl(), changelog);
    }
  }
  if (bindings.empty()) return state;
  auto props = kafka::ConnectionProperties(config.brokers, config.kafka, config.name + "-changelog");
  props["linger.ms"] = "0";  // a handler waits for each write's acknowledgement
  auto producer = kafka::Producer::Create(props);
  if (!producer.ok()) return producer.status();
  state->changelog_producer_ = std::move(producer.value());
  for (auto& [store, changelog] : bindings) store->Bind(changelog, state->changelog_producer_.get());
  auto started = Restorer::Start(kafka::ConnectionProperties(config.brokers, config.kafka, config.name + "-restorer"),
                                 std::move(request_stop));
  if (!started.ok()) return started.status();
  state->restorer_ = std::move(started.value());
  return state;
}

Table::Impl* StateBinding::TableOf(const std::string& topic) const {
  auto it = specs_.find(topic);
  return it != specs_.end() && it->second->table ? &it->second->table->impl() : nullptr;
}

bool StateBinding::IsTable(const std::string& topic) const { return TableOf(topic) != nullptr; }

void StateBinding::AssignTables(rd_kafka_topic_partition_list_t* partitions,
                                std::map<TopicPartition, std::vector<int64_t>>& already_done) {
  for (int i = 0; i < partitions->cnt; ++i) {
    auto& e = partitions->elems[i];
    Table::Impl* table = TableOf(e.topic);
    if (!table) continue;
    const TopicPartition tp{e.topic, Partition(e.partition)};
    already_done.erase(tp);
    auto start = table->Assign(tp.partition);
    if (!start.ok()) {
      // Without its store the partition cannot be served; stopping beats
      // answering from a table that silently misses it.
      request_stop_(Status(start.status().code(),
                           "table " + table->name() + " " + tp.ToString() + ": " + start.status().detail()));
      continue;
    }
    e.offset = start.value();
    int64_t low = -1, high = -1;
    // One request per partition, bounded; on failure the first watermark the
    // consumer caches becomes the target (CheckRestores).
    if (rd_kafka_resp_err_t err = consumer_.QueryWatermarks(e.topic, e.partition, &low, &high, kEndOffsetTimeoutMs)) {
      spdlog::warn("{}: {}: reading the end offset: {}", config_.name, tp.ToString(), rd_kafka_err2str(err));
      continue;
    }
    auto trusted = table->TrustOrRebuild(tp.partition, start.value(), low, high,
                                         config_.name + ": table " + table->name() + " " + tp.ToString());
    if (!trusted.ok()) {
      request_stop_(Status(trusted.status().code(),
                           "table " + table->name() + " " + tp.ToString() + ": " + trusted.status().detail()));
      continue;
    }
    e.offset = trusted.value();
    table->SetRestoreTarget(tp.partition, high);
    spdlog::info("{}: table {} {}: restoring from offset {} to {}", config_.name, table->name(), tp.ToString(),
                 e.offset < 0 ? 0 : e.offset, high);
  }
}

void StateBinding::AssignStores(const std::shared_ptr<Lane>& lane) {
  auto spec = specs_.find(lane->partition().topic);
  if (spec == specs_.end()) return;
  const Partition p = lane->partition().partition;
  for (const auto& store : spec->second->stores) {
    auto start = store->impl().Assign(p);
    if (!start.ok()) {
      request_stop_(Status(start.status().code(), "store " + store->name() + " " + lane->partition().ToString() +
                                                      ": " + start.status().detail()));
      continue;
    }
    lane->Hold();
    restorer_->Enqueue(store->impl(), p, start.value(), lane);
  }
}

void StateBinding::RevokeTables(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    if (Table::Impl* table = TableOf(tp.topic)) table->Revoke(tp.partition);
  }
}

void StateBinding::RevokeStores(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    auto spec = specs_.find(tp.topic);
    if (spec == specs_.end()) continue;
    for (const auto& store : spec->second->stores) store->impl().Revoke(tp.partition);
  }
}

void StateBinding::CheckRestores() {
  for (const auto& [topic, spec] : specs_) {
    if (!spec->table) continue;
    Table::Impl& table = spec->table->impl();
    for (Partition p : table.Restoring()) {
      if (table.NeedsRestoreTarget(p)) {
        int64_t low = -1, high = -1;
        if (consumer_.CachedWatermarks(topic, p.value(), &low, &high) && high >= 0) table.SetRestoreTarget(p, high);
      }
      if (int64_t position = consumer_.Position(topic, p.value()); position >= 0) table.PositionReached(p, position);
    }
  }
}

}  // namespace kstrand::runtime
