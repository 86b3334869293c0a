#include "state/partitioner.h"

namespace kstrand::state {

int32_t Murmur2(std::string_view key) {
  // Unsigned arithmetic gives Java's wrapping int multiplication and `>>>`
  // without signed-overflow undefined behaviour.
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kMultiplier = 0x5bd1e995;
  constexpr int kShift = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const size_t length = key.size();

  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t whole_words = length / 4;
  for (size_t i = 0; i < whole_words; ++i) {
    const unsigned char* word = data + 4 * i;
    // Little-endian regardless of the host, as Java assembles it byte by byte.
    uint32_t k = uint32_t{word[0]} | uint32_t{word[1]} << 8 | uint32_t{word[2]} << 16 | uint32_t{word[3]} << 24;
    k *= kMultiplier;
    k ^= k >> kShift;
    k *= kMultiplier;
    h *= kMultiplier;
    h ^= k;
  }
  const unsigned char* tail = data + 4 * whole_words;
  switch (length % 4) {
    case 3: h ^= uint32_t{tail[2]} << 16; [[fallthrough]];
    case 2: h ^= uint32_t{tail[1]} << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t{tail[0]};
      h *= kMultiplier;
  }
  h ^= h >> 13;
  h *= kMultiplier;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t PartitionFor(std::string_view key, int32_t partitions) {
  // Java's Utils.toPositive: masking, not abs(), so INT32_MIN maps to 0.
  return (Murmur2(key) & 0x7fffffff) % partitions;
}

}  // namespace kstrand::state
