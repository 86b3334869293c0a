// LatencyRecorder: the lock-free side of LatencyStats. Handlers on any thread
// record; Snapshot() copies the buckets (each bucket exact, the set of them
// not one instant: fine for a histogram read while it grows).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "kstrand/runtime.h"

namespace kstrand::runtime {

class LatencyRecorder {
 public:
  void Record(std::chrono::steady_clock::duration d) {
    const double seconds = std::chrono::duration<double>(d).count();
    const auto& bounds = LatencyStats::kBounds;
    const size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
                      std::memory_order_relaxed);
  }

  LatencyStats Snapshot() const {
    LatencyStats s;
    for (size_t i = 0; i < counts_.size(); ++i) {
      s.counts[i] = counts_[i].load(std::memory_order_relaxed);
      s.count += s.counts[i];
    }
    s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, LatencyStats::kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace kstrand::runtime
