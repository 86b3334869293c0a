// Strong types for Kafka identifiers, so an offset is never passed where a
// partition was meant. Values; thread-safe as any value.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace kstrand {

template <typename T, typename Tag>
class NamedType {
 public:
  constexpr NamedType() = default;
  constexpr explicit NamedType(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr auto operator<=>(const NamedType&) const = default;

 private:
  T v_{};
};

using Offset = NamedType<int64_t, struct OffsetTag>;
using Partition = NamedType<int32_t, struct PartitionTag>;
// Counts assignments of one partition to this member; work stamped with an
// older generation can never commit into a newer assignment.
using Generation = NamedType<uint64_t, struct GenerationTag>;

struct TopicPartition {
  std::string topic;
  Partition partition;
  auto operator<=>(const TopicPartition&) const = default;
  std::string ToString() const { return topic + "[" + std::to_string(partition.value()) + "]"; }
};

}  // namespace kstrand

template <>
struct std::hash<kstrand::TopicPartition> {
  size_t operator()(const kstrand::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + std::hash<int32_t>()(tp.partition.value());
  }
};
