// Reads a whole topic with a plain librdkafka consumer (no kstrand code), the
// way an independent checker would: committed records only (read_committed, so
// aborted transactions do not count), every partition from its low to its high
// watermark as of the start. Shared by the multi-process verifiers.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>

namespace kstrand_test {

inline std::string Header(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hdrs = nullptr;
  const void* v = nullptr;
  size_t n = 0;
  if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, &n)) return "";
  return std::string(static_cast<const char*>(v), n);
}

// Calls `on_record` for each record, in offset order within a partition.
// Returns false (after printing why) if the topic cannot be read.
inline bool ReadTopic(const std::string& brokers, const std::string& topic,
                      const std::function<void(const rd_kafka_message_t&)>& on_record) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "kstrand-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) return std::fprintf(stderr, "%s\n", err), false;

  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  rd_kafka_resp_err_t md_err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  if (md_err) {
    std::fprintf(stderr, "metadata of %s failed: %s\n", topic.c_str(), rd_kafka_err2str(md_err));
    rd_kafka_destroy(rk);
    return false;
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(16);
  std::map<int32_t, int64_t> next, high;  // per partition: next offset to read, high watermark
  bool ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!ok) std::fprintf(stderr, "topic %s not found\n", topic.c_str());
  for (int p = 0; ok && p < md->topics[0].partition_cnt; ++p) {
    int32_t id = md->topics[0].partitions[p].id;
    int64_t lo = 0, hi = 0;
    if (rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), id, &lo, &hi, 10000)) {
      std::fprintf(stderr, "watermarks of %s [%d] failed: %s\n", topic.c_str(), id, rd_kafka_err2str(e));
      ok = false;
    } else if (hi > lo) {
      rd_kafka_topic_partition_list_add(parts, topic.c_str(), id)->offset = lo;
      next[id] = lo;
      high[id] = hi;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (ok) rd_kafka_assign(rk, parts);
  // A partition is done at its high watermark; under read_committed the last
  // offsets may be transaction markers that are never delivered, so the reader
  // also stops after 5 s with nothing new.
  for (int idle = 0; ok && idle < 50;) {
    bool done = true;
    for (auto& [p, hi] : high) done &= next[p] >= hi;
    if (done) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) { ++idle; continue; }
    idle = 0;
    if (!m->err) {
      next[m->partition] = m->offset + 1;
      on_record(*m);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return ok;
}

}  // namespace kstrand_test
