// GroupInspector (kstrand/groups.h). Every call tries the Admin API first and
// falls back to member announcements only when the broker says it lacks the
// API, so the same code serves real Kafka and the embedded broker. (ListGroups
// asks DescribeGroups first, once per inspector: see there why.)
//
// What librdkafka 2.14's mock cluster (the embedded broker) answers:
//   ListConsumerGroups      no groups, one per-broker error _UNSUPPORTED_FEATURE
//   DescribeConsumerGroups  the group's own error _UNSUPPORTED_FEATURE
//                           (ConsumerGroupDescribe, then classic DescribeGroups)
//   ListConsumerGroupOffsets with no partitions ("all topics"): an empty list,
//                           whatever was committed; with partitions: offsets
//   ListOffsets             high and low watermarks, as real Kafka
// Hence on that broker the group's topics are found by asking for the offsets
// of every partition of every topic.
#include "kstrand/groups.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "kafka/lag.h"
#include "kafka/error.h"
#include "kafka/handles.h"
#include "kafka/local_broker.h"
#include "group/members.h"

namespace kstrand {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using ListGroupOffsetsPtr =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, kafka::Deleter<rd_kafka_ListConsumerGroupOffsets_destroy>>;

constexpr char kFromBroker[] = "broker";
constexpr char kFromAnnouncements[] = "announcements";
constexpr char kFromNone[] = "none";
// Described only to learn whether the broker has DescribeGroups; describing a
// group creates nothing on the broker.
constexpr char kProbeGroup[] = "__kstrand_groups_probe";

// One call's time budget: every request of the call shares it, so a call
// answers (or fails) within Options::timeout however many requests it takes.
class Deadline {
 public:
  explicit Deadline(milliseconds budget) : budget_(budget), at_(Clock::now() + budget) {}
  // At least 1: librdkafka reads 0 as "no wait" or "default" depending on the API.
  int LeftMs() const {
    auto left = std::chrono::duration_cast<milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(left, 1));
  }
  milliseconds Left() const { return milliseconds(LeftMs()); }
  milliseconds budget() const { return budget_; }

 private:
  milliseconds budget_;
  Clock::time_point at_;
};


int64_t OrUnknown(int64_t offset) { return offset < 0 ? -1 : offset; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<TopicPartition> ToPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list && i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, Partition(list->elems[i].partition)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

kafka::TopicPartitionListPtr ToList(const std::vector<TopicPartition>& tps, int64_t offset) {
  kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& tp : tps) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition.value())->offset = offset;
  }
  return list;
}

}  // namespace

int64_t GroupDescription::TotalLag() const {
  int64_t total = 0;
  for (const auto& p : partitions) total += std::max<int64_t>(p.lag, 0);
  return total;
}

class GroupInspector::Impl {
 public:
  Impl(Options options, kafka::ClientPtr rk) : options_(std::move(options)), rk_(std::move(rk)) {}

