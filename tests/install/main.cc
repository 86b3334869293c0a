// Uses only installed public headers. Usage: install_check BOOTSTRAP TOPIC COUNT
// against a `kstrand broker` holding COUNT messages in TOPIC. Checks that the
// librdkafka running is the one kstrand was built with, that a Runtime rejects a
// bad librdkafka property with librdkafka's text, that a StatusServer starts
// (so the link proves the package brings cpp-httplib and prometheus-cpp), and
// that a Runtime processes all COUNT messages, each partition in offset order,
// then stops. Exit 0 only when every check holds.
#include <kstrand/embedded_cluster.h>
#include <kstrand/runtime.h>
#include <kstrand/status_server.h>
#include <kstrand/version.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 4) return std::printf("usage: install_check BOOTSTRAP TOPIC COUNT\n"), 2;
  const std::string bootstrap = argv[1], topic = argv[2];
  const uint64_t count = std::strtoull(argv[3], nullptr, 10);
  std::printf("kstrand %s, librdkafka %s (built against %s)\n", std::string(kstrand::Version()).c_str(),
              kstrand::LibrdkafkaVersion().c_str(), kstrand::LibrdkafkaBuildVersion().c_str());
  if (auto st = kstrand::CheckLibrdkafkaVersion(); !st.ok()) return std::printf("version: %s\n", st.detail().c_str()), 1;

  kstrand::RuntimeConfig bad;
  bad.brokers = bootstrap;
  bad.group_id = "install-check-bad";
  bad.topics.push_back({topic, [](const kstrand::Message&) { return kstrand::Status::Ok(); }});
  bad.kafka["no.such.property"] = "1";
  auto rejected = kstrand::Runtime::Create(bad);
  if (rejected.ok() || rejected.status().detail().find("no.such.property") == std::string::npos) {
    return std::printf("expected a bad-property error, got: %s\n", rejected.status().ToString().c_str()), 1;
  }
  auto server = kstrand::StatusServer::Start("127.0.0.1:0");
  if (!server.ok()) return std::printf("status server: %s\n", server.status().ToString().c_str()), 1;

  std::mutex mu;
  std::map<int32_t, int64_t> last_offset;  // per partition
  uint64_t out_of_order = 0;
  std::atomic<uint64_t> processed{0};
  kstrand::RuntimeConfig config;
  config.brokers = bootstrap;
  config.group_id = "install-check";
  config.kafka = kstrand::EmbeddedCluster::ClientProperties();
  config.topics.push_back({topic, [&](const kstrand::Message& m) {
    std::lock_guard lock(mu);
    auto [it, first] = last_offset.try_emplace(m.partition().value(), m.offset().value());
    if (!first) {
      if (m.offset().value() <= it->second) ++out_of_order;
      it->second = m.offset().value();
    }
    ++processed;
    return kstrand::Status::Ok();
  }});
  auto runtime = kstrand::Runtime::Create(config);
  if (!runtime.ok()) return std::printf("create: %s\n", runtime.status().ToString().c_str()), 1;
  if (auto st = (*runtime)->Start(); !st.ok()) return std::printf("start: %s\n", st.ToString().c_str()), 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (processed < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (*runtime)->Stop();
  std::lock_guard lock(mu);
  std::printf("processed %llu of %llu over %zu partitions, %llu out of order; status server at %s\n",
              static_cast<unsigned long long>(processed.load()), static_cast<unsigned long long>(count),
              last_offset.size(), static_cast<unsigned long long>(out_of_order), (*server)->url().c_str());
  return processed == count && out_of_order == 0 ? 0 : 1;
}
