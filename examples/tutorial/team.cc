#include "tutorial/team.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <thread>

namespace kstrand::tutorial {

bool Filter::Matches(const NewUser& user) const {
  if (!countries.empty() && std::find(countries.begin(), countries.end(), user.country) == countries.end()) {
    return false;
  }
  return user.age >= min_age;
}

std::string Filter::Describe() const {
  std::string out;
  if (!countries.empty()) {
    out = "country in {";
    for (size_t i = 0; i < countries.size(); ++i) out += (i ? "," : "") + countries[i];
    out += "}";
  }
  if (min_age > 0) out += (out.empty() ? "" : " and ") + std::string("age >= ") + std::to_string(min_age);
  return out.empty() ? "every user" : out;
}

TeamProcessor::TeamProcessor(Options options, Producer* producer, const GlobalTable* table)
    : options_(std::move(options)), producer_(producer), table_(table) {
  totals_.team = options_.team;
}

void TeamProcessor::Configure(RuntimeConfig& config, const std::string& topic) {
  TopicHandler handler;
  handler.topic = topic;
  handler.batch_handler = [this](std::span<const Message> batch) { return HandleBatch(batch); };
  handler.ordering = Ordering::kPartition;
  // A failed forward or counter write (broker away) is retried; if it keeps
  // failing the partition stops uncommitted rather than losing counts.
  handler.on_failure = {.max_attempts = 10,
                        .backoff = std::chrono::milliseconds(500),
                        .max_backoff = std::chrono::milliseconds(5000),
                        .then = FailureAction::kStopPartition};
  std::erase_if(config.topics, [&](const TopicHandler& t) { return t.topic == topic; });
  config.topics.push_back(std::move(handler));
  config.on_rebalance = [this, previous = std::move(config.on_rebalance)](const RebalanceEvent& event) {
    if (previous) previous(event);
    OnRebalance(event);
  };
}

std::shared_ptr<TeamProcessor::PartitionState> TeamProcessor::StateFor(int32_t partition) {
  std::lock_guard lock(mu_);
  auto& state = partitions_[partition];
  if (!state) {
    state = std::make_shared<PartitionState>();
    state->counters.team = options_.team;
    state->counters.partition = partition;
  }
  return state;
}

void TeamProcessor::OnRebalance(const RebalanceEvent& event) {
  if (event.kind == RebalanceKind::kAssigned) return;  // restored lazily, off the poll thread
  // A partition that left may come back after another instance counted more
  // of it: forget it, so the next assignment restores the latest record.
  std::lock_guard lock(mu_);
  for (const auto& tp : event.partitions) partitions_.erase(tp.partition.value());
}

Status TeamProcessor::Restore(int32_t partition, PartitionState& state) {
  if (!table_->WaitCaughtUp(options_.restore_timeout)) {
    return Status(Errc::kTimedOut, "restoring counters of partition " + std::to_string(partition) + ": " +
                                       options_.counters_topic + " not read to its end within the timeout");
  }
  TeamCounters restored;
  const std::string key = CounterKey(options_.team, partition);
  if (auto stored = table_->Get(key)) {
    auto decoded = DecodeCounters(*stored);
    if (decoded.ok()) {
      restored = std::move(decoded.value());
      spdlog::info("{}: partition {} restored: {} seen, {} matched, {} invalid, counted up to offset {}",
                   options_.team, partition, restored.seen, restored.matched, restored.invalid,
                   restored.next_offset);
    } else {
      // Someone wrote garbage under our key; counting on from zero beats stopping the team.
      spdlog::warn("{}: partition {}: ignoring unreadable record {} in {}: {}", options_.team, partition, key,
                   options_.counters_topic, decoded.status().detail());
    }
  }
  restored.team = options_.team;
  restored.partition = partition;
  std::lock_guard lock(mu_);
  state.counters = std::move(restored);
  state.restored = true;
  return Status::Ok();
}

Status TeamProcessor::ProduceAll(const std::string& topic,
                                 const std::vector<std::pair<std::string, std::string>>& records) {
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;
  Status first;
  for (const auto& [key, value] : records) {
    {
      std::lock_guard lock(mu);
      ++pending;
    }
    Status st = producer_->SendAsync({.topic = topic, .key = key, .value = value},
                                     [&](Result<RecordPosition> delivered) {
      std::lock_guard lock(mu);
      if (!delivered.ok() && first.ok()) first = delivered.status();
      --pending;
      cv.notify_all();
    });
    if (!st.ok()) {
      std::lock_guard lock(mu);
      --pending;
      if (first.ok()) first = st;
      break;
    }
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  return first;
}

Status TeamProcessor::HandleBatch(std::span<const Message> batch) {
  if (batch.empty()) return Status::Ok();
  const int32_t partition = batch.front().partition().value();
  std::shared_ptr<PartitionState> state = StateFor(partition);
  if (options_.count && !state->restored) KSTRAND_RETURN_IF_ERROR(Restore(partition, *state));

  // Work on a copy: if a forward or the counter write fails, the batch is
  // retried from the same counters.
  TeamCounters next = state->counters;
  TeamCounters delta;
  std::vector<std::pair<std::string, std::string>> matches;
  uint64_t replays = 0;
  for (const Message& m : batch) {
    if (options_.count && m.offset().value() < next.next_offset) {
      ++replays;  // counted (and forwarded) before a restart
      continue;
    }
    if (options_.work.count() > 0) std::this_thread::sleep_for(options_.work);
    auto user = DecodeNewUser(m.value());
    if (!user.ok()) {
      ++delta.invalid;
      spdlog::debug("{}: skipping malformed event at partition {} offset {}: {}", options_.team, partition,
                    m.offset().value(), user.status().detail());
      continue;
    }
    ++delta.seen;
    ++delta.countries[user->country];
    if (!options_.filter.Matches(*user)) continue;
    ++delta.matched;
    if (options_.print) {
      spdlog::info("{}: match {} {} ({}, {}) from partition {}", options_.team, user->id, user->name, user->country,
                   user->age, partition);
    }
    if (!options_.output_topic.empty()) {
      matches.emplace_back(m.key() ? std::string(*m.key()) : user->id, std::string(m.value()));
    }
  }
  next.Add(delta);
  next.next_offset = std::max(next.next_offset, batch.back().offset().value() + 1);

  // Forwards first, then the counters: a counter record that covers an event
  // promises the event's forward was acknowledged.
  if (!matches.empty()) KSTRAND_RETURN_IF_ERROR(ProduceAll(options_.output_topic, matches));
  if (options_.count) {
    KSTRAND_RETURN_IF_ERROR(
        ProduceAll(options_.counters_topic, {{CounterKey(options_.team, partition), EncodeCounters(next)}}));
  }
  replays_skipped_ += replays;
  std::lock_guard lock(mu_);
  state->counters = std::move(next);
  totals_.Add(delta);
  return Status::Ok();
}

TeamCounters TeamProcessor::Totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

std::optional<TeamCounters> TeamProcessor::Counters(int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return std::nullopt;
  return it->second->counters;
}

}  // namespace kstrand::tutorial