  Result<std::vector<std::string>> ListGroups(std::string* groups_from) {
    Deadline deadline(options_.timeout);
    // librdkafka 2.14.2 leaks a reference to its ops queue whenever it cannot
    // build a ListGroups request because the broker lacks the API
    // (rd_kafka_ListGroupsRequest returns without releasing its reply queue).
    // A broker without ListGroups lacks DescribeGroups too, which fails
    // cleanly: ask that first, once per inspector.
    if (!broker_describes_groups_.has_value()) {
      GroupDescription probe;
      Status st = DescribeMembers(kProbeGroup, deadline, probe, /*probe_only=*/true);
      if (st.code() == make_error_code(Errc::kTimedOut)) return st;
      // Any other answer, "not authorized" included, came from a broker that
      // has the API; ListGroups may still be allowed.
      broker_describes_groups_ = broker_describes_groups_.value_or(true);
    }
    if (!*broker_describes_groups_) {
      if (groups_from) *groups_from = kFromAnnouncements;
      return AnnouncedGroups(deadline);
    }
    auto event = AdminCall(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, deadline, "listing consumer groups",
                           [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* queue) {
                             rd_kafka_ListConsumerGroups(rk_.get(), opts, queue);
                           });
    if (!event.ok()) return event.status();
    const rd_kafka_ListConsumerGroups_result_t* result = rd_kafka_event_ListConsumerGroups_result(event->get());
    if (!result) return Status(Errc::kInternal, "listing consumer groups: unexpected answer");
    // The request goes to every broker; each one lacking ListGroups adds an
    // error. Fall back only when every error says so, never to hide a failure.
    size_t error_count = 0;
    const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &error_count);
    bool unsupported = error_count > 0;
    for (size_t i = 0; i < error_count; ++i) unsupported &= kafka::IsUnsupported(rd_kafka_error_code(errors[i]));
    if (unsupported) {
      if (groups_from) *groups_from = kFromAnnouncements;
      return AnnouncedGroups(deadline);
    }
    if (error_count > 0) {
      return BrokerError(rd_kafka_error_code(errors[0]), "listing consumer groups", rd_kafka_error_string(errors[0]),
                         deadline);
    }
    size_t count = 0;
    const rd_kafka_ConsumerGroupListing_t** listings = rd_kafka_ListConsumerGroups_result_valid(result, &count);
    std::vector<std::string> groups;
    for (size_t i = 0; i < count; ++i) groups.emplace_back(rd_kafka_ConsumerGroupListing_group_id(listings[i]));
    std::sort(groups.begin(), groups.end());
    if (groups_from) *groups_from = kFromBroker;
    return groups;
  }

  Result<GroupDescription> Describe(const std::string& group, const std::vector<std::string>& topics) {
    if (group.empty()) return Status(Errc::kInvalidArgument, "describe group: the group name is empty");
    Deadline deadline(options_.timeout);
    GroupDescription out;
    out.group = group;
    KSTRAND_RETURN_IF_ERROR(DescribeMembers(group, deadline, out));

    auto all_topics = kafka::DescribeTopics(rk_.get(), deadline.LeftMs());
    if (!all_topics.ok()) return Unreachable(all_topics.status(), deadline);
    std::map<std::string, int> partition_counts;  // topic -> partitions
    for (const auto& t : *all_topics) partition_counts[t.name] = static_cast<int>(t.partitions.size());
    for (const auto& t : topics) {
      if (partition_counts.contains(t)) continue;
      // DescribeTopics(all) skips internal topics; ask for this one by name.
      auto one = kafka::DescribeTopics(rk_.get(), deadline.LeftMs(), t);
      if (!one.ok()) return Unreachable(one.status(), deadline);
      partition_counts[t] = static_cast<int>(one->front().partitions.size());
    }
    auto all_partitions_of = [&](const std::string& topic) {
      std::vector<TopicPartition> tps;
      auto it = partition_counts.find(topic);
      for (int p = 0; it != partition_counts.end() && p < it->second; ++p) tps.push_back({topic, Partition(p)});
      return tps;
    };

    // Committed offsets. On a broker with DescribeGroups, "all topics" works;
    // on the embedded broker it answers nothing, so ask for every partition.
    std::vector<TopicPartition> asked;
    if (!topics.empty()) {
      for (const auto& t : std::set<std::string>(topics.begin(), topics.end())) {
        auto tps = all_partitions_of(t);
        asked.insert(asked.end(), tps.begin(), tps.end());
      }
    } else if (out.members_from != kFromBroker) {
      for (const auto& [t, n] : partition_counts) {
        auto tps = all_partitions_of(t);
        asked.insert(asked.end(), tps.begin(), tps.end());
      }
    }
    auto committed = Committed(group, asked, deadline);
    if (!committed.ok()) return committed.status();

    // The partitions shown: all partitions of the named topics, or of every
    // topic the group committed to or is assigned.
    std::set<std::string> shown_topics(topics.begin(), topics.end());
    if (topics.empty()) {
      for (const auto& [tp, offset] : *committed) {
        if (offset >= 0) shown_topics.insert(tp.topic);
      }
      for (const auto& m : out.members) {
        for (const auto& tp : m.assignment) shown_topics.insert(tp.topic);
      }
    }
    std::map<TopicPartition, std::string> owners;
    for (const auto& m : out.members) {
      for (const auto& tp : m.assignment) owners[tp] = m.member_id;
    }
    bool any_committed = false;
    for (const auto& t : shown_topics) {
      for (auto& tp : all_partitions_of(t)) {
        GroupPartition p;
        p.partition = tp;
        auto c = committed->find(tp);
        p.committed = c == committed->end() ? -1 : c->second;
        any_committed |= p.committed >= 0;
        auto o = owners.find(tp);
        if (o != owners.end()) p.owner = o->second;
        out.partitions.push_back(std::move(p));
      }
    }
    // The broker's word decides for groups it describes (an Empty group with
    // commits elsewhere exists); otherwise a group is known by its members or
    // its commits.
    bool broker_knows = out.members_from == kFromBroker && out.state != "Dead" && out.state != "Unknown";
    if (!broker_knows && out.members.empty() && !any_committed) return NotFound(group, topics);

    KSTRAND_RETURN_IF_ERROR(FillLag(out, deadline));
    return out;
  }

 private:
  // Issues one Admin API request through `start` and waits for its result
  // within the deadline. Errors of the whole request (as opposed to per group
  // or per partition) become the Status.
  using StartRequest = std::function<void(const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>;
  Result<kafka::EventPtr> AdminCall(rd_kafka_admin_op_t op, const Deadline& deadline, const std::string& what,
                                    const StartRequest& start) {
    kafka::AdminOptionsPtr opts(rd_kafka_AdminOptions_new(rk_.get(), op));
    char errstr[512];
    if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), deadline.LeftMs(), errstr, sizeof errstr)) {
      return Status(Errc::kInternal, what + ": " + errstr);
    }
    kafka::QueuePtr queue(rd_kafka_queue_new(rk_.get()));
    start(opts.get(), queue.get());
    // The request times out inside librdkafka at the same moment; whichever
    // comes first, an abandoned request's answer goes to a queue librdkafka
    // keeps alive until it is delivered.
    kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), deadline.LeftMs()));
    if (!event) return TimedOut(what, deadline);
    if (rd_kafka_resp_err_t err = rd_kafka_event_error(event.get())) {
      return BrokerError(err, what, rd_kafka_event_error_string(event.get()), deadline);
    }
    return event;
  }

  // A librdkafka error as a Status; "no broker answered" becomes kTimedOut
  // naming the brokers, the error callers of a CLI or a dashboard act on.
  Status BrokerError(rd_kafka_resp_err_t err, const std::string& what, const char* text,
                     const Deadline& deadline) const {
    if (kafka::IsUnreachable(err)) return TimedOut(what, deadline);
    return kafka::KafkaStatus(err, what, text);
  }

  Status TimedOut(const std::string& what, const Deadline& deadline) const {
    return Status(Errc::kTimedOut, "no Kafka broker at " + options_.brokers + " answered within " +
                                       std::to_string(deadline.budget().count()) + " ms (" + what + ")");
  }

  // Helpers of admin.h report a timeout as librdkafka's code; make it ours.
  Status Unreachable(const Status& st, const Deadline& deadline) const {
    if (st.code().category() == kafka_category() &&
        kafka::IsUnreachable(static_cast<rd_kafka_resp_err_t>(st.code().value()))) {
      return TimedOut(st.detail(), deadline);
    }
    return st;
  }

  static Status NotFound(const std::string& group, const std::vector<std::string>& topics) {
    std::string where = topics.empty() ? "" : " on " + Join(topics);
    return Status(Errc::kNotFound,
                  "consumer group " + group + " not found: no members and no committed offsets" + where);
  }

  // Members and state: DescribeConsumerGroups, or the announcements when the
  // broker has neither ConsumerGroupDescribe nor DescribeGroups.
  // `probe_only`: learn whether the broker describes groups, nothing more.
  Status DescribeMembers(const std::string& group, const Deadline& deadline, GroupDescription& out,
                         bool probe_only = false) {
    const std::string what = "describing consumer group " + group;
    auto event = AdminCall(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, deadline, what,
                           [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* queue) {
                             const char* groups[] = {group.c_str()};
                             rd_kafka_DescribeConsumerGroups(rk_.get(), groups, 1, opts, queue);
                           });
    if (!event.ok()) return event.status();
    const rd_kafka_DescribeConsumerGroups_result_t* result = rd_kafka_event_DescribeConsumerGroups_result(event->get());
    size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t** groups =
        result ? rd_kafka_DescribeConsumerGroups_result_groups(result, &count) : nullptr;
    if (count != 1) return Status(Errc::kInternal, what + ": unexpected answer");
    const rd_kafka_ConsumerGroupDescription_t* desc = groups[0];
    if (const rd_kafka_error_t* error = rd_kafka_ConsumerGroupDescription_error(desc)) {
      rd_kafka_resp_err_t err = rd_kafka_error_code(error);
      if (kafka::IsUnsupported(err)) {
        broker_describes_groups_ = false;
        return probe_only ? Status::Ok() : DescribeFromAnnouncements(group, deadline, out);
      }
      broker_describes_groups_ = true;
      // KIP-848 brokers answer GROUP_ID_NOT_FOUND for a group they do not know.
      if (err != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
        return BrokerError(err, what, rd_kafka_error_string(error), deadline);
      }
      out.members_from = kFromBroker;
      out.state = "Dead";
      return Status::Ok();
    }
    broker_describes_groups_ = true;
    out.members_from = kFromBroker;
    out.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(desc));
    for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(desc); ++i) {
      const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(desc, i);
      GroupMember member;
      member.member_id = rd_kafka_MemberDescription_consumer_id(m);
      member.client_id = rd_kafka_MemberDescription_client_id(m);
      member.host = rd_kafka_MemberDescription_host(m);
      if (const rd_kafka_MemberAssignment_t* a = rd_kafka_MemberDescription_assignment(m)) {
        member.assignment = ToPartitions(rd_kafka_MemberAssignment_partitions(a));
      }
      out.members.push_back(std::move(member));
    }
    SortMembers(out.members);
    return Status::Ok();
  }

  Status DescribeFromAnnouncements(const std::string& group, const Deadline& deadline, GroupDescription& out) {
    if (options_.members_topic.empty()) {
      out.members_from = kFromNone;
      out.state = "Unknown";
      return Status::Ok();
    }
    auto directory = CaughtUpDirectory(deadline);
    if (!directory.ok()) return directory.status();
    out.members_from = kFromAnnouncements;
    for (const group::Announcement& a : (*directory)->Members(group)) {
      GroupMember member;
      member.member_id = a.instance;
      member.client_id = a.member;
      member.host = a.host;
      member.endpoint = a.endpoint;
      for (const auto& p : a.partitions) member.assignment.push_back(p.partition);
      std::sort(member.assignment.begin(), member.assignment.end());
      out.members.push_back(std::move(member));
    }
    SortMembers(out.members);
    out.state = out.members.empty() ? "Empty" : "Stable";
    return Status::Ok();
  }

  Result<std::vector<std::string>> AnnouncedGroups(const Deadline& deadline) {
    if (options_.members_topic.empty()) return std::vector<std::string>{};
    auto directory = CaughtUpDirectory(deadline);
    if (!directory.ok()) return directory.status();
    return (*directory)->Groups();
  }

  // The member directory, started on first use and kept: it follows the
  // members topic from then on, so later calls only wait for what is new.
  Result<group::MemberDirectory*> CaughtUpDirectory(const Deadline& deadline) {
    if (!directory_) {
      auto started = group::MemberDirectory::Start(
          kafka::ConnectionProperties(options_.brokers, options_.kafka, ClientId() + "-members"),
          options_.members_topic);
      if (!started.ok()) return started.status();
      directory_ = std::move(started.value());
    }
    if (!directory_->WaitCaughtUp(deadline.Left())) {
      return TimedOut("reading member announcements on " + options_.members_topic, deadline);
    }
    return directory_.get();
  }

  // Committed offset per partition asked (all the group has when `asked` is
  // empty); -1 where nothing is committed.
  Result<std::map<TopicPartition, int64_t>> Committed(const std::string& group,
                                                     const std::vector<TopicPartition>& asked,
                                                     const Deadline& deadline) {
    const std::string what = "reading committed offsets of group " + group;
    kafka::TopicPartitionListPtr partitions;
    if (!asked.empty()) partitions = ToList(asked, RD_KAFKA_OFFSET_INVALID);
    ListGroupOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions.get()));
    auto event = AdminCall(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, deadline, what,
                           [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* queue) {
                             rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
                             rd_kafka_ListConsumerGroupOffsets(rk_.get(), requests, 1, opts, queue);
                           });
    if (!event.ok()) return event.status();
    const rd_kafka_ListConsumerGroupOffsets_result_t* result =
        rd_kafka_event_ListConsumerGroupOffsets_result(event->get());
    size_t count = 0;
    const rd_kafka_group_result_t** groups =
        result ? rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count) : nullptr;
    if (count != 1) return Status(Errc::kInternal, what + ": unexpected answer");
    if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0])) {
      return BrokerError(rd_kafka_error_code(error), what, rd_kafka_error_string(error), deadline);
    }
    std::map<TopicPartition, int64_t> out;
    const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(groups[0]);
    for (int i = 0; list && i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = list->elems[i];
      TopicPartition tp{e.topic, Partition(e.partition)};
      if (e.err) return BrokerError(e.err, what + ": " + tp.ToString(), nullptr, deadline);
      out[tp] = OrUnknown(e.offset);
    }
    return out;
  }

  // End offsets, and lag: end - committed, or end - low watermark where
  // nothing is committed (what a new consumer starting from the earliest
  // offset would read).
  Status FillLag(GroupDescription& out, const Deadline& deadline) {
    std::vector<TopicPartition> all, uncommitted;
    for (const auto& p : out.partitions) {
      all.push_back(p.partition);
      if (p.committed < 0) uncommitted.push_back(p.partition);
    }
    auto ends = ListOffsets(all, RD_KAFKA_OFFSET_SPEC_LATEST, deadline);
    if (!ends.ok()) return ends.status();
    auto lows = ListOffsets(uncommitted, RD_KAFKA_OFFSET_SPEC_EARLIEST, deadline);
    if (!lows.ok()) return lows.status();
    for (auto& p : out.partitions) {
      auto end = ends->find(p.partition);
      p.end_offset = end == ends->end() ? -1 : end->second;
      int64_t from = p.committed;
      if (from < 0) {
        auto low = lows->find(p.partition);
        from = low == lows->end() ? -1 : low->second;
      }
      p.lag = kafka::Lag(p.end_offset, from);
    }
    return Status::Ok();
  }

  // Offsets for `spec` (earliest or latest) per partition; a partition whose
  // leader did not answer is left out (its offsets show as unknown), as
  // kafka-consumer-groups does.
  Result<std::map<TopicPartition, int64_t>> ListOffsets(const std::vector<TopicPartition>& tps, int64_t spec,
                                                        const Deadline& deadline) {
    std::map<TopicPartition, int64_t> out;
    if (tps.empty()) return out;
    kafka::TopicPartitionListPtr partitions = ToList(tps, spec);
    auto event = AdminCall(RD_KAFKA_ADMIN_OP_LISTOFFSETS, deadline, "listing offsets",
                           [&](const rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* queue) {
                             rd_kafka_ListOffsets(rk_.get(), partitions.get(), opts, queue);
                           });
    if (!event.ok()) return event.status();
    const rd_kafka_ListOffsets_result_t* result = rd_kafka_event_ListOffsets_result(event->get());
    if (!result) return Status(Errc::kInternal, "listing offsets: unexpected answer");
    size_t count = 0;
    const rd_kafka_ListOffsetsResultInfo_t** infos = rd_kafka_ListOffsets_result_infos(result, &count);
    for (size_t i = 0; i < count; ++i) {
      const rd_kafka_topic_partition_t* tp = rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i]);
      if (tp->err) continue;
      out[{tp->topic, Partition(tp->partition)}] = OrUnknown(tp->offset);
    }
    return out;
  }

  static void SortMembers(std::vector<GroupMember>& members) {
    std::sort(members.begin(), members.end(), [](const GroupMember& a, const GroupMember& b) {
      return std::tie(a.client_id, a.member_id) < std::tie(b.client_id, b.member_id);
    });
  }

  std::string ClientId() const {
    auto it = options_.kafka.find("client.id");
    return it == options_.kafka.end() ? "kstrand-groups" : it->second;
  }

  const Options options_;
  const kafka::ClientPtr rk_;
  // Whether the broker answers DescribeGroups; learned from the first answer.
  std::optional<bool> broker_describes_groups_;
  // Declared last, destroyed first: it has a client and a thread of its own.
  std::unique_ptr<group::MemberDirectory> directory_;
};

