#include "http/snapshot.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace kstrand::http {

MemberSnapshot Capture(const Runtime& runtime) {
  const RuntimeConfig& config = runtime.config();
  MemberSnapshot s;
  s.name = config.name;
  s.group = config.group_id;
  // Read running before the stats, so a member reported running has stats at least that fresh.
  s.running = runtime.running();
  for (const auto& t : config.topics) s.topics.push_back(t.topic);
  for (const Setting& setting : Settings()) s.settings.emplace_back(setting.name, config.Get(setting.name));
  s.stats = runtime.Stats();
  return s;
}

namespace {

std::string MemberId(std::string_view name, std::string_view host, int64_t pid) {
  return std::string(name) + "@" + std::string(host) + ":" + std::to_string(pid);
}

GroupPartition Owned(const group::AnnouncedPartition& progress, const GroupMember& owner) {
  GroupPartition row;
  static_cast<group::AnnouncedPartition&>(row) = progress;
  row.owner = owner.name;
  row.owner_id = owner.id;
  return row;
}

}  // namespace

GroupView BuildGroupView(std::string group, const std::vector<MemberSnapshot>& local,
                         const std::vector<group::Announcement>& announced, std::string_view host, int64_t pid) {
  GroupView view;
  view.name = std::move(group);
  struct Claim {
    GroupPartition row;
    bool local;
    std::chrono::system_clock::time_point updated;
  };
  std::map<TopicPartition, Claim> claims;
  auto claim = [&](Claim c) {
    auto [it, fresh] = claims.try_emplace(c.row.partition, c);
    if (fresh) return;
    // Local figures are live; among announcements the newest wins.
    if (std::tie(c.local, c.updated) > std::tie(it->second.local, it->second.updated)) it->second = std::move(c);
  };

  for (const MemberSnapshot& m : local) {
    if (m.group != view.name) continue;
    GroupMember gm{.name = m.name, .id = MemberId(m.name, host, pid), .host = std::string(host), .pid = pid,
                   .local = true, .started = m.stats.started, .partitions = m.stats.partitions.size()};
    for (const PartitionStats& p : m.stats.partitions) {
      claim({Owned(group::Announced(p), gm), true, {}});
    }
    view.members.push_back(std::move(gm));
  }
  // Endpoints of local members come from their announcements (the runtime's
  // config has it too, but the announcement is what other processes see).
  auto local_member = [&](const group::Announcement& a) -> GroupMember* {
    if (a.host != host || a.pid != pid) return nullptr;
    for (auto& gm : view.members) {
      if (gm.local && gm.name == a.member) return &gm;
    }
    return nullptr;
  };
  for (const group::Announcement& a : announced) {
    if (a.group != view.name) continue;
    if (GroupMember* gm = local_member(a)) {
      gm->endpoint = a.endpoint;
      continue;
    }
    GroupMember gm{.name = a.member, .id = MemberId(a.member, a.host, a.pid), .host = a.host, .pid = a.pid,
                   .endpoint = a.endpoint, .local = false, .started = a.started, .partitions = a.partitions.size()};
    for (const group::AnnouncedPartition& p : a.partitions) {
      claim({Owned(p, gm), false, a.updated});
    }
    view.members.push_back(std::move(gm));
  }
  std::sort(view.members.begin(), view.members.end(),
            [](const GroupMember& a, const GroupMember& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
  for (auto& [tp, c] : claims) view.partitions.push_back(std::move(c.row));
  return view;
}

std::string NotReadyReason(const std::vector<MemberSnapshot>& members) {
  if (members.empty()) return "no runtime is served yet";
  for (const MemberSnapshot& m : members) {
    if (!m.running) return m.name + ": not running";
    // A member id comes with the first join (KIP-848 hands it out at once);
    // the classic protocol may report it late, so a first rebalance counts too.
    if (m.stats.member_id.empty() && m.stats.rebalances == 0) {
      return m.name + ": has not joined group " + m.group + " yet";
    }
  }
  return {};
}

}  // namespace kstrand::http
