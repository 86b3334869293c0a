/// @file
/// @brief kstrand's version, and the librdkafka it was built with and runs with.
///
/// kstrand carries librdkafka (linked statically, see docs/guide/installing.md),
/// so the two librdkafka versions differ only when a program also links another
/// librdkafka that wins the symbol lookup; Runtime::Create and the CLI refuse
/// to start then, with CheckLibrdkafkaVersion()'s error.
///
/// Thread safety: every function may be called from any thread, at any time.
#pragma once

#include <string>
#include <string_view>

#include "kstrand/status.h"

namespace kstrand {

/// kstrand's version, e.g. "0.1.0".
std::string_view Version();

/// The librdkafka version kstrand was compiled against (RD_KAFKA_VERSION), e.g. "2.14.2".
std::string LibrdkafkaBuildVersion();

/// The librdkafka version running in this process (rd_kafka_version()), e.g. "2.14.2".
std::string LibrdkafkaVersion();

/// Where the librdkafka kstrand carries came from, as scripts/setup.sh
/// recorded it: the Debian source version, the pinned version, and which of
/// kstrand's patches were applied or already upstream. Empty when kstrand was
/// built against a librdkafka setup.sh did not build.
std::string_view LibrdkafkaSource();

/// Ok when the running librdkafka is at least the one kstrand was compiled
/// against; otherwise an error naming both versions. An older librdkafka lacks
/// fixes and properties kstrand relies on (Debian 12's 2.0.2 loses messages
/// with pause/resume, and rejects properties such as "group.protocol").
Status CheckLibrdkafkaVersion();

}  // namespace kstrand
