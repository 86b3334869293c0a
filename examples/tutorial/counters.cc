#include "tutorial/counters.h"

#include <nlohmann/json.hpp>

namespace kstrand::tutorial {
namespace {

using json = nlohmann::json;

}  // namespace

void TeamCounters::Add(const TeamCounters& other) {
  seen += other.seen;
  matched += other.matched;
  invalid += other.invalid;
  for (const auto& [country, n] : other.countries) countries[country] += n;
}

std::string CounterKey(std::string_view team, int32_t partition) {
  return std::string(team) + "/" + std::to_string(partition);
}

std::string EncodeCounters(const TeamCounters& c) {
  return json{{"team", c.team},
              {"partition", c.partition},
              {"next_offset", c.next_offset},
              {"seen", c.seen},
              {"matched", c.matched},
              {"invalid", c.invalid},
              {"countries", c.countries}}
      .dump();
}

Result<TeamCounters> DecodeCounters(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status(Errc::kInvalidArgument, "counters: not a JSON object");
  auto bad = [](const char* field) {
    return Status(Errc::kInvalidArgument, std::string("counters: field '") + field + "' missing or mistyped");
  };
  TeamCounters c;
  auto team = j.find("team");
  if (team == j.end() || !team->is_string()) return bad("team");
  c.team = team->get<std::string>();
  auto partition = j.find("partition");
  if (partition == j.end() || !partition->is_number_integer()) return bad("partition");
  c.partition = partition->get<int32_t>();
  auto next = j.find("next_offset");
  if (next == j.end() || !next->is_number_integer() || next->get<int64_t>() < 0) return bad("next_offset");
  c.next_offset = next->get<int64_t>();
  for (auto [name, out] : {std::pair{"seen", &c.seen}, std::pair{"matched", &c.matched},
                           std::pair{"invalid", &c.invalid}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_unsigned()) return bad(name);
    *out = it->get<uint64_t>();
  }
  auto countries = j.find("countries");
  if (countries == j.end() || !countries->is_object()) return bad("countries");
  for (const auto& [country, n] : countries->items()) {
    if (!n.is_number_unsigned()) return bad("countries");
    c.countries[country] = n.get<uint64_t>();
  }
  return c;
}

}  // namespace kstrand::tutorial
