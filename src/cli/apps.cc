#include "cli/apps.h"

namespace kstrand::cli {

Result<kafka::ClientPtr> Connect(Connection& conn, const std::string& client_id) {
  KSTRAND_RETURN_IF_ERROR(conn.Resolve());
  auto props = HelperProperties(conn, client_id);
  if (!props.ok()) return props.status();
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, *props);
  if (!rk.ok()) return rk.status();
  KSTRAND_RETURN_IF_ERROR(kafka::WaitForBrokers(rk->get(), conn.brokers, conn.connect_timeout_ms()));
  return rk;
}

Result<kafka::Properties> HelperProperties(const Connection& conn, const std::string& client_id) {
  auto given = conn.Properties(/*for_consumer=*/false);
  if (!given.ok()) return given.status();
  auto props = kafka::ConnectionProperties(conn.brokers, *given, client_id);
  props["log_level"] = "4";  // librdkafka's notices are noise in an example's terminal
  return props;
}

}  // namespace kstrand::cli
