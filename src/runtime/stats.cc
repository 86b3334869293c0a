// LatencyStats arithmetic (the struct is in kstrand/runtime.h).
#include <algorithm>

#include "kstrand/runtime.h"

namespace kstrand {

double LatencyStats::Quantile(double q) const {
  if (count == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  double below = 0;  // observations in the buckets before i
  for (size_t i = 0; i < counts.size(); ++i) {
    const double in_bucket = static_cast<double>(counts[i]);
    if (in_bucket > 0 && below + in_bucket >= rank) {
      const double lower = i == 0 ? 0 : kBounds[i - 1];
      if (i == kBounds.size()) return lower;  // unbounded above: say the least it is
      return lower + (kBounds[i] - lower) * ((rank - below) / in_bucket);
    }
    below += in_bucket;
  }
  return kBounds.back();
}

void LatencyStats::Add(const LatencyStats& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  count += other.count;
  sum_seconds += other.sum_seconds;
}

}  // namespace kstrand
