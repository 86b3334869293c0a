#include "group/announcer.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "kafka/admin.h"
#include "kafka/error.h"

namespace kstrand::group {

namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace

std::unique_ptr<Announcer> Announcer::Start(rd_kafka_t* admin, const kafka::Properties& connection, std::string topic,
                                            std::string instance, const std::string& member, int timeout_ms) {
  auto found = kafka::DescribeTopics(admin, timeout_ms, topic);
  if (!found.ok() && found.status().code() == make_error_code(Errc::kNotFound)) {
    Status created = kafka::CreateTopic(admin, topic, 1, -1, timeout_ms, {{"cleanup.policy", "compact"}});
    if (!created.ok() && !kafka::Is(created, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) &&
        !kafka::Is(created, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)) {
      spdlog::warn("{}: not announcing this member (dashboards and `kstrand groups` will not see it): {}", member,
                   created.ToString());
      return nullptr;
    }
  }
  auto producer = kafka::Producer::Create(connection);
  if (!producer.ok()) {
    spdlog::warn("{}: not announcing this member: {}", member, producer.status().ToString());
    return nullptr;
  }
  return std::unique_ptr<Announcer>(
      new Announcer(std::move(producer.value()), std::move(topic), std::move(instance), member));
}

void Announcer::Publish(Announcement a) {
  a.instance = instance_;
  a.host = HostName();
  a.pid = getpid();
  a.updated = std::chrono::system_clock::now();
  if (Status st = producer_->Produce(topic_, instance_, EncodeAnnouncement(a)); !st.ok()) {
    spdlog::debug("{}: announcing: {}", member_, st.ToString());
  }
}

void Announcer::Leave(int timeout_ms) {
  // A null value: a tombstone.
  if (Status st = producer_->Produce(topic_, instance_, std::string_view{}); !st.ok()) {
    spdlog::debug("{}: announcing the leave: {}", member_, st.ToString());
  }
  (void)producer_->Flush(timeout_ms);
}

}  // namespace kstrand::group
