// Uses only installed public headers: starts an embedded cluster, creates a
// topic, checks that a Runtime rejects a bad librdkafka property with
// librdkafka's text, and starts a StatusServer (so the link proves the
// package brings cpp-httplib and prometheus-cpp). Exit 0 only when every check holds.
#include <kstrand/embedded_cluster.h>
#include <kstrand/runtime.h>
#include <kstrand/status_server.h>

#include <cstdio>

int main() {
  auto cluster = kstrand::EmbeddedCluster::Start();
  if (!cluster.ok()) return std::printf("cluster: %s\n", cluster.status().ToString().c_str()), 1;
  if (auto st = (*cluster)->CreateTopic("installed", 3); !st.ok()) return std::printf("topic: %s\n", st.ToString().c_str()), 1;
  kstrand::RuntimeConfig config;
  config.brokers = (*cluster)->bootstrap();
  config.group_id = "install-check";
  config.topics.push_back({"installed", [](const kstrand::Message&) { return kstrand::Status::Ok(); }});
  config.kafka["no.such.property"] = "1";
  auto rt = kstrand::Runtime::Create(config);
  if (rt.ok() || rt.status().detail().find("no.such.property") == std::string::npos) {
    return std::printf("expected a bad-property error, got: %s\n", rt.status().ToString().c_str()), 1;
  }
  auto server = kstrand::StatusServer::Start("127.0.0.1:0");
  if (!server.ok()) return std::printf("status server: %s\n", server.status().ToString().c_str()), 1;
  std::printf("install check passed: %s; status server at %s\n", rt.status().detail().c_str(),
              (*server)->url().c_str());
  return 0;
}
