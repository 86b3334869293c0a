// `kstrand consume --report`: the RESULT line bench/peers/README.md fixes for
// kstrand and its peers. Counts, percentiles from the 1% log histogram, the
// trace lines, and the line's shape.
#include "cli/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace kstrand::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

std::map<std::string, std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  in >> word;
  EXPECT_EQ(word, "RESULT");
  std::map<std::string, std::string> fields;
  while (in >> word) fields[word.substr(0, word.find('='))] = word.substr(word.find('=') + 1);
  return fields;
}

TEST(ProcessingReportTest, BucketsGrowByOnePercentAndBoundTheirLatencies) {
  EXPECT_EQ(ProcessingReport::Bucket(0), 0u);
  EXPECT_EQ(ProcessingReport::Bucket(0.5), 0u);
  EXPECT_EQ(ProcessingReport::Bucket(-3), 0u);
  for (double us : {1.0, 7.0, 999.0, 1000.0, 5000.0, 123456.0, 60e6}) {
    size_t b = ProcessingReport::Bucket(us);
    EXPECT_LE(ProcessingReport::BucketLowerBoundUs(b), us * (1 + 1e-9)) << us;
    EXPECT_GT(ProcessingReport::BucketLowerBoundUs(b + 1), us * (1 - 1e-9)) << us;
  }
  // Beyond 20 minutes everything shares the last bucket rather than overflow.
  EXPECT_LT(ProcessingReport::Bucket(600e6), ProcessingReport::Bucket(1e10));
  EXPECT_EQ(ProcessingReport::Bucket(1e10), ProcessingReport::Bucket(1e13));
}

TEST(ProcessingReportTest, PercentilesCountsAndTraceComeFromTheRecordedMessages) {
  auto trace = std::filesystem::temp_directory_path() / ("report_test_" + std::to_string(::getpid()) + ".txt");
  auto report = ProcessingReport::Open(trace.string());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // 1,000 messages: 990 produced 10 ms before now, 9 produced 2 s before, 1 produced 60 s before.
  const auto now = system_clock::now();
  for (int i = 0; i < 1000; ++i) {
    auto age = i < 990 ? milliseconds(10) : i < 999 ? milliseconds(2000) : milliseconds(60000);
    EXPECT_EQ((*report)->Record(i % 3, now - age), static_cast<uint64_t>(i + 1));
  }
  auto f = Fields((*report)->ResultLine());
  EXPECT_EQ(f["peer"], "kstrand");
  EXPECT_EQ(f["processed"], "1000");
  // Recording takes a little time, so latencies are a little above the ages: within 1% + 50 ms.
  EXPECT_NEAR(std::stod(f["p50_ms"]), 10, 0.1 + 50);
  EXPECT_NEAR(std::stod(f["p99_ms"]), 10, 0.1 + 50);
  EXPECT_NEAR(std::stod(f["p999_ms"]), 2000, 20 + 50);
  EXPECT_GT(std::stoull(f["peak_rss_kb"]), 0u);
  EXPECT_GE(std::stod(f["seconds"]), 0);
  EXPECT_EQ(f.count("rate"), 1u);

  std::ifstream lines(trace);
  int count = 0, first_partition = -1;
  long long ms = 0;
  std::string line;
  while (std::getline(lines, line)) {
    int partition = -1;
    std::istringstream(line) >> partition >> ms;
    if (count++ == 0) first_partition = partition;
  }
  EXPECT_EQ(count, 1000);
  EXPECT_EQ(first_partition, 0);
  EXPECT_NEAR(static_cast<double>(ms),
              static_cast<double>(std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count()), 60000);
  std::filesystem::remove(trace);
}

TEST(ProcessingReportTest, NothingRecordedGivesZerosNotGarbage) {
  auto report = ProcessingReport::Open("");
  ASSERT_TRUE(report.ok());
  auto f = Fields((*report)->ResultLine());
  EXPECT_EQ(f["processed"], "0");
  EXPECT_EQ(f["seconds"], "0.000");
  EXPECT_EQ(f["rate"], "0");
  EXPECT_EQ(f["p50_ms"], "0.000");
}

TEST(ProcessingReportTest, AnUnwritableTraceIsRefusedNamingTheFlag) {
  auto report = ProcessingReport::Open("/nonexistent-dir/trace.txt");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().detail().find("--trace /nonexistent-dir/trace.txt"), std::string::npos);
}

}  // namespace
}  // namespace kstrand::cli
