#include "kafka/reader.h"

#include "kafka/error.h"

namespace kstrand::kafka {

Result<std::unique_ptr<Reader>> Reader::Create(Properties props, const std::string& name) {
  props["group.id"] = "__kstrand_" + name;
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";  // how a reader knows it reached the end
  props.erase("group.protocol");
  props.erase("group.instance.id");
  auto rk = NewClient(RD_KAFKA_CONSUMER, props);
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return std::unique_ptr<Reader>(new Reader(std::move(rk.value())));
}

Reader::~Reader() { rd_kafka_consumer_close(rk_.get()); }

Status Reader::Assign(const std::vector<Position>& positions) {
  if (positions.empty()) return KafkaStatus(rd_kafka_assign(rk_.get(), nullptr), "unassigning");
  TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const Position& p : positions) {
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.offset;
  }
  return KafkaStatus(rd_kafka_assign(rk_.get(), list.get()), "assigning " + positions.front().topic);
}

MessagePtr Reader::Poll(int timeout_ms) { return MessagePtr(rd_kafka_consumer_poll(rk_.get(), timeout_ms)); }

Result<std::pair<int64_t, int64_t>> Reader::Watermarks(const std::string& topic, int32_t partition, int timeout_ms) {
  int64_t low = -1, high = -1;
  if (rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(rk_.get(), topic.c_str(), partition, &low, &high, timeout_ms)) {
    return KafkaStatus(err, "reading the end offset of " + topic + "[" + std::to_string(partition) + "]");
  }
  return std::make_pair(low, high);
}

}  // namespace kstrand::kafka
