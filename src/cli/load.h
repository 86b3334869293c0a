// The keyed load that `produce` and `demo` write and `consume`/`demo` check:
// key "key-N", value "key-N:SEQ:" padded to a size, where SEQ counts per key
// from 0. Reading SEQ back lets a consumer detect per-key order violations.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/producer.h"
#include "kstrand/status.h"

namespace kstrand::cli {

std::string LoadKey(uint64_t key_index);
std::string LoadValue(std::string_view key, uint64_t seq, size_t size);
// SEQ of a value written by LoadValue; nullopt for anything else.
std::optional<uint64_t> LoadSeq(std::string_view value);

struct LoadSpec {
  std::string topic;
  uint64_t count = 10000;
  double rate = 0;  // messages per second; 0: as fast as possible
  uint64_t keys = 16;
  size_t size = 100;
};

// Produces `spec` through `producer`, round-robin over the keys, paced to the
// rate. `progress` is advanced per message; stops early when `stop` is set.
Status ProduceLoad(kafka::Producer& producer, const LoadSpec& spec, std::atomic<uint64_t>& progress,
                   const std::atomic<bool>& stop);

}  // namespace kstrand::cli
