// A plain librdkafka client (no kstrand code) that reads a whole topic written
// by `kstrand consume --forward-to` (committed records only) and checks what was processed: each
// (source partition, offset) exactly once, and per source partition offsets
// in order. Usage: verify_forwarded BROKERS TOPIC EXPECTED
// Prints "unique U duplicates D out-of-order O" and exits 0 only when
// U == EXPECTED and D == O == 0.
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

static std::string Header(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  const void* v = nullptr;
  size_t n = 0;
  if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, &n)) return "";
  return std::string(static_cast<const char*>(v), n);
}

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s BROKERS TOPIC EXPECTED\n", argv[0]), 2;
  const long expected = std::atol(argv[3]);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "verify-forwarded", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  // Records of aborted transactions (exactly-once runs) must not count.
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) return std::fprintf(stderr, "%s\n", err), 1;

  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 10000)) return std::fprintf(stderr, "metadata failed\n"), 1;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(16);
  std::map<int32_t, int64_t> high;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (std::string(md->topics[i].topic) != argv[2]) continue;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
      int32_t id = md->topics[i].partitions[p].id;
      int64_t lo = 0, hi = 0;
      rd_kafka_query_watermark_offsets(rk, argv[2], id, &lo, &hi, 10000);
      high[id] = hi;
      if (hi > lo) rd_kafka_topic_partition_list_add(parts, argv[2], id)->offset = lo;
    }
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_assign(rk, parts);

  std::set<std::pair<int, long>> seen;
  std::map<int, long> last_offset;
  long duplicates = 0, out_of_order = 0;
  std::map<int32_t, int64_t> next;  // per output partition: next offset to read
  for (auto& [p, hi] : high) next[p] = 0;
  for (int idle = 0; idle < 50;) {
    bool done = true;
    for (auto& [p, hi] : high) done &= next[p] >= hi;
    if (done) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) { ++idle; continue; }
    if (!m->err) {
      next[m->partition] = m->offset + 1;
      int sp = std::atoi(Header(m, "kstrand-source-partition").c_str());
      long so = std::atol(Header(m, "kstrand-source-offset").c_str());
      if (!seen.insert({sp, so}).second) ++duplicates;
      else if (last_offset.count(sp) && so < last_offset[sp]) ++out_of_order;
      last_offset[sp] = std::max(last_offset[sp], so);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::printf("unique %zu duplicates %ld out-of-order %ld (expected %ld)\n", seen.size(), duplicates, out_of_order,
              expected);
  return static_cast<long>(seen.size()) == expected && duplicates == 0 && out_of_order == 0 ? 0 : 1;
}
