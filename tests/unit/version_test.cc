// The librdkafka version check: an older librdkafka than the one kstrand was
// built against is refused with both versions named; equal or newer passes.
#include "kafka/version.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "kstrand/version.h"

namespace kstrand::kafka {
namespace {

constexpr int k2_14_2 = 0x020e02ff;  // 2.14.2, final release
constexpr int k2_0_2 = 0x020002ff;   // Debian 12's librdkafka1

TEST(VersionTest, FormatsFinalAndPreReleaseVersions) {
  EXPECT_EQ(FormatRdkafkaVersion(k2_14_2), "2.14.2");
  EXPECT_EQ(FormatRdkafkaVersion(k2_0_2), "2.0.2");
  EXPECT_EQ(FormatRdkafkaVersion(0x020e0201), "2.14.2-RC1");
}

TEST(VersionTest, OlderRunningLibrdkafkaIsRefusedNamingBothVersions) {
  Status st = CompareRdkafkaVersions(k2_14_2, k2_0_2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.detail().find("built against librdkafka 2.14.2 but loaded 2.0.2"), std::string::npos) << st.detail();
  // A release candidate of the same version is older than the release.
  EXPECT_FALSE(CompareRdkafkaVersions(k2_14_2, 0x020e0201).ok());
  EXPECT_FALSE(CompareRdkafkaVersions(k2_14_2, 0x020d09ff).ok());  // 2.13.9
}

TEST(VersionTest, SameOrNewerRunningLibrdkafkaIsAccepted) {
  EXPECT_TRUE(CompareRdkafkaVersions(k2_14_2, k2_14_2).ok());
  EXPECT_TRUE(CompareRdkafkaVersions(k2_14_2, 0x020e03ff).ok());  // 2.14.3
  EXPECT_TRUE(CompareRdkafkaVersions(k2_14_2, 0x030000ff).ok());  // 3.0.0
}

TEST(VersionTest, ThisProcessRunsTheLibrdkafkaItWasBuiltWith) {
  EXPECT_TRUE(CheckLibrdkafkaVersion().ok());
  EXPECT_EQ(LibrdkafkaVersion(), LibrdkafkaBuildVersion());
  EXPECT_EQ(LibrdkafkaVersion(), rd_kafka_version_str());
  EXPECT_FALSE(Version().empty());
}

}  // namespace
}  // namespace kstrand::kafka
