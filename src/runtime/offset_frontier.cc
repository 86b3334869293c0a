#include "runtime/offset_frontier.h"

#include <algorithm>

namespace kstrand::runtime {

void OffsetFrontier::Track(int64_t offset) {
  window_.push_back({offset, false});
  next_ = offset + 1;
  ++pending_;
}

void OffsetFrontier::Complete(int64_t offset) {
  // In partition order completions arrive at the front; key order may complete
  // out of order, so fall back to a binary search.
  auto it = (!window_.empty() && window_.front().offset == offset)
                ? window_.begin()
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
