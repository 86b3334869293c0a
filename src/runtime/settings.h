// Validation of a whole RuntimeConfig (config.cc), used by Runtime::Create.
#pragma once

#include "kstrand/config.h"

namespace kstrand {

// Every tunable field is checked by the same rule Set() applies to it, so a
// field assigned directly (config.workers = 0) fails as `--workers 0` does,
// naming the setting.
Status ValidateSettings(const RuntimeConfig& config);
// Refuses librdkafka properties in `config.kafka` that kstrand owns
// (group.id, enable.auto.commit, transactional.id, ...), naming the field to
// use instead.
Status ValidateKafkaProperties(const RuntimeConfig& config);
// The group id and the topics: each with one handler, stores not shared
// between topics, a consistent failure policy, no topic twice.
Status ValidateTopics(const RuntimeConfig& config);

}  // namespace kstrand
