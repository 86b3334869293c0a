// The pieces of the stats snapshot that are pure computation: latency
// quantiles from fixed buckets, and the member-announcement codec.
#include <gtest/gtest.h>

#include <chrono>

#include "runtime/latency_recorder.h"
#include "group/members.h"

namespace kstrand {
namespace {

using namespace std::chrono_literals;

TEST(LatencyStatsTest, RecorderPutsEachDurationInTheFirstBucketWhoseBoundIsAtLeastIt) {
  runtime::LatencyRecorder r;
  r.Record(50us);   // <= 0.0001 s: bucket 0
  r.Record(100us);  // == 0.0001 s: bucket 0 (bounds are inclusive, as Prometheus' le)
  r.Record(3ms);    // (0.0025, 0.005]: bucket 5
  r.Record(20s);    // above 10 s: the last bucket
  LatencyStats s = r.Snapshot();
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.counts[0], 2u);
  EXPECT_EQ(s.counts[5], 1u);
  EXPECT_EQ(s.counts[LatencyStats::kBounds.size()], 1u);
  EXPECT_NEAR(s.sum_seconds, 20.00315, 1e-9);
}

TEST(LatencyStatsTest, QuantileInterpolatesInsideTheBucketHoldingTheRank) {
  LatencyStats s;
  s.counts[6] = 100;  // (0.005, 0.01]
  s.count = 100;
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 0.0075);
  EXPECT_DOUBLE_EQ(s.Quantile(1.0), 0.01);
  s.counts[9] = 100;  // (0.05, 0.1]
  s.count = 200;
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 0.01);     // the 100th of 200 ends bucket 6
  EXPECT_DOUBLE_EQ(s.Quantile(0.75), 0.075);   // half-way into bucket 9
  EXPECT_DOUBLE_EQ(LatencyStats{}.Quantile(0.99), 0.0);
}

TEST(LatencyStatsTest, QuantileInTheUnboundedBucketReportsItsLowerBound) {
  LatencyStats s;
  s.counts[LatencyStats::kBounds.size()] = 3;
  s.count = 3;
  EXPECT_DOUBLE_EQ(s.Quantile(0.99), 10.0);
}

TEST(LatencyStatsTest, AddSumsBucketsCountsAndSums) {
  LatencyStats a, b;
  a.counts[1] = 2;
  a.count = 2;
  a.sum_seconds = 0.0004;
  b.counts[1] = 1;
  b.counts[3] = 5;
  b.count = 6;
  b.sum_seconds = 0.005;
  a.Add(b);
  EXPECT_EQ(a.counts[1], 3u);
  EXPECT_EQ(a.counts[3], 5u);
  EXPECT_EQ(a.count, 8u);
  EXPECT_DOUBLE_EQ(a.sum_seconds, 0.0054);
}

group::Announcement Sample() {
  group::Announcement a;
  a.instance = "billing-0a1b2c3d";
  a.group = "billing";
  a.member = "billing";
  a.host = "host-1";
  a.pid = 4242;
  a.endpoint = "http://127.0.0.1:8080";
  a.interval = 1500ms;
  a.started = std::chrono::system_clock::time_point(1'700'000'000'000ms);
  a.updated = std::chrono::system_clock::time_point(1'700'000'123'456ms);
  a.partitions.push_back({{"orders", Partition(3)}, 100, 150, 50, 77, 2, true});
  a.partitions.push_back({{"orders", Partition(7)}, -1, -1, -1, 0, 0, false});
  return a;
}

TEST(AnnouncementTest, RoundTripKeepsEveryField) {
  const group::Announcement a = Sample();
  auto decoded = group::DecodeAnnouncement(group::EncodeAnnouncement(a));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const group::Announcement& b = *decoded;
  EXPECT_EQ(b.instance, a.instance);
  EXPECT_EQ(b.group, a.group);
  EXPECT_EQ(b.member, a.member);
  EXPECT_EQ(b.host, a.host);
  EXPECT_EQ(b.pid, a.pid);
  EXPECT_EQ(b.endpoint, a.endpoint);
  EXPECT_EQ(b.interval, a.interval);
  EXPECT_EQ(b.started, a.started);
  EXPECT_EQ(b.updated, a.updated);
  ASSERT_EQ(b.partitions.size(), 2u);
  EXPECT_EQ(b.partitions[0].partition, (TopicPartition{"orders", Partition(3)}));
  EXPECT_EQ(b.partitions[0].committed, 100);
  EXPECT_EQ(b.partitions[0].end_offset, 150);
  EXPECT_EQ(b.partitions[0].lag, 50);
  EXPECT_EQ(b.partitions[0].processed, 77u);
  EXPECT_EQ(b.partitions[0].in_flight, 2u);
  EXPECT_TRUE(b.partitions[0].paused);
  EXPECT_EQ(b.partitions[1].committed, -1);
}

