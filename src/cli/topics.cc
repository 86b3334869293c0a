// `kstrand topics create|list|describe`, for real Kafka (Admin API) and the
// embedded broker (which creates topics through its control channel).
#include "cli/apps.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/error.h"
#include "kafka/local_broker.h"

namespace kstrand::cli {
namespace {

struct TopicsOptions {
  Connection conn;
  std::string topic;
  int partitions = 1;
  int replication = 1;
};

int Create(TopicsOptions& opts) {
  auto rk = Connect(opts.conn, "kstrand-topics");
  if (!rk.ok()) return Fail(rk.status());
  Status st = opts.conn.embedded && !opts.conn.control.empty()
                  ? kafka::CreateTopicThroughControl(opts.conn.control, opts.topic, opts.partitions)
                  : kafka::CreateTopic(rk->get(), opts.topic, opts.partitions, opts.replication,
                                       opts.conn.connect_timeout_ms());
  if (st.code() == kafka::MakeErrorCode(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)) {
    st = Status(st.code(), st.detail() + " (an embedded broker? create topics with `kstrand broker --topic` "
                                         "or run this with no -b while `kstrand broker` runs)");
  }
  if (!st.ok()) return Fail(st);
  std::printf("created topic %s with %d partitions\n", opts.topic.c_str(), opts.partitions);
  return 0;
}

int List(TopicsOptions& opts) {
  auto rk = Connect(opts.conn, "kstrand-topics");
  if (!rk.ok()) return Fail(rk.status());
  auto topics = kafka::DescribeTopics(rk->get(), opts.conn.connect_timeout_ms());
  if (!topics.ok()) return Fail(topics.status());
  for (const auto& t : *topics) std::printf("%s\t%zu partitions\n", t.name.c_str(), t.partitions.size());
  return 0;
}

int Describe(TopicsOptions& opts) {
  auto rk = Connect(opts.conn, "kstrand-topics");
  if (!rk.ok()) return Fail(rk.status());
  auto topics = kafka::DescribeTopics(rk->get(), opts.conn.connect_timeout_ms(), opts.topic, true);
  if (!topics.ok()) return Fail(topics.status());
  const auto& t = topics->front();
  std::printf("topic %s: %zu partitions\n%-10s %-7s %-12s %-12s %s\n", t.name.c_str(), t.partitions.size(),
              "partition", "leader", "low", "high", "messages");
  for (const auto& p : t.partitions) {
    std::printf("%-10d %-7d %-12ld %-12ld %ld\n", p.id, p.leader, p.low, p.high,
                p.high >= 0 && p.low >= 0 ? p.high - p.low : -1L);
  }
  return 0;
}

}  // namespace

void AddTopicsCommand(CLI::App& app, SetAction set_action) {
  auto opts = std::make_shared<TopicsOptions>();
  auto* cmd = app.add_subcommand("topics", "Create, list and describe topics");
  cmd->require_subcommand(1);
  auto* create = cmd->add_subcommand("create", "Create a topic");
  AddConnectionFlags(*create, opts->conn);
  create->add_option("-t,--topic", opts->topic, "Topic name")->required();
  create->add_option("-p,--partitions", opts->partitions, "Partitions")->capture_default_str()->check(CLI::Range(1, 10000));
  create->add_option("-r,--replication-factor", opts->replication, "Replication factor (real Kafka)")
      ->capture_default_str()->check(CLI::Range(1, 32));
  create->callback([opts, set_action] { set_action([opts] { return Create(*opts); }); });
  auto* list = cmd->add_subcommand("list", "List topics");
  AddConnectionFlags(*list, opts->conn);
  list->callback([opts, set_action] { set_action([opts] { return List(*opts); }); });
  auto* describe = cmd->add_subcommand("describe", "Partitions, leaders and offsets of a topic");
  AddConnectionFlags(*describe, opts->conn);
  describe->add_option("-t,--topic", opts->topic, "Topic name")->required();
  describe->callback([opts, set_action] { set_action([opts] { return Describe(*opts); }); });
}

}  // namespace kstrand::cli
