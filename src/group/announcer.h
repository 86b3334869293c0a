// Announcer: publishes one member's record (announcement.h) to the members
// topic, keyed by its instance id: the runtime calls Publish after every
// assignment change and every members.interval, and Leave when it stops (a
// tombstone, so readers drop it at once instead of after three intervals).
//
// Thread safety: one thread (the runtime's poll thread, then its stopping thread).
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "group/announcement.h"
#include "kafka/client.h"
#include "kafka/producer.h"

namespace kstrand::group {

class Announcer {
 public:
  // Ensures `topic` exists (created compacted: readers need only each
  // member's latest record; the embedded broker has it already), asking
  // through `admin` (any client of the cluster), and creates the producer
  // from `connection`. Null, after a warning naming why, if either fails:
  // the member then runs without announcing.
  static std::unique_ptr<Announcer> Start(rd_kafka_t* admin, const kafka::Properties& connection, std::string topic,
                                          std::string instance, const std::string& member, int timeout_ms);

  const std::string& instance() const { return instance_; }
  // Fills in the instance, host, pid and update time, and publishes `a`.
  void Publish(Announcement a);
  // Publishes the tombstone and waits up to `timeout_ms` for it to be delivered.
  void Leave(int timeout_ms);

 private:
  Announcer(std::unique_ptr<kafka::Producer> producer, std::string topic, std::string instance, std::string member)
      : producer_(std::move(producer)),
        topic_(std::move(topic)),
        instance_(std::move(instance)),
        member_(std::move(member)) {}

  const std::unique_ptr<kafka::Producer> producer_;
  const std::string topic_;
  const std::string instance_;
  const std::string member_;  // for log lines
};

}  // namespace kstrand::group
