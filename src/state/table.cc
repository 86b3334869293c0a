#include "state/table.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <filesystem>

namespace kstrand {

std::string_view ToString(Availability a) {
  switch (a) {
    case Availability::kReady: return "ready";
    case Availability::kRestoring: return "restoring";
    case Availability::kNotAssigned: return "not assigned";
  }
  return "unknown";
}

// ---- Stores ----

Result<std::shared_ptr<Stores>> Stores::Open(StateConfig config) {
  std::unique_ptr<state::StoreSet> set;
  if (config.backend == StoreBackend::kMemory) {
    set = state::StoreSet::Memory();
  } else {
    if (config.directory.empty()) return Status(Errc::kInvalidArgument, "state: RocksDB needs a directory");
    std::error_code ec;
    std::filesystem::create_directories(config.directory, ec);
    if (ec) return Status(Errc::kInvalidArgument, "state directory " + config.directory + ": " + ec.message());
    auto opened = state::StoreSet::RocksDb(config.directory, config.block_cache_bytes);
    if (!opened.ok()) return opened.status();
    set = std::move(opened.value());
  }
  return std::shared_ptr<Stores>(new Stores(std::move(config), std::make_unique<Impl>(std::move(set))));
}

Stores::Stores(StateConfig config, std::unique_ptr<Impl> impl) : config_(std::move(config)), impl_(std::move(impl)) {}
Stores::~Stores() = default;
const StateConfig& Stores::config() const { return config_; }

// ---- Table ----

Result<std::shared_ptr<Table>> Table::Open(std::string name, std::shared_ptr<Stores> stores) {
  if (!stores) return Status(Errc::kInvalidArgument, "table " + name + ": no stores");
  // '.' separates table and partition in RocksDB column family names.
  if (name.empty() || name.find('.') != std::string::npos) {
    return Status(Errc::kInvalidArgument, "table name '" + name + "': must be non-empty and without '.'");
  }
  return std::shared_ptr<Table>(new Table(std::make_unique<Impl>(std::move(name), std::move(stores))));
}

Table::Table(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Table::~Table() = default;
const std::string& Table::name() const { return impl_->name(); }
Availability Table::availability(Partition partition) const { return impl_->availability(partition); }
Table::Lookup Table::Get(Partition partition, std::string_view key) const { return impl_->Get(partition, key); }
Table::Page Table::Scan(Partition partition, std::string_view after, size_t limit) const {
  return impl_->Scan(partition, after, limit);
}
Availability Table::WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const {
  return impl_->WaitApplied(partition, offset, timeout);
}
std::vector<TablePartitionStats> Table::Stats() const { return impl_->Stats(); }

// ---- Table::Impl ----

Result<int64_t> Table::Impl::Assign(Partition partition) {
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

void Table::Impl::SetRestoreTarget(Partition partition, int64_t end) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.target >= 0 || end < 0) return;
  it->second.target = end;
  CheckCaughtUpLocked(it->second);
}

bool Table::Impl::NeedsRestoreTarget(Partition partition) const {
  std::shared_lock lock(mu_);
  auto it = slots_.find(partition.value());
  return it != slots_.end() && it->second.target < 0;
}

void Table::Impl::PositionReached(Partition partition, int64_t position) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.ready || it->second.target < 0 || position < it->second.target) return;
  it->second.ready = true;
  applied_cv_.notify_all();
}

std::vector<Partition> Table::Impl::Restoring() const {
  std::vector<Partition> out;
  std::shared_lock lock(mu_);
  for (const auto& [p, slot] : slots_) {
    if (!slot.ready) out.emplace_back(p);
  }
  return out;
}

void Table::Impl::Revoke(Partition partition) {
  std::unique_lock lock(mu_);
  if (slots_.erase(partition.value()) == 0) return;
  stores_->impl().set->Close(name_, partition.value());
  applied_cv_.notify_all();  // waiters learn the partition moved
}

void Table::Impl::CheckCaughtUpLocked(Slot& slot) {
  // The target is an end offset: the next offset to be written.
  if (!slot.ready && slot.target >= 0 && slot.store->applied() + 1 >= slot.target) slot.ready = true;
}

Status Table::Impl::Apply(std::span<const Message> messages) {
  if (messages.empty()) return Status::Ok();
  const Partition partition = messages.front().partition();
  std::shared_ptr<state::PartitionStore> store;
  {
    std::shared_lock lock(mu_);
    auto it = slots_.find(partition.value());
    if (it == slots_.end()) return Status::Ok();  // revoked: the next owner reads these again
    store = it->second.store;
  }
  std::vector<state::Record> records;
  records.reserve(messages.size());
  for (const auto& m : messages) {
    if (m.offset().value() <= store->applied()) continue;
    if (!m.key()) continue;  // a table row needs a key; keyless records carry nothing to look up
    records.push_back({*m.key(), m.value_is_null() ? std::nullopt : std::optional(m.value()), m.offset().value()});
  }
  if (!records.empty()) KSTRAND_RETURN_IF_ERROR(store->Apply(records));
  std::unique_lock lock(mu_);
  auto it = slots_.find(partition.value());
  if (it == slots_.end() || it->second.store != store) return Status::Ok();
  it->second.applied_since_assigned += records.size();
  CheckCaughtUpLocked(it->second);
  applied_cv_.notify_all();
  return Status::Ok();
}

Availability Table::Impl::AvailabilityLocked(Partition partition, const Slot** slot) const {
  auto it = slots_.find(partition.value());
  if (it == slots_.end()) return Availability::kNotAssigned;
  *slot = &it->second;
  return it->second.ready ? Availability::kReady : Availability::kRestoring;
}

Availability Table::Impl::availability(Partition partition) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  return AvailabilityLocked(partition, &slot);
}

Table::Lookup Table::Impl::Get(Partition partition, std::string_view key) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  Lookup out{AvailabilityLocked(partition, &slot), std::nullopt};
  if (out.availability != Availability::kReady) return out;
  auto value = slot->store->Get(key);
  // A read error is not "absent": never answer a wrong 404.
  if (!value.ok()) return Lookup{Availability::kRestoring, std::nullopt};
  out.value = std::move(value.value());
  return out;
}

Table::Page Table::Impl::Scan(Partition partition, std::string_view after, size_t limit) const {
  std::shared_lock lock(mu_);
  const Slot* slot = nullptr;
  Page out{AvailabilityLocked(partition, &slot), {}};
  if (out.availability != Availability::kReady) return out;
  auto entries = slot->store->Scan(after, limit);
  if (!entries.ok()) return Page{Availability::kRestoring, {}};
  out.entries = std::move(entries.value());
  return out;
}

Availability Table::Impl::WaitApplied(Partition partition, int64_t offset, std::chrono::milliseconds timeout) const {
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

std::vector<TablePartitionStats> Table::Impl::Stats() const {
  std::vector<TablePartitionStats> out;
  std::shared_lock lock(mu_);
  for (const auto& [p, slot] : slots_) {
    out.push_back({Partition(p), slot.ready ? Availability::kReady : Availability::kRestoring, slot.start, slot.target,
                   slot.store->applied(), slot.applied_since_assigned});
  }
  return out;
}

}  // namespace kstrand
