// Conversions between kstrand's TopicPartition and librdkafka's partition lists.
#pragma once

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <vector>

#include "kafka/handles.h"
#include "kstrand/types.h"

namespace kstrand::kafka {

// A new list of `partitions`, offsets unset.
inline TopicPartitionListPtr ToList(const std::vector<TopicPartition>& partitions) {
  TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition.value());
  return list;
}

// The partitions of `list` (null: none), sorted.
inline std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list && i < list->cnt; ++i) out.push_back({list->elems[i].topic, Partition(list->elems[i].partition)});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kstrand::kafka
