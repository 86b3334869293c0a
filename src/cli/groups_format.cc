#include "cli/groups_format.h"

#include <algorithm>
#include <map>
#include <vector>

#include "cli/common.h"

namespace kstrand::cli {
namespace {

constexpr char kUnknown[] = "-";

std::string Number(int64_t v) { return v < 0 ? kUnknown : std::to_string(v); }
std::string Text(const std::string& s) { return s.empty() ? kUnknown : s; }

// Left-aligned columns two spaces apart, widths from the widest cell, no
// trailing blanks: the layout of kafka-consumer-groups.sh, which scripts
// written for it split on whitespace.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string Render() const {
    std::vector<size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        out += row[i];
        if (i + 1 < row.size()) out += std::string(widths[i] - row[i].size() + 2, ' ');
      }
      out += '\n';
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

nlohmann::json NullIfUnknown(int64_t v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }
nlohmann::json NullIfEmpty(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json PartitionsJson(const std::vector<TopicPartition>& tps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& tp : tps) out.push_back({{"topic", tp.topic}, {"partition", tp.partition.value()}});
  return out;
}

}  // namespace

std::string GroupSummary(const GroupDescription& group, std::string_view members_topic) {
  std::string out = "Consumer group '" + group.group + "' is " + group.state;
  size_t n = group.members.size();
  out += n == 0 ? ", no active members" : " with " + std::to_string(n) + (n == 1 ? " member" : " members");
  if (group.members_from == "announcements") {
    out += " (from kstrand member announcements on " + std::string(members_topic) +
           ": the broker has no DescribeGroups, so only kstrand members are seen)";
  } else if (group.members_from == "none") {
    out += " (members unknown: the broker has no DescribeGroups and no members topic was given)";
  }
  return out + "; total lag " + std::to_string(group.TotalLag()) + ".";
}

std::string FormatOffsetsTable(const GroupDescription& group) {
  std::map<std::string, const GroupMember*> by_id;
  for (const auto& m : group.members) by_id[m.member_id] = &m;
  Table table({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
               "CLIENT-ID"});
  for (const auto& p : group.partitions) {
    auto owner = by_id.find(p.owner);
    const GroupMember* m = owner == by_id.end() ? nullptr : owner->second;
    table.Add({group.group, p.partition.topic, std::to_string(p.partition.partition.value()), Number(p.committed),
               Number(p.end_offset), Number(p.lag), Text(p.owner), m ? Text(m->host) : kUnknown,
               m ? Text(m->client_id) : kUnknown});
  }
  return table.Render();
}

std::string FormatMembersTable(const GroupDescription& group) {
  bool endpoints = std::any_of(group.members.begin(), group.members.end(),
                               [](const GroupMember& m) { return !m.endpoint.empty(); });
  std::vector<std::string> header = {"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"};
  if (endpoints) header.push_back("ENDPOINT");
  Table table(std::move(header));
  for (const auto& m : group.members) {
    std::vector<std::string> row = {group.group,
                                    Text(m.member_id),
                                    Text(m.host),
                                    Text(m.client_id),
                                    std::to_string(m.assignment.size()),
                                    m.assignment.empty() ? kUnknown : FormatPartitions(m.assignment)};
    if (endpoints) row.push_back(Text(m.endpoint));
    table.Add(std::move(row));
  }
  return table.Render();
}

nlohmann::json GroupToJson(const GroupDescription& group) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : group.members) {
    members.push_back({{"member_id", m.member_id},
                       {"client_id", m.client_id},
                       {"host", m.host},
                       {"endpoint", NullIfEmpty(m.endpoint)},
                       {"assignment", PartitionsJson(m.assignment)}});
  }
  nlohmann::json partitions = nlohmann::json::array();
  for (const auto& p : group.partitions) {
    partitions.push_back({{"topic", p.partition.topic},
                          {"partition", p.partition.partition.value()},
                          {"committed", NullIfUnknown(p.committed)},
                          {"end_offset", NullIfUnknown(p.end_offset)},
                          {"lag", NullIfUnknown(p.lag)},
                          {"owner", NullIfEmpty(p.owner)}});
  }
  return {{"group", group.group},
          {"state", group.state},
          {"members_from", group.members_from},
          {"total_lag", group.TotalLag()},
          {"members", std::move(members)},
          {"partitions", std::move(partitions)}};
}

}  // namespace kstrand::cli
