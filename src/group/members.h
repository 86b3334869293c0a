// Member announcements: how the members of a group see each other on any
// broker, the embedded one included (it has no DescribeGroups or ListGroups).
//
// Each Runtime publishes a small JSON record about itself to the members topic
// (`members.topic`, kDefaultMembersTopic by default; keyed by its instance id)
// when its assignment changes and every `members.interval`, and a tombstone
// when it leaves. A MemberDirectory follows that topic and keeps the live
// records: the dashboard's group view, `kstrand groups` on the embedded
// broker, the tutorial's leaderboard and key routing read it. A record not
// refreshed within three of its member's intervals is dropped (a crashed member).
//
// Thread safety: MemberDirectory's methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kafka/client.h"
#include "group/announcement.h"
#include "kstrand/status.h"
#include "kstrand/types.h"

namespace kstrand::group {

class MemberDirectory {
 public:
  // Follows `topic` from its beginning with a group-less consumer built from
  // `props` (bootstrap.servers and security settings). A missing topic is an
  // empty directory until the topic appears.
  static Result<std::unique_ptr<MemberDirectory>> Start(kafka::Properties props,
                                                        std::string topic = std::string(kDefaultMembersTopic));
  ~MemberDirectory();
  MemberDirectory(const MemberDirectory&) = delete;
  MemberDirectory& operator=(const MemberDirectory&) = delete;

  // Live members of `group` (all groups if empty), sorted by group, member, instance.
  std::vector<Announcement> Members(std::string_view group = {}) const;
  // Groups with at least one live member, sorted.
  std::vector<std::string> Groups() const;
  // Waits until everything in the topic when this was called has been read.
  bool WaitCaughtUp(std::chrono::milliseconds timeout) const;

 private:
  class Impl;
  explicit MemberDirectory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand::group
