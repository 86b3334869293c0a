#include "runtime/offset_frontier.h"

#include <algorithm>

namespace kstrand::runtime {

void OffsetFrontier::Track(int64_t offset) {
  window_.push_back({offset, false});
  next_ = offset + 1;
  ++pending_;
}

void OffsetFrontier::Complete(int64_t offset) {
  if (window_.empty() || offset < window_.front().offset) return;
  // A partition's offsets are mostly consecutive, so an offset is usually at
  // its distance from the front (key and unordered order complete anywhere in
  // the window); gaps (compaction, transaction markers) need a binary search.
  const auto distance = static_cast<uint64_t>(offset - window_.front().offset);
  auto it = distance < window_.size() && window_[distance].offset == offset
                ? window_.begin() + static_cast<std::ptrdiff_t>(distance)
                : std::lower_bound(window_.begin(), window_.end(), offset,
                                   [](const Entry& e, int64_t o) { return e.offset < o; });
  if (it == window_.end() || it->offset != offset || it->done) return;
  it->done = true;
  --pending_;
  while (!window_.empty() && window_.front().done) window_.pop_front();
}

std::optional<int64_t> OffsetFrontier::Committable() const {
  if (next_ < 0) return std::nullopt;
  return window_.empty() ? next_ : window_.front().offset;
}

std::vector<int64_t> OffsetFrontier::CompletedAbove() const {
  std::vector<int64_t> out;
  out.reserve(window_.size() - pending_);
  for (const Entry& e : window_) {
    if (e.done) out.push_back(e.offset);
  }
  return out;
}

}  // namespace kstrand::runtime
