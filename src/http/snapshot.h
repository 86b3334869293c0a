// What the HTTP views render: a copy of every served runtime's state, taken at
// request time, and the group as its members announce themselves. Plain
// values, so metrics.h and status_json.h are pure functions of them (and unit
// tests build them by hand instead of running a group).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kstrand/runtime.h"
#include "group/members.h"

namespace kstrand::http {

// One runtime served by this process.
struct MemberSnapshot {
  std::string name;   // RuntimeConfig::name: the `member` label
  std::string group;
  bool running = false;
  std::vector<std::string> topics;
  // Every settings-table entry with this runtime's value. Only the table:
  // librdkafka properties may hold secrets and are never shown.
  std::vector<std::pair<std::string, std::string>> settings;
  RuntimeStats stats;
};

MemberSnapshot Capture(const Runtime& runtime);

// A member of the group, from this process or another.
struct GroupMember {
  std::string name;
  std::string id;  // "name@host:pid": tells apart equally named members of different processes
  std::string host;
  int64_t pid = 0;
  std::string endpoint;  // where it serves HTTP; empty if it does not
  bool local = false;    // served by this process: its figures are live, not announced
  std::chrono::system_clock::time_point started;
  size_t partitions = 0;
};

// A partition's progress (live, or as its owner announced it) and its owner.
struct GroupPartition : group::AnnouncedPartition {
  std::string owner;     // GroupMember::name
  std::string owner_id;  // GroupMember::id
};

struct GroupView {
  std::string name;
  // Why members of other processes are missing, if they are (no members
  // topic, the directory failed to start); empty otherwise.
  std::string note;
  std::vector<GroupMember> members;        // sorted by name, id
  std::vector<GroupPartition> partitions;  // sorted by topic, partition
};

// The group `group` as seen from this process (`host`, `pid`): its local
// runtimes with live stats, and every announced member that is not one of
// them. A partition claimed twice while it moves goes to a local owner, else
// to the most recent announcement.
GroupView BuildGroupView(std::string group, const std::vector<MemberSnapshot>& local,
                         const std::vector<group::Announcement>& announced, std::string_view host, int64_t pid);

// A runtime Remove()d from the server, kept so the dashboard's timeline still
// shows how it handed its partitions over (a member leaving is the moment
// people watch for).
struct DepartedMember {
  std::string name;
  std::string group;
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point left;  // when it was removed
  std::vector<RebalanceRecord> recent_rebalances;
};

struct Snapshot {
  std::chrono::system_clock::time_point now;
  std::string host;
  int64_t pid = 0;
  std::vector<MemberSnapshot> members;  // in the order they were added
  GroupView group;                      // the first member's group
  std::vector<DepartedMember> departed;  // oldest first
};

// Why this process is not ready to serve its share of the group, or empty
// when it is: at least one member, and every one runs and has joined its group.
std::string NotReadyReason(const std::vector<MemberSnapshot>& members);

}  // namespace kstrand::http
