// Kafka's key-to-partition mapping, so that state kept for a key lives on the
// partition every Kafka producer writes that key to: Java's DefaultPartitioner
// (BuiltInPartitioner.partitionForKey) and librdkafka's `murmur2` and
// `murmur2_random` partitioners agree on it for non-null keys.
//
// Thread safety: pure functions; call from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace kstrand::state {

// Kafka's Utils.murmur2 (MurmurHash2, seed 0x9747b28c), as Java's signed int.
int32_t Murmur2(std::string_view key);

// (Murmur2(key) & 0x7fffffff) % partitions. Precondition: partitions > 0.
int32_t PartitionFor(std::string_view key, int32_t partitions);

}  // namespace kstrand::state
