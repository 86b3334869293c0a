// The key partitioner (state/partitioner.h): state for a key must live on the
// partition every producer writes the key to, so for any key and count:
//   - the partition is in [0, partitions) and the same on every call;
//   - it is librdkafka's murmur2_random partitioner's choice (Java's default
//     partitioner agrees with it for non-null keys).
#include <fuzzer/FuzzedDataProvider.h>
#include <librdkafka/rdkafka.h>

#include <string>

#include "check.h"
#include "state/partitioner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Real topics have few partitions; any positive int32 must work.
  const int32_t partitions = in.ConsumeBool() ? in.ConsumeIntegralInRange<int32_t>(1, 64)
                                              : in.ConsumeIntegralInRange<int32_t>(1, INT32_MAX);
  const std::string key = in.ConsumeRemainingBytesAsString();

  const int32_t p = kstrand::state::PartitionFor(key, partitions);
  FUZZ_CHECK(p >= 0 && p < partitions);
  FUZZ_CHECK(kstrand::state::PartitionFor(key, partitions) == p);
  // murmur2_random reads neither the topic nor the opaques for a non-null key
  // (a null one would be random); key.data() is non-null even when empty.
  const int32_t librdkafka =
      rd_kafka_msg_partitioner_murmur2_random(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
  FUZZ_CHECK(p == librdkafka);
  return 0;
}
