#include "cli/load.h"

#include <charconv>
#include <thread>

namespace kstrand::cli {

std::string LoadKey(uint64_t key_index) { return "key-" + std::to_string(key_index); }

std::string LoadValue(std::string_view key, uint64_t seq, size_t size) {
  std::string v = std::string(key) + ":" + std::to_string(seq) + ":";
  if (v.size() < size) v.append(size - v.size(), 'x');
  return v;
}

std::optional<uint64_t> LoadSeq(std::string_view value) {
  auto first = value.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = value.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(value.data() + first + 1, value.data() + second, seq);
  if (ec != std::errc() || end != value.data() + second) return std::nullopt;
  return seq;
}

Status ProduceLoad(kafka::Producer& producer, const LoadSpec& spec, std::atomic<uint64_t>& progress,
                   const std::atomic<bool>& stop) {
  std::vector<uint64_t> next_seq(spec.keys, 0);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < spec.count && !stop.load(); ++i) {
    if (spec.rate > 0) {
      auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / spec.rate));
      std::this_thread::sleep_until(due);
    }
    uint64_t k = i % spec.keys;
    std::string key = LoadKey(k);
    KSTRAND_RETURN_IF_ERROR(producer.Produce(spec.topic, key, LoadValue(key, next_seq[k]++, spec.size)));
    progress.fetch_add(1);
  }
  return Status::Ok();
}

}  // namespace kstrand::cli