Result<std::unique_ptr<GroupInspector>> GroupInspector::Connect(Options options) {
  // Empty brokers: the `kstrand broker` of this machine.
  auto target = kafka::ResolveBrokers(options.brokers);
  if (!target.ok()) return Status(target.status().code(), "group inspector: " + target.status().detail());
  options.brokers = target->bootstrap;
  if (options.timeout <= milliseconds(0)) {
    return Status(Errc::kInvalidArgument, "group inspector: timeout must be positive");
  }
  kafka::Properties props = options.kafka;
  props["bootstrap.servers"] = options.brokers;
  props.emplace("client.id", "kstrand-groups");
  // A producer handle: the Admin API works on any client, and a producer
  // neither joins a group nor fetches.
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, props);
  if (!rk.ok()) return rk.status();
  KSTRAND_RETURN_IF_ERROR(
      kafka::WaitForBrokers(rk->get(), options.brokers, static_cast<int>(options.timeout.count())));
  return std::unique_ptr<GroupInspector>(
      new GroupInspector(std::make_unique<Impl>(std::move(options), std::move(rk.value()))));
}

GroupInspector::GroupInspector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GroupInspector::~GroupInspector() = default;

Result<std::vector<std::string>> GroupInspector::ListGroups(std::string* groups_from) {
  return impl_->ListGroups(groups_from);
}

Result<GroupDescription> GroupInspector::Describe(const std::string& group, const std::vector<std::string>& topics) {
  return impl_->Describe(group, topics);
}

}  // namespace kstrand
