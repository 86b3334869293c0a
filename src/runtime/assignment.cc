#include "runtime/assignment.h"

namespace kstrand::runtime {

void AddCounters(RuntimeStats& total, const PartitionStats& p) {
  total.processed += p.processed;
  total.failed += p.failed;
  total.retried += p.retried;
  total.dead_lettered += p.dead_lettered;
  total.skipped += p.skipped;
  total.latency.Add(p.latency);
}

std::shared_ptr<Lane> Assignment::NewLane(const TopicPartition& tp, const std::shared_ptr<LaneEnv>& env,
                                          std::vector<int64_t> already_done) {
  return std::make_shared<Lane>(tp, Generation(next_generation_++), specs_.at(tp.topic), env, std::move(already_done));
}

std::vector<std::shared_ptr<Lane>> Assignment::Add(const std::vector<TopicPartition>& partitions,
                                                   const std::shared_ptr<LaneEnv>& env,
                                                   std::map<TopicPartition, std::vector<int64_t>>& already_done) {
  std::vector<std::shared_ptr<Lane>> added;
  for (const auto& tp : partitions) {
    if (!specs_.contains(tp.topic)) continue;  // cannot happen: only our topics are subscribed
    auto lane = NewLane(tp, env, std::move(already_done[tp]));
    if (auto it = retired_.find(tp); it != retired_.end()) {
      if (auto predecessor = it->second.lock()) lane->After(predecessor);
      retired_.erase(it);
    }
    added.push_back(lane);
  }
  MutexLock lock(mu_);
  for (const auto& lane : added) lanes_[lane->partition()] = lane;
  return added;
}

void Assignment::Remove(const std::vector<TopicPartition>& partitions) {
  MutexLock lock(mu_);
  for (const auto& tp : partitions) {
    auto it = lanes_.find(tp);
    if (it == lanes_.end()) continue;
    AddCounters(retired_totals_, it->second->Snapshot());
    if (!it->second->Idle()) retired_[tp] = it->second;
    lanes_.erase(it);
  }
}

void Assignment::Replace(const std::vector<std::shared_ptr<Lane>>& old, const std::shared_ptr<LaneEnv>& env,
                         std::map<TopicPartition, std::vector<int64_t>>& already_done) {
  std::vector<std::shared_ptr<Lane>> fresh;
  for (const auto& previous : old) {
    const TopicPartition& tp = previous->partition();
    auto lane = NewLane(tp, env, std::move(already_done[tp]));
    if (!previous->Idle()) lane->After(previous);  // a handler outlived the wait
    fresh.push_back(std::move(lane));
  }
  MutexLock lock(mu_);
  for (size_t i = 0; i < old.size(); ++i) {
    AddCounters(retired_totals_, old[i]->Snapshot());
    lanes_[old[i]->partition()] = fresh[i];
  }
}

std::shared_ptr<Lane> Assignment::Find(const TopicPartition& tp) const {
  MutexLock lock(mu_);
  auto it = lanes_.find(tp);
  return it == lanes_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Lane>> Assignment::Find(const std::vector<TopicPartition>& partitions) const {
  std::vector<std::shared_ptr<Lane>> out;
  MutexLock lock(mu_);
  for (const auto& tp : partitions) {
    if (auto it = lanes_.find(tp); it != lanes_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<std::shared_ptr<Lane>> Assignment::Lanes() const {
  std::vector<std::shared_ptr<Lane>> out;
  MutexLock lock(mu_);
  for (const auto& [tp, lane] : lanes_) out.push_back(lane);
  return out;
}

std::vector<TopicPartition> Assignment::Partitions() const {
  std::vector<TopicPartition> out;
  MutexLock lock(mu_);
  for (const auto& [tp, lane] : lanes_) out.push_back(tp);
  return out;
}

void Assignment::ForEach(const std::function<void(const TopicPartition&, const std::shared_ptr<Lane>&)>& fn) const {
  MutexLock lock(mu_);
  for (const auto& [tp, lane] : lanes_) fn(tp, lane);
}

void Assignment::Committed(const rd_kafka_topic_partition_list_t* offsets) {
  MutexLock lock(mu_);
  for (int i = 0; offsets && i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    if (e.err || e.offset < 0) continue;
    auto it = lanes_.find({e.topic, Partition(e.partition)});
    if (it != lanes_.end()) it->second->Committed(e.offset);
  }
}

RuntimeStats Assignment::Snapshot() const {
  MutexLock lock(mu_);
  RuntimeStats s = retired_totals_;
  for (const auto& [tp, lane] : lanes_) s.partitions.push_back(lane->Snapshot());
  return s;
}

void Assignment::Halt() {
  std::vector<std::shared_ptr<Lane>> left = Lanes();
  for (const auto& [tp, weak] : retired_) {
    if (auto lane = weak.lock()) left.push_back(std::move(lane));
  }
  for (const auto& lane : left) lane->Revoke(/*drop_buffered=*/true);
  MutexLock lock(mu_);
  // Their counts stay in Stats() (a shutdown that could not leave the group
  // halts lanes its revoke never reached).
  for (const auto& [tp, lane] : lanes_) AddCounters(retired_totals_, lane->Snapshot());
  lanes_.clear();
}

}  // namespace kstrand::runtime
