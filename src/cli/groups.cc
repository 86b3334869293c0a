// `kstrand groups list|describe`: who is in a consumer group, what it has
// committed and how far behind it is, like `kafka-consumer-groups.sh`. Real
// Kafka answers through the Admin API; the embedded broker, which has no
// ListGroups or DescribeGroups, through kstrand's member announcements.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/groups_format.h"
#include "kstrand/groups.h"

namespace kstrand::cli {
namespace {

struct GroupsOptions {
  Connection conn;
  std::string group;
  std::vector<std::string> topics;
  std::string members_topic = GroupInspector::Options().members_topic;
  bool json = false;
  bool members = false;
};

// Group names, hosts and client ids come from other programs: a byte that is
// not UTF-8 becomes U+FFFD instead of an exception.
std::string Dump(const nlohmann::json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); }

Result<std::unique_ptr<GroupInspector>> Connect(GroupsOptions& opts) {
  KSTRAND_RETURN_IF_ERROR(opts.conn.Resolve());
  auto props = opts.conn.Properties(false);
  if (!props.ok()) return props.status();
  GroupInspector::Options options;
  options.brokers = opts.conn.brokers;
  options.kafka = std::move(props.value());
  options.members_topic = opts.members_topic;
  options.timeout = std::chrono::milliseconds(opts.conn.connect_timeout_ms());
  return GroupInspector::Connect(std::move(options));
}

int List(GroupsOptions& opts) {
  auto inspector = Connect(opts);
  if (!inspector.ok()) return Fail(inspector.status());
  std::string groups_from;
  auto groups = (*inspector)->ListGroups(&groups_from);
  if (!groups.ok()) return Fail(groups.status());
  if (opts.json) {
    std::printf("%s\n", Dump(nlohmann::json{{"groups", *groups}, {"groups_from", groups_from}}).c_str());
    return 0;
  }
  // On stderr, so stdout stays one group per line for scripts.
  if (groups_from == "announcements") {
    std::fprintf(stderr,
                 "note: the broker has no ListGroups (the embedded broker?): listing groups with live kstrand "
                 "members, from their announcements on %s\n",
                 opts.members_topic.c_str());
  }
  for (const auto& g : *groups) std::printf("%s\n", g.c_str());
  return 0;
}

int Describe(GroupsOptions& opts) {
  auto inspector = Connect(opts);
  if (!inspector.ok()) return Fail(inspector.status());
  auto group = (*inspector)->Describe(opts.group, opts.topics);
  if (!group.ok()) return Fail(group.status());
  if (opts.json) {
    std::printf("%s\n", Dump(GroupToJson(*group)).c_str());
    return 0;
  }
  std::printf("%s\n\n", GroupSummary(*group, opts.members_topic).c_str());
  // As kafka-consumer-groups: --members shows the members instead of offsets.
  if (!opts.members) {
    std::printf("%s", FormatOffsetsTable(*group).c_str());
    if (!group->members.empty()) std::printf("\n");
  }
  if (!group->members.empty() || opts.members) std::printf("%s", FormatMembersTable(*group).c_str());
  return 0;
}

}  // namespace

void AddGroupsCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<GroupsOptions>();
  auto* cmd = app.add_subcommand("groups", "List consumer groups; describe their members, offsets and lag");
  cmd->require_subcommand(1);
  auto add_common = [&](CLI::App& sub) {
    AddConnectionFlags(sub, opts->conn);
    sub.add_option("--members-topic", opts->members_topic,
                   "Topic kstrand members announce themselves on (members.topic); read when the broker has no "
                   "ListGroups/DescribeGroups")
        ->capture_default_str();
    sub.add_flag("--json", opts->json, "Print JSON");
  };
  auto* list = cmd->add_subcommand("list", "List consumer groups");
  add_common(*list);
  list->callback([opts, set_action] { set_action([opts] { return List(*opts); }); });
  auto* describe = cmd->add_subcommand(
      "describe", "Per partition: committed offset, end offset, lag and owner; then the members");
  add_common(*describe);
  describe->add_option("-G,--group", opts->group, "Consumer group")->required();
  describe->add_option("-t,--topic", opts->topics,
                       "Show only this topic's partitions (repeatable); default: the topics the group has committed "
                       "offsets for or is assigned");
  describe->add_flag("--members", opts->members, "Show the members and their assignments only");
  describe->callback([opts, set_action] { set_action([opts] { return Describe(*opts); }); });
}

}  // namespace kstrand::cli
