/// @file
/// @brief Strong types for Kafka identifiers, so an offset is never passed
/// where a partition was meant.
///
/// Values; thread-safe as any value.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

/// kstrand's public API: everything in include/kstrand/.
namespace kstrand {

/// A value of type `T` that only converts explicitly, tagged by `Tag` so two
/// identifiers of the same underlying type (an offset and a generation) do not mix.
template <typename T, typename Tag>
class NamedType {
 public:
  /// A zero value.
  constexpr NamedType() = default;
  /// Wraps `v`; explicit, so a raw number never becomes an identifier by accident.
  constexpr explicit NamedType(T v) : v_(v) {}
  /// The underlying value.
  constexpr T value() const { return v_; }
  /// Ordered as the underlying values.
  constexpr auto operator<=>(const NamedType&) const = default;

 private:
  T v_{};
};

/// The topic kstrand members announce themselves on by default
/// (RuntimeConfig::members_topic, RouterConfig and GroupInspector read it).
inline constexpr std::string_view kDefaultMembersTopic = "__kstrand_members";

/// A Kafka offset within a partition.
using Offset = NamedType<int64_t, struct OffsetTag>;
/// A partition number within a topic.
using Partition = NamedType<int32_t, struct PartitionTag>;
/// Counts assignments of one partition to this member; work stamped with an
/// older generation can never commit into a newer assignment.
using Generation = NamedType<uint64_t, struct GenerationTag>;

/// One partition of one topic.
struct TopicPartition {
  std::string topic;    ///< The topic's name.
  Partition partition;  ///< The partition within the topic.
  /// Ordered by topic, then partition.
  auto operator<=>(const TopicPartition&) const = default;
  /// "topic[partition]", as logs and the CLI print it.
  std::string ToString() const { return topic + "[" + std::to_string(partition.value()) + "]"; }
};

}  // namespace kstrand

/// Hashes a TopicPartition, so it can key an unordered container.
template <>
struct std::hash<kstrand::TopicPartition> {
  /// Combines the topic's and the partition's hashes.
  size_t operator()(const kstrand::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + std::hash<int32_t>()(tp.partition.value());
  }
};
