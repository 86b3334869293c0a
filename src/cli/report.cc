#include "cli/report.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace kstrand::cli {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const double kLogGrowth = std::log(1.01);

}  // namespace

Result<std::unique_ptr<ProcessingReport>> ProcessingReport::Open(const std::string& trace_path) {
  std::unique_ptr<ProcessingReport> report(new ProcessingReport());
  if (!trace_path.empty()) {
    report->trace_ = std::fopen(trace_path.c_str(), "w");
    if (report->trace_ == nullptr) {
      return Status(Errc::kInvalidArgument, "--trace " + trace_path + ": " + std::strerror(errno));
    }
  }
  return report;
}

ProcessingReport::~ProcessingReport() {
  if (trace_ != nullptr) std::fclose(trace_);
}

size_t ProcessingReport::Bucket(double latency_us) {
  if (!(latency_us >= 1)) return 0;  // also NaN
  double b = std::floor(std::log(latency_us) / kLogGrowth);
  return b >= kBuckets - 1 ? kBuckets - 1 : static_cast<size_t>(b);
}

double ProcessingReport::BucketLowerBoundUs(size_t bucket) { return std::pow(1.01, static_cast<double>(bucket)); }

uint64_t ProcessingReport::Record(int32_t partition, std::chrono::system_clock::time_point produced) {
  const int64_t now = NowUs();
  const int64_t produced_us =
      std::chrono::duration_cast<std::chrono::microseconds>(produced.time_since_epoch()).count();
  histogram_[Bucket(static_cast<double>(now - produced_us))].fetch_add(1, std::memory_order_relaxed);
  int64_t first = first_us_.load(std::memory_order_relaxed);
  while (now < first && !first_us_.compare_exchange_weak(first, now, std::memory_order_relaxed)) {
  }
  int64_t last = last_us_.load(std::memory_order_relaxed);
  while (now > last && !last_us_.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
  }
  if (trace_ != nullptr) {
    std::lock_guard lock(trace_mu_);
    std::fprintf(trace_, "%d %lld\n", partition, static_cast<long long>(now / 1000));
  }
  return processed_.fetch_add(1, std::memory_order_relaxed) + 1;
}

double ProcessingReport::PercentileMs(double fraction) const {
  uint64_t total = processed_.load();
  if (total == 0) return 0;
  // The smallest bucket whose cumulative count reaches the fraction.
  auto rank = static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += histogram_[b].load();
    if (seen >= rank && seen > 0) return b == 0 ? 0 : BucketLowerBoundUs(b) / 1000;
  }
  return BucketLowerBoundUs(kBuckets - 1) / 1000;
}

std::string ProcessingReport::ResultLine() {
  if (trace_ != nullptr) {
    std::lock_guard lock(trace_mu_);
    std::fflush(trace_);
  }
  const uint64_t n = processed_.load();
  const double seconds = n < 2 ? 0 : static_cast<double>(last_us_.load() - first_us_.load()) / 1e6;
  const double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  return fmt::format("RESULT peer=kstrand processed={} seconds={:.3f} rate={:.0f} p50_ms={:.3f} p99_ms={:.3f} "
                     "p999_ms={:.3f} peak_rss_kb={}",
                     n, seconds, rate, PercentileMs(0.50), PercentileMs(0.99), PercentileMs(0.999), PeakRssKb());
}

uint64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

}  // namespace kstrand::cli
