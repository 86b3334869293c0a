// The runtime's Kafka clients: how each is configured from a RuntimeConfig,
// and what must exist at the brokers before the runtime starts.
#pragma once

#include <string>
#include <vector>

#include "kafka/admin.h"
#include "kafka/client.h"
#include "kstrand/config.h"
#include "kstrand/status.h"

namespace kstrand::runtime {

// The group consumer's: kstrand commits itself (no auto commit or offset
// store), cooperative-sticky under the classic protocol, read_committed under
// exactly-once, then the user's `kafka` properties.
kafka::Properties ConsumerProperties(const RuntimeConfig& config);
// The output producer's: connection and security from `kafka`; under
// exactly-once a transaction timeout that outlasts the longest drain.
kafka::Properties OutputProperties(const RuntimeConfig& config);
// Exactly-once: transactional_id if set, else one stable across the member's
// restarts where the member is static; empty otherwise.
std::string TransactionalId(const RuntimeConfig& config, const std::string& instance);
// Every subscribed topic and dead-letter topic is among `topics` (as the
// broker described them); otherwise a kNotFound naming it.
Status CheckTopicsExist(const RuntimeConfig& config, const std::vector<kafka::TopicInfo>& topics);

}  // namespace kstrand::runtime
