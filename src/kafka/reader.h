// Reader: a consumer that never joins a group. It reads the partitions it
// assigns itself, from the offsets it chooses, and never commits: the
// restorer's changelog reads and the TopicFollower are built on it.
//
// Thread safety: one thread at a time (the owner's reading thread); close
// happens in the destructor.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kafka/client.h"
#include "kafka/handles.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

class Reader {
 public:
  struct Position {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = RD_KAFKA_OFFSET_BEGINNING;
  };

  // `props`: connection and security. `name` tells its group id apart (a
  // group id only so that librdkafka serves assign(); nothing joins it).
  static Result<std::unique_ptr<Reader>> Create(Properties props, const std::string& name);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads exactly `positions` from now on (none: stops reading).
  Status Assign(const std::vector<Position>& positions);
  // The next record or event (an error, RD_KAFKA_RESP_ERR__PARTITION_EOF at
  // the end of a partition), or null after `timeout_ms`.
  MessagePtr Poll(int timeout_ms);
  // The partition's low and high watermarks, asked of its leader.
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition, int timeout_ms);
  // For metadata requests (kafka::DescribeTopics).
  rd_kafka_t* handle() const { return rk_.get(); }

 private:
  explicit Reader(ClientPtr rk) : rk_(std::move(rk)) {}
  const ClientPtr rk_;
};

}  // namespace kstrand::kafka
