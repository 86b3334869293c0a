// What `kstrand consume --report/--trace/--max-messages` measures: the count of
// processed messages, first and last processing times, end-to-end latency
// (processing end minus the message's Kafka timestamp) in a log histogram, and
// optionally one trace line per message. The RESULT line it prints is the
// format bench/peers/README.md fixes for kstrand and the peers it is measured
// against, so scripts/bench reads all of them the same way.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "kstrand/status.h"

namespace kstrand::cli {

class ProcessingReport {
 public:
  // `trace_path` empty: no trace.
  static Result<std::unique_ptr<ProcessingReport>> Open(const std::string& trace_path);
  ~ProcessingReport();

  // One message finished processing; `produced` is its Kafka timestamp.
  // Thread-safe; returns how many messages have been recorded, this one included.
  uint64_t Record(int32_t partition, std::chrono::system_clock::time_point produced);

  // "RESULT peer=kstrand processed=... peak_rss_kb=..."; flushes the trace.
  std::string ResultLine();

  // The histogram's bucket for a latency, and a bucket's lower bound (us).
  // Buckets grow by 1%, so a percentile is exact to 1%.
  static size_t Bucket(double latency_us);
  static double BucketLowerBoundUs(size_t bucket);

 private:
  ProcessingReport() = default;
  double PercentileMs(double fraction) const;

  // 1.01^2100 us is ~20 minutes: anything slower shares the last bucket.
  static constexpr size_t kBuckets = 2100;
  std::array<std::atomic<uint64_t>, kBuckets> histogram_{};
  std::atomic<uint64_t> processed_{0};
  std::atomic<int64_t> first_us_{INT64_MAX};
  std::atomic<int64_t> last_us_{0};
  std::mutex trace_mu_;
  std::FILE* trace_ = nullptr;
};

// VmHWM of this process in KiB, 0 if /proc does not say.
uint64_t PeakRssKb();

}  // namespace kstrand::cli
