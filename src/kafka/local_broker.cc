#include "kafka/local_broker.h"

#include <httplib.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "kstrand/embedded_cluster.h"

namespace kstrand::kafka {
namespace {

std::mutex registry_mu;
std::multiset<std::string>& Registry() {
  static auto* addresses = new std::multiset<std::string>();
  return *addresses;  // never destroyed: a cluster may outlive static destruction
}

// "host:port" entries of a bootstrap list, trimmed; localhost as 127.0.0.1
// (the embedded broker listens on 127.0.0.1).
std::vector<std::string> Addresses(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("PLAINTEXT://")) item.remove_prefix(12);
    if (item.empty()) continue;
    std::string address(item);
    if (address.starts_with("localhost:")) address.replace(0, 9, "127.0.0.1");
    out.push_back(std::move(address));
  }
  return out;
}

std::string RecordDir() {
  const char* dir = std::getenv("XDG_RUNTIME_DIR");
  return dir && *dir ? dir : "/tmp";
}

std::string RecordPrefix() { return "kstrand-broker-" + std::to_string(getuid()) + "-"; }

std::optional<RecordedBroker> ReadRecord(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  auto state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || !state.contains("bootstrap") || !state["bootstrap"].is_string()) return std::nullopt;
  auto pid = state.find("pid");
  if (pid == state.end() || !pid->is_number_integer()) return std::nullopt;
  RecordedBroker r;
  r.bootstrap = state["bootstrap"].get<std::string>();
  r.pid = pid->get<int64_t>();
  if (auto c = state.find("control"); c != state.end() && c->is_string()) r.control = c->get<std::string>();
  // A broker killed without its cleanup leaves its record behind.
  if (kill(static_cast<pid_t>(r.pid), 0) != 0 && errno == ESRCH) return std::nullopt;
  return r;
}

std::string Listing(const std::vector<RecordedBroker>& brokers) {
  std::string out;
  for (const auto& b : brokers) {
    out += (out.empty() ? "" : ", ") + b.bootstrap + " (pid " + std::to_string(b.pid) + ")";
  }
  return out;
}

}  // namespace

std::string BrokerRecordFile(int64_t pid) { return RecordDir() + "/" + RecordPrefix() + std::to_string(pid) + ".json"; }

std::vector<RecordedBroker> RecordedBrokers() {
  std::vector<RecordedBroker> out;
  std::error_code ec;
  const std::string prefix = RecordPrefix();
  for (const auto& entry : std::filesystem::directory_iterator(RecordDir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".json")) continue;
    if (auto r = ReadRecord(entry.path())) out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

void RegisterEmbeddedBroker(const std::string& bootstrap) {
  std::lock_guard lock(registry_mu);
  for (auto& a : Addresses(bootstrap)) Registry().insert(std::move(a));
}

void UnregisterEmbeddedBroker(const std::string& bootstrap) {
  std::lock_guard lock(registry_mu);
  for (const auto& a : Addresses(bootstrap)) {
    if (auto it = Registry().find(a); it != Registry().end()) Registry().erase(it);
  }
}

Result<BrokerTarget> ResolveBrokers(const std::string& brokers, std::string_view option) {
  BrokerTarget target{brokers, false, ""};
  const auto recorded = RecordedBrokers();
  if (brokers.empty()) {
    const std::string none_given = "no " + std::string(option) + " given and ";
    if (recorded.empty()) {
      return Status(Errc::kInvalidArgument, none_given +
                                                "no embedded broker is running: start one with `kstrand broker`, "
                                                "or give " + std::string(option) + " host:port of a Kafka cluster");
    }
    if (recorded.size() > 1) {
      return Status(Errc::kInvalidArgument, none_given + std::to_string(recorded.size()) +
                                                " embedded brokers are running: " + Listing(recorded) +
                                                "; choose one, e.g. " + std::string(option) + " " +
                                                recorded.front().bootstrap);
    }
    target.bootstrap = recorded.front().bootstrap;
  }
  const auto wanted = Addresses(target.bootstrap);
  if (wanted.empty()) return Status(Errc::kInvalidArgument, "brokers: no host:port in '" + brokers + "'");
  auto all_in = [&](const std::vector<std::string>& known) {
    return std::all_of(wanted.begin(), wanted.end(),
                       [&](const auto& a) { return std::find(known.begin(), known.end(), a) != known.end(); });
  };
  for (const auto& r : recorded) {
    if (all_in(Addresses(r.bootstrap))) {
      target.embedded = true;
      target.control = r.control;
      return target;
    }
  }
  std::lock_guard lock(registry_mu);
  target.embedded = std::all_of(wanted.begin(), wanted.end(), [](const auto& a) { return Registry().count(a) > 0; });
  return target;
}

Properties EmbeddedConsumerProperties(const Properties& kafka) {
  auto protocol = kafka.find("group.protocol");
  Properties out = protocol == kafka.end() ? EmbeddedCluster::ClientProperties()
                                           : EmbeddedCluster::ClientProperties(protocol->second);
  for (const auto& [k, v] : kafka) out[k] = v;
  return out;
}

Status ResolveMemberConnection(std::string* brokers, Properties* kafka) {
  auto target = ResolveBrokers(*brokers);
  if (!target.ok()) return target.status();
  *brokers = target->bootstrap;
  if (target->embedded) *kafka = EmbeddedConsumerProperties(*kafka);
  return Status::Ok();
}

Status CreateTopicThroughControl(const std::string& control, const std::string& topic, int partitions) {
  httplib::Client client(control);
  client.set_connection_timeout(5);
  auto res = client.Post("/topics", nlohmann::json{{"name", topic}, {"partitions", partitions}}.dump(),
                         "application/json");
  if (!res) return Status(Errc::kTimedOut, "embedded broker control channel " + control + " did not answer");
  if (res->status != 200) {
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    std::string error = body.is_object() ? body.value("error", res->body) : res->body;
    return Status(res->status == 400 ? Errc::kInvalidArgument : Errc::kInternal, "creating topic " + topic + ": " + error);
  }
  return Status::Ok();
}

}  // namespace kstrand::kafka
