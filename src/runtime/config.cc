// The settings table: the one declaration of every RuntimeConfig tunable.
#include "kstrand/config.h"

#include <array>
#include <charconv>

#include "kstrand/parse.h"
#include "runtime/settings.h"

namespace kstrand {
namespace {

using std::chrono::milliseconds;

struct Entry {
  Setting meta;
  Status (*set)(RuntimeConfig&, std::string_view);
  std::string (*get)(const RuntimeConfig&);
};

template <size_t RuntimeConfig::*Field, size_t Min, size_t Max>
Status SetCount(RuntimeConfig& c, std::string_view v) {
  auto n = ParseCount(v, Min, Max);
  if (!n.ok()) return n.status();
  c.*Field = *n;
  return Status::Ok();
}

template <size_t RuntimeConfig::*Field>
std::string GetCount(const RuntimeConfig& c) { return std::to_string(c.*Field); }

// Every duration is a timeout or an interval: zero would mean "never wait" or
// "spin", which no setting here supports.
template <milliseconds RuntimeConfig::*Field>
Status SetDuration(RuntimeConfig& c, std::string_view v) {
  auto d = ParseDuration(v);
  if (!d.ok()) return d.status();
  if (d->count() <= 0) return Status(Errc::kInvalidArgument, "must be longer than 0, got '" + std::string(v) + "'");
  c.*Field = *d;
  return Status::Ok();
}

template <milliseconds RuntimeConfig::*Field>
std::string GetDuration(const RuntimeConfig& c) { return FormatDuration(c.*Field); }

template <std::string RuntimeConfig::*Field>
Status SetText(RuntimeConfig& c, std::string_view v) {
  c.*Field = std::string(v);
  return Status::Ok();
}

template <std::string RuntimeConfig::*Field>
std::string GetText(const RuntimeConfig& c) { return c.*Field; }

constexpr std::array<std::pair<Delivery, std::string_view>, 3> kDeliveryNames = {{
    {Delivery::kAtLeastOnce, "at-least-once"},
    {Delivery::kAtMostOnce, "at-most-once"},
    {Delivery::kExactlyOnce, "exactly-once"},
}};

Status SetDelivery(RuntimeConfig& c, std::string_view v) {
  for (const auto& [delivery, name] : kDeliveryNames) {
    if (v == name) {
      c.delivery = delivery;
      return Status::Ok();
    }
  }
  return Status(Errc::kInvalidArgument,
                "expected at-least-once, at-most-once or exactly-once, got '" + std::string(v) + "'");
}

std::string GetDelivery(const RuntimeConfig& c) {
  for (const auto& [delivery, name] : kDeliveryNames) {
    if (c.delivery == delivery) return std::string(name);
  }
  return "";
}

const std::array kEntries = {
    Entry{{"workers", "4", "worker threads running handlers (partitions share them)"},
          &SetCount<&RuntimeConfig::workers, 1, 1024>, &GetCount<&RuntimeConfig::workers>},
    Entry{{"commit.interval", "1s", "how often completed offsets are committed (asynchronously)"},
          &SetDuration<&RuntimeConfig::commit_interval>, &GetDuration<&RuntimeConfig::commit_interval>},
    Entry{{"revoke.timeout", "10s",
           "how long a revoked partition waits for in-flight messages before committing and releasing it"},
          &SetDuration<&RuntimeConfig::revoke_timeout>, &GetDuration<&RuntimeConfig::revoke_timeout>},
    Entry{{"shutdown.timeout", "30s", "how long shutdown waits for in-flight messages before committing and leaving"},
          &SetDuration<&RuntimeConfig::shutdown_timeout>, &GetDuration<&RuntimeConfig::shutdown_timeout>},
    Entry{{"connect.timeout", "10s", "how long start-up waits for a broker to answer before failing"},
          &SetDuration<&RuntimeConfig::connect_timeout>, &GetDuration<&RuntimeConfig::connect_timeout>},
    // Above one fetch's worth of small records (1 MB of ~100 B): a lower bound
    // pauses mid-burst, and a pause makes librdkafka drop and refetch its prefetch.
    Entry{{"lane.max.messages", "10000", "messages buffered per partition before it is paused (resumes at half)"},
          &SetCount<&RuntimeConfig::lane_max_messages, 1, 10'000'000>,
          &GetCount<&RuntimeConfig::lane_max_messages>},
    Entry{{"lane.max.bytes", "16777216", "bytes buffered per partition before it is paused (resumes at half)"},
          &SetCount<&RuntimeConfig::lane_max_bytes, 1024, size_t{1} << 40>,
          &GetCount<&RuntimeConfig::lane_max_bytes>},
    Entry{{"max.in.flight", "1000",
           "messages handed to async handlers and not yet completed, across all partitions "
           "(sync and batch handlers are bounded by workers)"},
          &SetCount<&RuntimeConfig::max_in_flight, 1, 1'000'000>, &GetCount<&RuntimeConfig::max_in_flight>},
    // The completions above the frontier travel in the commit metadata as a
    // bitmap at worst: 24000 offsets take 3000 bytes, 4000 in base64, under
    // Kafka's 4096-byte limit.
    Entry{{"max.ahead", "20000",
           "how many offsets past its oldest incomplete message a partition may fetch (key and unordered modes)"},
          &SetCount<&RuntimeConfig::max_ahead, 1, 24'000>, &GetCount<&RuntimeConfig::max_ahead>},
    Entry{{"batch.max.messages", "64", "most messages handed to a batch handler at once"},
          &SetCount<&RuntimeConfig::batch_max_messages, 1, 100'000>,
          &GetCount<&RuntimeConfig::batch_max_messages>},
    Entry{{"delivery", "at-least-once",
           "at-least-once: commit after processing; at-most-once: commit before processing; exactly-once: "
           "what handlers produce and the input offsets in one Kafka transaction per commit interval"},
          &SetDelivery, &GetDelivery},
    Entry{{"transactional.id", "",
           "exactly-once: the producer's transactional id, stable per replica (like group.instance.id) so a "
           "restarted replica aborts at once what its crashed predecessor left open; empty: "
           "<group>-<group.instance.id> for a static member, else <group>-<name>-<random>, and a crashed "
           "replica's open transaction then holds read_committed readers back until it times out"},
          &SetText<&RuntimeConfig::transactional_id>, &GetText<&RuntimeConfig::transactional_id>},
    Entry{{"members.topic", kDefaultMembersTopic,
           "topic where members announce their assignment and progress, for dashboards, `kstrand groups` "
           "and routing on brokers without DescribeGroups; empty: do not announce"},
          &SetText<&RuntimeConfig::members_topic>, &GetText<&RuntimeConfig::members_topic>},
    Entry{{"members.interval", "1s", "how often a member refreshes its announcement (and at every rebalance)"},
          &SetDuration<&RuntimeConfig::members_interval>, &GetDuration<&RuntimeConfig::members_interval>},
};

const std::array<Setting, kEntries.size()> kSettings = [] {
  std::array<Setting, kEntries.size()> out{};
  for (size_t i = 0; i < kEntries.size(); ++i) out[i] = kEntries[i].meta;
  return out;
}();

const Entry* Find(std::string_view name) {
  for (const auto& e : kEntries) {
    if (e.meta.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

std::span<const Setting> Settings() { return kSettings; }

Status RuntimeConfig::Set(std::string_view name, std::string_view value) {
  const Entry* e = Find(name);
  if (!e) {
    std::string names;
    for (const auto& entry : kEntries) names += (names.empty() ? "" : ", ") + std::string(entry.meta.name);
    return Status(Errc::kInvalidArgument, "unknown setting '" + std::string(name) + "'; the settings are: " + names);
  }
  Status st = e->set(*this, value);
  if (!st.ok()) return Status(st.code(), "setting " + std::string(name) + ": " + st.detail());
  return st;
}

namespace {

// librdkafka properties whose meaning kstrand owns: setting them in `kafka`
// would silently break a guarantee (offsets committed to another group, or
// by librdkafka past unfinished messages), so they are refused, naming what
// to use instead. `allowed` is the one value that agrees with kstrand, if any.
struct OwnedProperty {
  std::string_view name;
  std::string_view allowed;  // empty: no value is accepted
  std::string_view use_instead;
  bool (*applies)(const RuntimeConfig&);
};

bool Always(const RuntimeConfig&) { return true; }
bool ExactlyOnce(const RuntimeConfig& c) { return c.delivery == Delivery::kExactlyOnce; }

constexpr std::array kOwnedProperties = {
    OwnedProperty{"bootstrap.servers", "", "RuntimeConfig::brokers (-b)", &Always},
    OwnedProperty{"metadata.broker.list", "", "RuntimeConfig::brokers (-b)", &Always},
    OwnedProperty{"group.id", "", "RuntimeConfig::group_id (-G)", &Always},
    OwnedProperty{"enable.auto.commit", "false",
                  "nothing: kstrand commits each partition's frontier itself (commit.interval)", &Always},
    OwnedProperty{"enable.auto.offset.store", "false",
                  "nothing: kstrand stores offsets only below messages that completed", &Always},
    OwnedProperty{"transactional.id", "", "RuntimeConfig::transactional_id (--transactional-id)", &Always},
    OwnedProperty{"isolation.level", "read_committed",
                  "nothing: exactly-once reads only committed transactions", &ExactlyOnce},
};

}  // namespace

Status ValidateKafkaProperties(const RuntimeConfig& config) {
  for (const auto& owned : kOwnedProperties) {
    auto it = config.kafka.find(std::string(owned.name));
    if (it == config.kafka.end() || !owned.applies(config) || (!owned.allowed.empty() && it->second == owned.allowed)) {
      continue;
    }
    return Status(Errc::kInvalidArgument, "librdkafka property " + it->first + "=" + it->second +
                                              " is set by kstrand; use " + std::string(owned.use_instead));
  }
  return Status::Ok();
}

Status ValidateSettings(const RuntimeConfig& config) {
  // A field is valid when Set() accepts its own formatted value: the table's
  // one validation applies to fields assigned directly, not only to Set().
  RuntimeConfig scratch;
  for (const auto& e : kEntries) {
    if (Status st = e.set(scratch, e.get(config)); !st.ok()) {
      return Status(st.code(), "setting " + std::string(e.meta.name) + ": " + st.detail());
    }
  }
  return Status::Ok();
}

std::string RuntimeConfig::Get(std::string_view name) const {
  const Entry* e = Find(name);
  return e ? e->get(*this) : std::string();
}

}  // namespace kstrand
