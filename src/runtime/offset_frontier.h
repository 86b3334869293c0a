// OffsetFrontier: the committable position of one partition.
//
// Offsets are tracked in the order they were received (increasing) and marked
// complete in any order. The frontier is the lowest tracked offset not yet
// completed, or one past the last tracked offset when all are complete; it is
// the only offset ever committed, so a commit never passes a message that did
// not complete (a failed or dropped message holds it back for good).
//
// Not thread-safe: the owning Lane guards it with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace kstrand::runtime {

class OffsetFrontier {
 public:
  // `offset` must be greater than every offset tracked before.
  void Track(int64_t offset);
  // Marks a tracked offset complete; unknown offsets are ignored.
  void Complete(int64_t offset);
  // The offset to commit (next to consume), or nullopt before the first Track.
  std::optional<int64_t> Committable() const;
  // Tracked offsets not yet completed.
  size_t pending() const { return pending_; }
  // Offsets from the frontier to the last tracked one (what the commit
  // metadata must describe); 0 when everything tracked is complete.
  int64_t span() const { return window_.empty() ? 0 : next_ - window_.front().offset; }
  // The completed offsets above the frontier, ascending.
  std::vector<int64_t> CompletedAbove() const;

 private:
  struct Entry {
    int64_t offset;
    bool done;
  };
  std::deque<Entry> window_;  // from the frontier up to the last tracked offset
  int64_t next_ = -1;         // last tracked offset + 1
  size_t pending_ = 0;
};

}  // namespace kstrand::runtime
