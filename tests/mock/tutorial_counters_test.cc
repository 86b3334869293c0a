// The tutorial's stateful step (examples/tutorial/team.h): per-partition
// counters in a compacted topic, restored on start, never counting an event
// twice after a restart, a replay or a rebalance.
#include <gtest/gtest.h>

#include "harness.h"
#include "kafka/producer.h"
#include "kstrand/global_table.h"
#include "kstrand/producer.h"
#include "tutorial/counters.h"
#include "tutorial/events.h"
#include "tutorial/team.h"

namespace kstrand::test {
namespace {

using tutorial::DecodeNewUser;
using tutorial::TeamCounters;
using tutorial::TeamProcessor;

constexpr int kPartitions = 5;
const std::string kTeam = "team-t";
const std::string kOutput = "team-t-filtered";

TEST(TutorialEvents, DecodeRejectsMalformedEventsNamingTheField) {
  tutorial::UserGenerator users(7, "u-test");
  auto good = DecodeNewUser(tutorial::EncodeNewUser(users.Next()));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->id, "u-test-1");

  EXPECT_EQ(DecodeNewUser("{oops").status().detail(), "not JSON");
  EXPECT_EQ(DecodeNewUser("[1,2]").status().detail(), "not a JSON object");
  EXPECT_EQ(DecodeNewUser(R"({"id":"u","name":"n","email":"a@b","country":"FR","signup_time":"t"})").status().detail(),
            "field 'age': expected a whole number 0..150");
  EXPECT_EQ(DecodeNewUser(R"({"id":"u","name":"n","email":"a@b","country":"France","age":3,"signup_time":"t"})")
                .status()
                .detail(),
            "field 'country': expected a two-letter upper-case country code");
  EXPECT_EQ(DecodeNewUser(R"({"id":7,"name":"n","email":"a@b","country":"FR","age":3,"signup_time":"t"})")
                .status()
                .detail(),
            "field 'id': expected a non-empty string");
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(DecodeNewUser(users.Malformed()).ok());
}

TEST(TutorialCounters, RecordRoundTripsAndRejectsWrongTypes) {
  TeamCounters c{.team = "team-1", .partition = 3, .next_offset = 120, .seen = 100, .matched = 40, .invalid = 2,
                 .countries = {{"FR", 60}, {"DE", 40}}};
  auto back = tutorial::DecodeCounters(tutorial::EncodeCounters(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->team, "team-1");
  EXPECT_EQ(back->partition, 3);
  EXPECT_EQ(back->next_offset, 120);
  EXPECT_EQ(back->seen, 100u);
  EXPECT_EQ(back->matched, 40u);
  EXPECT_EQ(back->invalid, 2u);
  EXPECT_EQ(back->countries, c.countries);
  EXPECT_EQ(tutorial::DecodeCounters(R"({"team":"t","partition":0,"next_offset":1,"seen":-1})").status().detail(),
            "counters: field 'seen' missing or mistyped");
  EXPECT_EQ(tutorial::CounterKey("team-1", 3), "team-1/3");
}

// What a source run produced: every `invalid_every`th event malformed.
struct Produced {
  uint64_t valid = 0;
  uint64_t invalid = 0;
  uint64_t matched = 0;  // valid events the test's filter keeps
};

class TutorialTeamTest : public MockTest {
 protected:
  void SetUp() override {
    MockTest::SetUp();
    for (const char* topic : {"new_users", "team-counters", "team-t-filtered"}) {
      ASSERT_TRUE(cluster_->CreateTopic(topic, kPartitions).ok());
    }
    filter_.countries = {"FR", "DE"};
    filter_.min_age = 30;
  }

  // Produces `n` events, ids continuing from earlier calls.
  Produced Produce(int n, int invalid_every = 10) {
    auto producer = kafka::Producer::Create({{"bootstrap.servers", cluster_->bootstrap()}, {"log_level", "4"}});
    EXPECT_TRUE(producer.ok());
    Produced out;
    for (int i = 0; i < n; ++i, ++sequence_) {
      if ((sequence_ + 1) % invalid_every == 0) {
        EXPECT_TRUE((*producer)->Produce("new_users", "bad-" + std::to_string(sequence_), users_.Malformed()).ok());
        ++out.invalid;
        continue;
      }
      tutorial::NewUser u = users_.Next();
      EXPECT_TRUE((*producer)->Produce("new_users", u.id, tutorial::EncodeNewUser(u)).ok());
      ++out.valid;
      if (filter_.Matches(u)) ++out.matched;
    }
    EXPECT_TRUE((*producer)->Flush(30000).ok());
    return out;
  }

  // One instance of the team: its producer, counters table, processor and
  // runtime. Member order is destruction order: the runtime stops first.
  struct Instance {
    std::unique_ptr<Producer> producer;
    std::unique_ptr<GlobalTable> table;
    std::unique_ptr<TeamProcessor> processor;
    std::unique_ptr<Runtime> runtime;
  };

  // `group` is normally the team; a different one replays the topic from the
  // start with the team's counters, as lost commits would.
  std::unique_ptr<Instance> StartInstance(const std::string& name, const std::string& group) {
    auto in = std::make_unique<Instance>();
    auto producer = Producer::Create({.brokers = cluster_->bootstrap(), .kafka = {{"log_level", "4"}}});
    EXPECT_TRUE(producer.ok());
    in->producer = std::move(producer.value());
    auto table = GlobalTable::Start({.brokers = cluster_->bootstrap(), .topic = "team-counters"});
    EXPECT_TRUE(table.ok());
    in->table = std::move(table.value());
    TeamProcessor::Options options;
    options.team = kTeam;
    options.filter = filter_;
    options.output_topic = kOutput;
    options.count = true;
    in->processor = std::make_unique<TeamProcessor>(options, in->producer.get(), in->table.get());
    RuntimeConfig config = BaseConfig(*cluster_, name, group, "new_users", Noop());
    in->processor->Configure(config, "new_users");
    in->runtime = MustCreate(std::move(config));
    EXPECT_TRUE(in->runtime && in->runtime->Start().ok());
    return in;
  }

  // The team's counters as the leaderboard sees them: the latest record of
  // every partition, summed.
  TeamCounters Published() {
    auto table = GlobalTable::Start({.brokers = cluster_->bootstrap(), .topic = "team-counters"});
    EXPECT_TRUE(table.ok());
    EXPECT_TRUE((*table)->WaitCaughtUp(10s));
    TeamCounters total;
    for (const auto& [key, value] : (*table)->Snapshot()) {
      auto c = tutorial::DecodeCounters(value);
      EXPECT_TRUE(c.ok()) << key << ": " << c.status().ToString();
      if (c.ok() && c->team == kTeam) total.Add(*c);
    }
    return total;
  }

  bool WaitPublished(uint64_t events, std::chrono::milliseconds timeout = 30s) {
    return WaitUntil([&] { auto t = Published(); return t.seen + t.invalid >= events; }, timeout);
  }

  tutorial::Filter filter_;
  tutorial::UserGenerator users_{42, "u-mock"};
  int sequence_ = 0;
};

TEST_F(TutorialTeamTest, CountersContinueAfterAGracefulRestartWithoutCountingTwice) {
  Produced first = Produce(300);
  auto a = StartInstance("member-1", kTeam);
  ASSERT_TRUE(WaitPublished(300));
  StopWithin(*a->runtime);
  const TeamCounters after_first = Published();
  EXPECT_EQ(after_first.seen, first.valid);
  EXPECT_EQ(after_first.invalid, first.invalid);
  EXPECT_EQ(after_first.matched, first.matched);
  a.reset();

  // The restarted instance restores every partition's record and counts on.
  Produced second = Produce(200);
  auto b = StartInstance("member-1", kTeam);
  ASSERT_TRUE(WaitPublished(500));
  StopWithin(*b->runtime);
  const TeamCounters total = Published();
  EXPECT_EQ(total.seen, first.valid + second.valid);
  EXPECT_EQ(total.invalid, first.invalid + second.invalid);
  EXPECT_EQ(total.matched, first.matched + second.matched);
  uint64_t by_country = 0;
  for (const auto& [country, n] : total.countries) by_country += n;
  EXPECT_EQ(by_country, total.seen);
  // The second run counted only the new events.
  EXPECT_EQ(b->processor->Totals().seen, second.valid);
  // Every match forwarded once: counter records vouch for acknowledged forwards.
  auto forwarded = ReadTopic(cluster_->bootstrap(), kOutput, kPartitions, total.matched + 1, 3s);
  EXPECT_EQ(forwarded.size(), total.matched);
}

TEST_F(TutorialTeamTest, EventsReplayedWithoutCommittedOffsetsAreNotCountedTwice) {
  Produced produced = Produce(250);
  auto a = StartInstance("member-1", kTeam);
  ASSERT_TRUE(WaitPublished(250));
  StopWithin(*a->runtime);
  a.reset();

  // A group with no commits reads everything again, as after a crash that
  // lost the commits: the counters already cover every offset, so nothing is
  // counted or forwarded again.
  auto replay = StartInstance("member-1", kTeam + "-replay");
  ASSERT_TRUE(WaitUntil([&] { return replay->processor->replays_skipped() >= 250; }, 30s))
      << "replays skipped: " << replay->processor->replays_skipped();
  StopWithin(*replay->runtime);
  EXPECT_EQ(replay->processor->Totals().seen, 0u);
  const TeamCounters total = Published();
  EXPECT_EQ(total.seen, produced.valid);
  EXPECT_EQ(total.invalid, produced.invalid);
  auto forwarded = ReadTopic(cluster_->bootstrap(), kOutput, kPartitions, total.matched + 1, 3s);
  EXPECT_EQ(forwarded.size(), produced.matched);
}

TEST_F(TutorialTeamTest, TwoInstancesCountEveryPartitionOnceAcrossTheRebalance) {
  Produced first = Produce(200);
  auto a = StartInstance("member-1", kTeam);
  ASSERT_TRUE(WaitPublished(200));
  // The second instance takes partitions over from the first: each restores
  // the records the first wrote for them.
  auto b = StartInstance("member-2", kTeam);
  ASSERT_TRUE(WaitUntil([&] { return !b->runtime->Assignment().empty(); }, 30s));
  Produced second = Produce(300);
  ASSERT_TRUE(WaitPublished(500));
  EXPECT_FALSE(a->runtime->Assignment().empty());
  StopWithin(*b->runtime);
  StopWithin(*a->runtime);
  const TeamCounters total = Published();
  EXPECT_EQ(total.seen, first.valid + second.valid);
  EXPECT_EQ(total.invalid, first.invalid + second.invalid);
  EXPECT_EQ(total.matched, first.matched + second.matched);
  EXPECT_EQ(a->processor->Totals().seen + b->processor->Totals().seen, first.valid + second.valid);
}

}  // namespace
}  // namespace kstrand::test
