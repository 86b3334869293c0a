// Creating librdkafka clients from a property map, with librdkafka's own error
// text on any bad property, and the conf handed over only on success.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <string>

#include "kafka/handles.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

using Properties = std::map<std::string, std::string>;

// What a helper client (a producer, a group-less reader) needs to reach the
// same brokers as a consumer configured with `kafka`: bootstrap.servers,
// client.id and the security settings (security.*, sasl.*, ssl.*), nothing of
// the consumer's own tuning.
Properties ConnectionProperties(const std::string& brokers, const Properties& kafka, const std::string& client_id);

// Builds a conf from `props`. The error names the property and carries
// librdkafka's text, e.g. "No such configuration property: \"foo.bar\"".
Result<ConfPtr> MakeConf(const Properties& props);

// `customize` may register callbacks/opaque on the conf before creation.
Result<ClientPtr> NewClient(rd_kafka_type_t type, const Properties& props,
                            const std::function<void(rd_kafka_conf_t*)>& customize = {});

// Properties whose names librdkafka does not know, checked without creating a client.
Status ValidateProperties(const Properties& props);

// Waits until some broker answers a metadata request, up to `timeout`.
// Fails with kTimedOut naming the bootstrap servers otherwise.
Status WaitForBrokers(rd_kafka_t* rk, const std::string& bootstrap, int timeout_ms);

}  // namespace kstrand::kafka
