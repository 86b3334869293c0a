// The librdkafka version check behind kstrand/version.h, split from
// rd_kafka_version() so tests can feed it any pair of versions.
#pragma once

#include <string>

#include "kstrand/status.h"

namespace kstrand::kafka {

// librdkafka's encoding, as in RD_KAFKA_VERSION: 0xMMmmrrpp (major, minor,
// revision, pre-release id; 0xff for a final release). "2.14.2", or
// "2.14.2-RC1" for pre-release 1.
std::string FormatRdkafkaVersion(int version);

// Ok when `running` >= `built`, else an error naming both.
Status CompareRdkafkaVersions(int built, int running);

}  // namespace kstrand::kafka
