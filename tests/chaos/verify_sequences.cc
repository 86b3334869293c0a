// The chaos harness's verifier: a plain librdkafka reader (no kstrand code)
// that compares what `kstrand produce` wrote to IN (values "key-N:SEQ:padding")
// with what the replicas forwarded to OUT.
//
// For each key, IN holds the key's sequence numbers in production order (all in
// one partition). OUT, with repeats removed (the first time each sequence number
// appears), must list exactly those numbers in the same order:
//   lost              in IN, never in OUT
//   duplicates        records in OUT beyond the first of each (key, seq)
//   order violations  first appearances in OUT that come before one they
//                     follow in IN
//   unexpected        records in OUT that are in no record of IN
// Usage: verify_sequences BROKERS IN OUT [--no-duplicates]
// Prints one line "checked C produced P lost L duplicates D order_violations O
// unexpected U keys K" and exits 0 when L == O == U == 0 (and D == 0 with
// --no-duplicates); 1 otherwise; 2 on bad usage or an unreadable topic.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "read_topic.h"

namespace {

// Parses "key-N:SEQ:..." into (key, seq); false for anything else.
bool ParseValue(const rd_kafka_message_t& m, std::string& key, long& seq) {
  std::string_view v(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
  auto first = v.find(':');
  auto second = first == std::string_view::npos ? first : v.find(':', first + 1);
  if (second == std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(v.data() + first + 1, v.data() + second, seq);
  if (ec != std::errc() || end != v.data() + second) return false;
  key.assign(v.substr(0, first));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool no_duplicates = argc == 5 && std::strcmp(argv[4], "--no-duplicates") == 0;
  if (argc != 4 && !no_duplicates) {
    return std::fprintf(stderr, "usage: %s BROKERS IN OUT [--no-duplicates]\n", argv[0]), 2;
  }
  // Per key: each sequence number's position in IN.
  std::unordered_map<std::string, std::unordered_map<long, long>> position;
  long produced = 0, malformed = 0;
  std::string key;
  long seq = 0;
  if (!kstrand_test::ReadTopic(argv[1], argv[2], [&](const rd_kafka_message_t& m) {
        if (!ParseValue(m, key, seq)) return void(++malformed);
        auto& positions = position[key];
        if (positions.emplace(seq, static_cast<long>(positions.size())).second) ++produced;
      })) {
    return 2;
  }

  struct KeyProgress {
    std::vector<bool> seen;  // by position in IN
    long last_position = -1;  // of the latest first appearance
  };
  std::unordered_map<std::string, KeyProgress> progress;
  long checked = 0, unique = 0, duplicates = 0, order_violations = 0, unexpected = 0;
  if (!kstrand_test::ReadTopic(argv[1], argv[3], [&](const rd_kafka_message_t& m) {
        ++checked;
        auto k = ParseValue(m, key, seq) ? position.find(key) : position.end();
        if (k == position.end() || !k->second.count(seq)) return void(++unexpected);
        const long at = k->second.at(seq);
        KeyProgress& kp = progress[key];
        kp.seen.resize(k->second.size());
        if (kp.seen[at]) return void(++duplicates);
        kp.seen[at] = true;
        ++unique;
        if (at < kp.last_position) ++order_violations;
        kp.last_position = std::max(kp.last_position, at);
      })) {
    return 2;
  }
  const long lost = produced - unique;
  std::printf("checked %ld produced %ld lost %ld duplicates %ld order_violations %ld unexpected %ld keys %zu\n",
              checked, produced, lost, duplicates, order_violations, unexpected, position.size());
  if (malformed) std::printf("(%ld records of %s are not key-N:SEQ values and were ignored)\n", malformed, argv[2]);
  const bool pass = lost == 0 && order_violations == 0 && unexpected == 0 && (!no_duplicates || duplicates == 0);
  return pass ? 0 : 1;
}
