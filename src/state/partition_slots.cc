#include "state/partition_slots.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "state/table.h"

namespace kstrand::state {

Result<int64_t> PartitionSlots::Assign(Partition partition) {
  auto store = stores_->impl().set->Open(name_, partition.value());
  if (!store.ok()) return store.status();
  std::unique_lock lock(mu_);
  Slot& slot = slots_[partition.value()];
  slot = Slot{};
  slot.store = std::move(store.value());
  const int64_t applied = slot.store->applied();
  slot.start = applied >= 0 ? applied + 1 : 0;
  return applied >= 0 ? applied + 1 : int64_t{RD_KAFKA_OFFSET_BEGINNING};
}

bool StoreMatchesTopic(int64_t start, int64_t low, int64_t high) {
  if (start < 0 || low < 0 || high < 0) return true;  // nothing applied, or offsets unknown
  return start <= high && start >= low;
}

Result<int64_t> PartitionSlots::TrustOrRebuild(Partition partition, int64_t start, int64_t low, int64_t high,
                                               std::string_view where) {
  if (StoreMatchesTopic(start, low, high)) return start;
  std::shared_ptr<PartitionStore> store;
  {
    std::unique_lock lock(mu_);
    auto it = slots_.find(partition.value());
    if (it == slots_.end()) return start;  // revoked meanwhile
    store = it->second.store;
    it->second.start = 0;
  }
  spdlog::warn("{}: the state of {} was applied up to offset {}, but the partition now has start offset {} and "
               "end offset {}{}: discarding it and rebuilding it from the topic",
               where, name_, start - 1, low, high,
               start > high ? " (state from another broker, or a topic since recreated)"
                            : " (the records after it are gone: retention)");
  KSTRAND_RETURN_IF_ERROR(store->Clear());
  return int64_t{RD_KAFKA_OFFSET_BEGINNING};
}

void PartitionSlots::SetRestoreTarget(Partition partition, int64_t end) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.target >= 0 || end < 0) return;
  it->second.target = end;
  CheckCaughtUpLocked(it->second);
  applied_cv_.notify_all();
}

bool PartitionSlots::NeedsRestoreTarget(Partition partition) const {
  std::shared_lock lock(mu_);
  auto it = slots_.find(partition.value());
  return it != slots_.end() && it->second.target < 0;
}

void PartitionSlots::PositionReached(Partition partition, int64_t position) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.ready || it->second.target < 0 || position < it->second.target) return;
  it->second.ready = true;
  applied_cv_.notify_all();
}

std::vector<Partition> PartitionSlots::Restoring() const {
  std::vector<Partition> out;
  std::shared_lock lock(mu_);
  for (const auto& [p, slot] : slots_) {
    if (!slot.ready) out.emplace_back(p);
  }
  return out;
}

void PartitionSlots::Revoke(Partition partition) {
  std::unique_lock lock(mu_);
  if (slots_.erase(partition.value()) == 0) return;
  stores_->impl().set->Close(name_, partition.value());
  applied_cv_.notify_all();  // waiters learn the partition moved
}

void PartitionSlots::CheckCaughtUpLocked(Slot& slot) {
  // The target is an end offset: the next offset to be written.
  if (!slot.ready && slot.target >= 0 && slot.store->applied() + 1 >= slot.target) slot.ready = true;
}

Status PartitionSlots::Apply(Partition partition, std::span<const Record> records) {
  std::shared_ptr<PartitionStore> store;
  {
    std::shared_lock lock(mu_);
    auto it = slots_.find(partition.value());
    if (it == slots_.end()) return Status::Ok();
    store = it->second.store;
  }
  const int64_t applied = store->applied();
  auto fresh = std::find_if(records.begin(), records.end(), [&](const Record& r) { return r.offset > applied; });
  const auto count = static_cast<size_t>(records.end() - fresh);
  if (count > 0) KSTRAND_RETURN_IF_ERROR(store->Apply(std::span<const Record>(&*fresh, count)));
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.store != store) return Status::Ok();
  it->second.applied_since_assigned += count;
  CheckCaughtUpLocked(it->second);
  applied_cv_.notify_all();
  return Status::Ok();
}

Availability PartitionSlots::AvailabilityLocked(Partition partition, const Slot** slot) const {
  auto it = slots_.find(partition.value());
  if (it == slots_.end()) return Availability::kNotAssigned;
  *slot = &it->second;
  return it->second.ready ? Availability::kReady : Availability::kRestoring;
}

Availability PartitionSlots::availability(Partition partition) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  return AvailabilityLocked(partition, &slot);
}

StateLookup PartitionSlots::Get(Partition partition, std::string_view key) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  StateLookup out{AvailabilityLocked(partition, &slot), std::nullopt};
  if (out.availability != Availability::kReady) return out;
  auto value = slot->store->Get(key);
  // A read error is not "absent": never answer a wrong 404.
  if (!value.ok()) return {Availability::kRestoring, std::nullopt};
  out.value = std::move(value.value());
  return out;
}

StatePage PartitionSlots::Scan(Partition partition, std::string_view after, size_t limit) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  StatePage out{AvailabilityLocked(partition, &slot), {}};
  if (out.availability != Availability::kReady) return out;
  auto entries = slot->store->Scan(after, limit);
  if (!entries.ok()) return {Availability::kRestoring, {}};
  out.entries = std::move(entries.value());
  return out;
}

Availability PartitionSlots::WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const Slot* slot = nullptr;
  Availability now = Availability::kNotAssigned;
  applied_cv_.wait_for(lock, timeout, [&] {
    now = AvailabilityLocked(partition, &slot);
    return now == Availability::kNotAssigned || (now == Availability::kReady && slot->store->applied() >= offset);
  });
  if (now == Availability::kReady && slot->store->applied() < offset) return Availability::kRestoring;
  return now;
}

std::vector<StatePartitionStats> PartitionSlots::Stats() const {
  std::vector<StatePartitionStats> out;
  std::shared_lock lock(mu_);
  for (const auto& [p, slot] : slots_) {
    out.push_back({Partition(p), slot.ready ? Availability::kReady : Availability::kRestoring, slot.start, slot.target,
                   slot.store->applied(), slot.applied_since_assigned});
  }
  return out;
}

}  // namespace kstrand::state
