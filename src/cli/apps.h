// What the example programs share with the CLI: connecting and creating
// topics, on the embedded broker (`kstrand broker`, which creates topics
// through its control channel) and on real Kafka (the Admin API).
//
// Thread safety: plain functions; call them from one thread.
#pragma once

#include <map>
#include <string>

#include "cli/common.h"
#include "kafka/client.h"
#include "kstrand/status.h"

namespace kstrand::cli {

// Resolves the connection (-b, or the running embedded broker) and waits
// until a broker answers. The client is a producer handle, good for metadata
// and admin requests. Fails with a message naming the brokers.
Result<kafka::ClientPtr> Connect(Connection& conn, const std::string& client_id);

// bootstrap.servers plus the -X security settings, for producers and readers.
Result<kafka::Properties> HelperProperties(const Connection& conn, const std::string& client_id);

// Creates `topic` with `partitions` unless it exists. `configs` (such as
// cleanup.policy=compact) apply on real Kafka; the embedded broker ignores them.
Status EnsureTopic(const Connection& conn, rd_kafka_t* rk, const std::string& topic, int partitions,
                   const std::map<std::string, std::string>& configs = {});

// Topic configs of a table's topic: compacted, so only each key's latest
// record stays, and compacted within minutes, not after a 1 GB segment fills.
std::map<std::string, std::string> CompactedTopicConfigs();

// The embedded broker has no CreateTopics API; `kstrand broker` takes the
// request on its control channel (`control`, Connection::control) instead.
Status CreateThroughControl(const std::string& control, const std::string& topic, int partitions);

}  // namespace kstrand::cli
