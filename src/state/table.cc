#include "state/table.h"

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

namespace {

// '.' separates the name and the partition in RocksDB column family names.
Status CheckName(const std::string& what, const std::string& name) {
  if (name.empty() || name.find('.') != std::string::npos) {
    return Status(Errc::kInvalidArgument, what + " name '" + name + "': must be non-empty and without '.'");
  }
  return Status::Ok();
}

std::string PartitionName(const std::string& name, Partition p) { return name + "[" + std::to_string(p.value()) + "]"; }

}  // namespace

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
  KSTRAND_RETURN_IF_ERROR(CheckName("table", name));
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
std::vector<StatePartitionStats> Table::Stats() const { return impl_->Stats(); }

Status Table::Impl::Apply(std::span<const Message> messages) {
  if (messages.empty()) return Status::Ok();
  std::vector<state::Record> records;
  records.reserve(messages.size());
  for (const auto& m : messages) {
    if (!m.key()) continue;
    records.push_back({*m.key(), m.value_is_null() ? std::nullopt : std::optional(m.value()), m.offset().value()});
  }
  return PartitionSlots::Apply(messages.front().partition(), records);
}

// ---- Store ----

Result<std::shared_ptr<Store>> Store::Open(std::string name, std::shared_ptr<Stores> stores) {
  if (!stores) return Status(Errc::kInvalidArgument, "store " + name + ": no stores");
  KSTRAND_RETURN_IF_ERROR(CheckName("store", name));
  return std::shared_ptr<Store>(new Store(std::make_unique<Impl>(std::move(name), std::move(stores))));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;
const std::string& Store::name() const { return impl_->name(); }
std::string Store::changelog_topic() const { return impl_->changelog_topic(); }
Availability Store::availability(Partition partition) const { return impl_->availability(partition); }
std::vector<StatePartitionStats> Store::Stats() const { return impl_->Stats(); }

Result<std::optional<std::string>> Store::Get(Partition partition, std::string_view key) const {
  auto found = impl_->Get(partition, key);
  if (found.availability != Availability::kReady) {
    return Status(Errc::kNotFound, "store " + PartitionName(name(), partition) + " is " +
                                       std::string(ToString(found.availability)) + " here");
  }
  return std::move(found.value);
}

Status Store::Put(Partition partition, std::string_view key, std::string_view value) {
  return impl_->Write(partition, key, value);
}
Status Store::Delete(Partition partition, std::string_view key) { return impl_->Write(partition, key, std::nullopt); }

void Store::Impl::Bind(std::string changelog_topic, kafka::Producer* producer) {
  changelog_topic_ = std::move(changelog_topic);
  producer_ = producer;
}

Status Store::Impl::Write(Partition partition, std::string_view key, std::optional<std::string_view> value) {
  if (availability(partition) != Availability::kReady) {
    return Status(Errc::kNotFound, "store " + PartitionName(name(), partition) + " is " +
                                       std::string(ToString(availability(partition))) + " here: cannot write");
  }
  if (!producer_) return Status(Errc::kInvalidArgument, "store " + name() + ": not used by a running Runtime");
  // A null value (tombstone) deletes, here and in the compacted changelog.
  auto delivered = producer_->ProduceAndWait(changelog_topic_, key, value ? *value : std::string_view(), {},
                                             partition.value());
  if (!delivered.ok()) return delivered.status();
  const state::Record record{key, value, delivered->offset};
  return PartitionSlots::Apply(partition, std::span<const state::Record>(&record, 1));
}

}  // namespace kstrand
