// Connecting, for the subcommands that talk to a cluster with a bare
// librdkafka handle (`kstrand topics`).
//
// Thread safety: plain functions; call them from one thread.
#pragma once

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

}  // namespace kstrand::cli
