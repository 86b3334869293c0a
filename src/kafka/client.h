// Creating librdkafka clients from a property map, with librdkafka's own error
// text on any bad property, and the conf handed over only on success.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "kafka/handles.h"
#include "kstrand/status.h"

namespace kstrand::kafka {

using Properties = std::map<std::string, std::string>;

// What a helper client (a producer, a group-less reader) needs to reach the
// same brokers as a consumer configured with `kafka`: bootstrap.servers,
// client.id, the security settings (security.*, sasl.*, ssl.*) and librdkafka's
// debug contexts (debug: -X debug=eos,broker traces every client of a member),
// nothing of the consumer's own tuning.
Properties ConnectionProperties(const std::string& brokers, const Properties& kafka, const std::string& client_id);

// Builds a conf from `props`. The error names the property and carries
// librdkafka's text, e.g. "No such configuration property: \"foo.bar\"".
Result<ConfPtr> MakeConf(const Properties& props);

// Whether a property's value is a secret (passwords, keys, tokens, client
// secrets) that must never be printed, logged or served. The one list: every
// place that shows a property value goes through Redacted().
bool IsSecretProperty(std::string_view name);
// `value`, or "[redacted]" for a secret property.
std::string Redacted(std::string_view name, std::string_view value);

// Every error librdkafka reports for a client (its error_cb), classified:
// `fatal` for errors no retry can cure: __FATAL, the broker rejecting our
// credentials (__AUTHENTICATION: "authentication failed as user 'U' with
// mechanism M: <librdkafka's text>", never the password) and TLS handshake
// failures (__SSL). Transient ones (a broker down, a refused connection) are
// not fatal. Called on the thread that polls the client.
using ErrorHandler = std::function<void(const Status& error, bool fatal)>;

// `customize` may register callbacks/opaque on the conf before creation, but
// not an error callback: pass `on_error` instead (without it, errors are
// logged). Every client records its first fatal error for ClientFailure().
Result<ClientPtr> NewClient(rd_kafka_type_t type, const Properties& props,
                            const std::function<void(rd_kafka_conf_t*)>& customize = {},
                            ErrorHandler on_error = {});

// The first fatal error (see ErrorHandler) reported for `rk` so far, once an
// rd_kafka_poll (or a consumer poll) has served it; Ok if none.
Status ClientFailure(rd_kafka_t* rk);

// Properties whose names librdkafka does not know, checked without creating a client.
Status ValidateProperties(const Properties& props);

// Waits until some broker answers a metadata request, up to `timeout`.
// Fails with kTimedOut naming the bootstrap servers otherwise, and at once
// (after the first rejected connection) with the fatal error when the broker
// rejects our credentials or TLS. Serves `rk`'s main queue (rd_kafka_poll):
// call it before a consumer's rd_kafka_poll_set_consumer.
Status WaitForBrokers(rd_kafka_t* rk, const std::string& bootstrap, int timeout_ms);

}  // namespace kstrand::kafka
