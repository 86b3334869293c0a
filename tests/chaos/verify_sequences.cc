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
// unexpected U keys K" (with --no-duplicates, then the first duplicates: where
// each copy is in OUT and which input record it says it came from) and exits
// 0 when L == O == U == 0 (and D == 0 with --no-duplicates); 1 otherwise; 2 on
// bad usage or an unreadable topic.
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

// "OUT[3]@117 (from IN[5]@2041)": where a record is and, from the headers
// kstrand forwards with, which input record it was made from.
std::string Where(const rd_kafka_message_t& m) {
  return "[" + std::to_string(m.partition) + "]@" + std::to_string(m.offset) + " (from IN[" +
         kstrand_test::Header(&m, "kstrand-source-partition") + "]@" +
         kstrand_test::Header(&m, "kstrand-source-offset") + ")";
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
    std::vector<std::string> first_at;  // by position in IN: Where() of its first appearance, "" if none yet
    long last_position = -1;  // of the latest first appearance
  };
  std::unordered_map<std::string, KeyProgress> progress;
  long checked = 0, unique = 0, duplicates = 0, order_violations = 0, unexpected = 0;
  constexpr long kShownDuplicates = 20;
  std::vector<std::string> repeats;  // the first kShownDuplicates duplicates, described
  if (!kstrand_test::ReadTopic(argv[1], argv[3], [&](const rd_kafka_message_t& m) {
        ++checked;
        auto k = ParseValue(m, key, seq) ? position.find(key) : position.end();
        if (k == position.end() || !k->second.count(seq)) return void(++unexpected);
        const long at = k->second.at(seq);
        KeyProgress& kp = progress[key];
        kp.first_at.resize(k->second.size());
        if (!kp.first_at[at].empty()) {
          if (++duplicates <= kShownDuplicates && no_duplicates) {
            repeats.push_back(key + ":" + std::to_string(seq) + " at OUT" + Where(m) + ", first at OUT" +
                              kp.first_at[at]);
          }
          return;
        }
        kp.first_at[at] = Where(m);
        ++unique;
        if (at < kp.last_position) ++order_violations;
        kp.last_position = std::max(kp.last_position, at);
      })) {
    return 2;
  }
  const long lost = produced - unique;
  std::printf("checked %ld produced %ld lost %ld duplicates %ld order_violations %ld unexpected %ld keys %zu\n",
              checked, produced, lost, duplicates, order_violations, unexpected, position.size());
  for (const auto& r : repeats) std::printf("duplicate %s\n", r.c_str());
  if (malformed) std::printf("(%ld records of %s are not key-N:SEQ values and were ignored)\n", malformed, argv[2]);
  const bool pass = lost == 0 && order_violations == 0 && unexpected == 0 && (!no_duplicates || duplicates == 0);
  return pass ? 0 : 1;
}
