// Partitioner: keys map to the partitions Kafka's Java client and librdkafka
// choose for them, so state lives where the producer wrote the key.
#include "state/partitioner.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <random>
#include <string>

namespace kstrand::state {
namespace {

// Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
TEST(PartitionerTest, Murmur2MatchesKafkasJavaTestVectors) {
  EXPECT_EQ(Murmur2("21"), -973932308);
  EXPECT_EQ(Murmur2("foobar"), -790332482);
  EXPECT_EQ(Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(Murmur2("abc"), 479470107);
}

TEST(PartitionerTest, PartitionForMasksTheSignBitLikeJavasToPositive) {
  // murmur2("foobar") is negative: abs() would give a different partition.
  EXPECT_EQ(PartitionFor("foobar", 50), (-790332482 & 0x7fffffff) % 50);
  EXPECT_EQ(PartitionFor("foobar", 1), 0);
}

TEST(PartitionerTest, PartitionForAgreesWithLibrdkafkaOnRandomKeys) {
  std::mt19937 random(20261121);
  std::uniform_int_distribution<size_t> length(0, 64);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int32_t partitions : {1, 3, 7, 12, 64, 1000}) {
    for (int i = 0; i < 10'000; ++i) {
      std::string key(length(random), '\0');
      for (char& c : key) c = static_cast<char>(byte(random));
      const int32_t expected =
          rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
      ASSERT_EQ(PartitionFor(key, partitions), expected) << "key of " << key.size() << " bytes, partitions "
                                                         << partitions;
    }
  }
}

}  // namespace
}  // namespace kstrand::state