TEST(AnnouncementTest, DecodeNamesTheFirstMissingOrMistypedField) {
  auto expect_error = [](std::string_view text, std::string_view needle) {
    auto r = group::DecodeAnnouncement(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), make_error_code(Errc::kInvalidArgument));
    EXPECT_NE(r.status().detail().find(needle), std::string::npos) << r.status().detail();
  };
  expect_error("", "not a JSON object");
  expect_error("[1,2]", "not a JSON object");
  expect_error("{\"v\":1", "not a JSON object");
  std::string good = group::EncodeAnnouncement(Sample());
  std::string no_group = good;
  no_group.replace(no_group.find("\"group\""), 7, "\"grupo\"");
  expect_error(no_group, "'group'");
  std::string bad_pid = good;
  bad_pid.replace(bad_pid.find("4242"), 4, "\"x\"");
  expect_error(bad_pid, "'pid'");
  std::string v2 = good;
  v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");
  expect_error(v2, "unknown version 2");
  std::string bad_partition = good;
  bad_partition.replace(bad_partition.find("\"partition\":3"), 13, "\"partition\":\"3\"");
  expect_error(bad_partition, "'partition'");
}

// Found by fuzzing (tests/fuzz/routing_fuzz.cc): the members topic is writable
// by any client, and these records used to decode into a claim on another
// partition (2^32 + 3 wrapped to 3) or overflow IsLive's arithmetic
// (undefined behaviour: times far in the future, an interval of 2^62 ms).
TEST(AnnouncementTest, DecodeRejectsNumbersOutOfRangeInsteadOfWrappingThem) {
  const std::string good = group::EncodeAnnouncement(Sample());
  auto with = [&](std::string_view field, std::string_view value) {
    std::string text = good;
    const size_t at = text.find(field) + field.size();
    text.replace(at, text.find_first_of(",}", at) - at, value);
    return group::DecodeAnnouncement(text);
  };
  for (auto [field, value] : {std::pair{"\"partition\":", "4294967299"}, {"\"partition\":", "-2147483649"},
                              {"\"pid\":", "9223372036854775808"}, {"\"processed\":", "-1"},
                              {"\"in_flight\":", "-2"}, {"\"committed\":", "18446744073709551615"},
                              {"\"interval_ms\":", "4611686018427387904"}, {"\"interval_ms\":", "2592000001"},
                              {"\"updated_ms\":", "10000000000000000"}, {"\"started_ms\":", "-1"}}) {
    auto r = with(field, value);
    EXPECT_FALSE(r.ok()) << field << value;
  }
  auto r = with("\"updated_ms\":", "9000000000000");  // the year 2255 still fits the clock
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(group::IsLive(*r, std::chrono::system_clock::now()));
  ASSERT_TRUE(with("\"partition\":", "2147483647").ok());
}

TEST(AnnouncementTest, PartitionOwnersRoutesOnlyPartitionsWithOneClaimantWithAnEndpoint) {
  group::Announcement a = Sample(), b = Sample(), c = Sample();
  b.endpoint = "http://b:80";
  b.partitions = {{{"orders", Partition(7)}}, {{"orders", Partition(8)}}, {{"other", Partition(9)}}};
  c.endpoint = "";
  c.partitions = {{{"orders", Partition(9)}}};
  const std::vector<group::Announcement> members{a, b, c};
  auto owners = group::PartitionOwners(members, "orders");
  // 3: a alone; 7: a and b (moving); 8: b alone; 9: c, which serves no HTTP.
  EXPECT_EQ(owners, (std::map<int32_t, std::string>{{3, a.endpoint}, {8, "http://b:80"}}));
}

}  // namespace
}  // namespace kstrand
