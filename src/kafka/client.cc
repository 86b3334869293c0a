#include "kafka/client.h"

#include "kafka/error.h"

namespace kstrand::kafka {

Properties ConnectionProperties(const std::string& brokers, const Properties& kafka, const std::string& client_id) {
  Properties props{{"bootstrap.servers", brokers}, {"client.id", client_id}};
  for (const auto& [k, v] : kafka) {
    if (k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.")) props[k] = v;
  }
  return props;
}

Result<ConfPtr> MakeConf(const Properties& props) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return Status(Errc::kInvalidArgument, "librdkafka property " + name + "=" + value + ": " + errstr);
    }
  }
  return conf;
}

Result<ClientPtr> NewClient(rd_kafka_type_t type, const Properties& props,
                            const std::function<void(rd_kafka_conf_t*)>& customize) {
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  if (customize) customize(conf->get());
  char errstr[512];
  // rd_kafka_new takes the conf only when it succeeds; on failure we still own it.
  rd_kafka_t* rk = rd_kafka_new(type, conf->get(), errstr, sizeof errstr);
  if (!rk) return Status(Errc::kInvalidArgument, std::string("creating Kafka client: ") + errstr);
  (void)conf->release();
  return ClientPtr(rk);
}

Status ValidateProperties(const Properties& props) { return MakeConf(props).status(); }

Status WaitForBrokers(rd_kafka_t* rk, const std::string& bootstrap, int timeout_ms) {
  const rd_kafka_metadata_t* raw = nullptr;
  // all_topics=0 with no topic handle asks for broker list only: cheap.
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, nullptr, &raw, timeout_ms);
  MetadataPtr metadata(raw);
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status(Errc::kTimedOut, "no Kafka broker answered at " + bootstrap + " within " +
                                       std::to_string(timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")");
  }
  return KafkaStatus(err, "metadata request to " + bootstrap);
}

}  // namespace kstrand::kafka
