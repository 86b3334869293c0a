#include "kafka/version.h"

#include <librdkafka/rdkafka.h>

#include "kstrand/version.h"

#if !defined(KSTRAND_VERSION) || !defined(KSTRAND_RDKAFKA_SOURCE)
#error "KSTRAND_VERSION and KSTRAND_RDKAFKA_SOURCE are set by CMakeLists.txt"
#endif

namespace kstrand::kafka {

std::string FormatRdkafkaVersion(int version) {
  const unsigned v = static_cast<unsigned>(version);
  std::string out = std::to_string((v >> 24) & 0xff) + "." + std::to_string((v >> 16) & 0xff) + "." +
                    std::to_string((v >> 8) & 0xff);
  const unsigned pre = v & 0xff;
  if (pre != 0xff) out += "-RC" + std::to_string(pre);
  return out;
}

Status CompareRdkafkaVersions(int built, int running) {
  if (static_cast<unsigned>(running) >= static_cast<unsigned>(built)) return Status::Ok();
  return Status(Errc::kInternal,
                "kstrand was built against librdkafka " + FormatRdkafkaVersion(built) + " but loaded " +
                    FormatRdkafkaVersion(running) +
                    ", which is older; another librdkafka (such as Debian's librdkafka1) took its place. "
                    "Link kstrand::kstrand alone, which carries librdkafka " +
                    FormatRdkafkaVersion(built) + ", and check with `kstrand --version`");
}

}  // namespace kstrand::kafka

namespace kstrand {

std::string_view Version() { return KSTRAND_VERSION; }

std::string LibrdkafkaBuildVersion() { return kafka::FormatRdkafkaVersion(RD_KAFKA_VERSION); }

std::string LibrdkafkaVersion() { return kafka::FormatRdkafkaVersion(rd_kafka_version()); }

std::string_view LibrdkafkaSource() { return KSTRAND_RDKAFKA_SOURCE; }

Status CheckLibrdkafkaVersion() { return kafka::CompareRdkafkaVersions(RD_KAFKA_VERSION, rd_kafka_version()); }

}  // namespace kstrand
