// RAII over librdkafka handles: one unique_ptr + deleter per handle type, so no
// code path can leak or double-free one. Internal; never in a public header.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>

namespace kstrand::kafka {

template <auto Destroy>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept { if (p) Destroy(p); }
};

// Destroying a consumer handle also needs rd_kafka_consumer_close first; the
// owner (Consumer) does that explicitly, in a fixed order, before this runs.
// DestroyClient (client.cc): rd_kafka_destroy, after forgetting what NewClient
// recorded for the handle.
void DestroyClient(rd_kafka_t* rk) noexcept;
// For a consumer whose close was abandoned (Consumer::Close's deadline):
// librdkafka's destroy still waits for the group handle to end, up to
// session.timeout.ms when the coordinator is unreachable, so it runs on a
// thread of its own and the caller goes on.
void DestroyClientInBackground(rd_kafka_t* rk) noexcept;
// How many of those are still being destroyed. A process that exits
// meanwhile should leave with _Exit (librdkafka's threads still run).
int ClientsBeingDestroyed() noexcept;
using ClientPtr = std::unique_ptr<rd_kafka_t, Deleter<DestroyClient>>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, Deleter<rd_kafka_conf_destroy>>;
using TopicPartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, Deleter<rd_kafka_topic_partition_list_destroy>>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, Deleter<rd_kafka_message_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_destroy>>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_destroy>>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, Deleter<rd_kafka_headers_destroy>>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, Deleter<rd_kafka_error_destroy>>;
using AdminOptionsPtr =
    std::unique_ptr<rd_kafka_AdminOptions_t, Deleter<rd_kafka_AdminOptions_destroy>>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, Deleter<rd_kafka_NewTopic_destroy>>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const noexcept { if (m) rd_kafka_metadata_destroy(m); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

}  // namespace kstrand::kafka
