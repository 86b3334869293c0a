// Topic administration that works against real Kafka (Admin API) and against
// the embedded broker (metadata for listing; creation goes through the
// embedded broker's control channel because the mock has no CreateTopics).
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>
#include <vector>

#include "kstrand/status.h"

namespace kstrand::kafka {

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  int64_t low = -1;   // first available offset
  int64_t high = -1;  // next offset to be written
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
};

// All topics (skipping internal ones) or just `only`. kNotFound if `only` is missing.
Result<std::vector<TopicInfo>> DescribeTopics(rd_kafka_t* rk, int timeout_ms, const std::string& only = "",
                                              bool with_watermarks = false);

// Admin API CreateTopics. An embedded broker answers with
// RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE (librdkafka's code for "not supported").
// `configs`: topic configs such as cleanup.policy=compact.
// Returns once metadata shows every partition with a leader, or kTimedOut
// naming what it saw.
Status CreateTopic(rd_kafka_t* rk, const std::string& topic, int partitions, int replication, int timeout_ms,
                   const std::map<std::string, std::string>& configs = {});

}  // namespace kstrand::kafka
