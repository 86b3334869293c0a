// Consumer lag, computed one way everywhere (a member's own stats, the group
// inspector, `kstrand groups`).
#pragma once

#include <algorithm>
#include <cstdint>

namespace kstrand::kafka {

// Lag as kafka-consumer-groups reports it: the records between where the group
// resumes (`from`: its committed offset, or where consumption starts when
// nothing is committed) and the partition's end offset. -1 when either is
// unknown; a commit past the end (a topic deleted and re-created) is no backlog.
inline int64_t Lag(int64_t end_offset, int64_t from) {
  return end_offset < 0 || from < 0 ? -1 : std::max<int64_t>(end_offset - from, 0);
}

}  // namespace kstrand::kafka
