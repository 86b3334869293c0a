// A plain librdkafka client (no kstrand code) that reads a whole topic written
// by `kstrand consume --forward-to` (committed records only) and checks what was processed: each
// (source partition, offset) exactly once, and per source partition offsets
// in order. Usage: verify_forwarded BROKERS TOPIC EXPECTED
// Prints "unique U duplicates D out-of-order O" and exits 0 only when
// U == EXPECTED and D == O == 0.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "read_topic.h"

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s BROKERS TOPIC EXPECTED\n", argv[0]), 2;
  const long expected = std::atol(argv[3]);
  std::set<std::pair<int, long>> seen;
  std::map<int, long> last_offset;
  long duplicates = 0, out_of_order = 0;
  bool read = kstrand_test::ReadTopic(argv[1], argv[2], [&](const rd_kafka_message_t& m) {
    int sp = std::atoi(kstrand_test::Header(&m, "kstrand-source-partition").c_str());
    long so = std::atol(kstrand_test::Header(&m, "kstrand-source-offset").c_str());
    if (!seen.insert({sp, so}).second) ++duplicates;
    else if (last_offset.count(sp) && so < last_offset[sp]) ++out_of_order;
    last_offset[sp] = std::max(last_offset[sp], so);
  });
  if (!read) return 1;
  std::printf("unique %zu duplicates %ld out-of-order %ld (expected %ld)\n", seen.size(), duplicates, out_of_order,
              expected);
  return static_cast<long>(seen.size()) == expected && duplicates == 0 && out_of_order == 0 ? 0 : 1;
}
