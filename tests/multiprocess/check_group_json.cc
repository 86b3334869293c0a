// Checks the output of `kstrand groups describe --json` for a drained group
// (so the test needs no jq): it parses, has `partitions` partitions whose
// committed offsets add up to `total`, each at its end offset with lag 0 and
// an owner, and one member from announcements assigned all of them.
// Usage: check_group_json FILE PARTITIONS TOTAL; exit 0 when all hold, else 1
// with the first difference on stderr.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

int Differs(const std::string& what) {
  std::fprintf(stderr, "check_group_json: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return Differs("usage: check_group_json FILE PARTITIONS TOTAL");
  std::ifstream in(argv[1]);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Differs("not a JSON object");
  const size_t partitions = std::strtoul(argv[2], nullptr, 10);
  const int64_t total = std::strtoll(argv[3], nullptr, 10);
  if (!j["partitions"].is_array() || j["partitions"].size() != partitions) {
    return Differs("want " + std::to_string(partitions) + " partitions: " + j["partitions"].dump());
  }
  int64_t committed = 0;
  for (const auto& p : j["partitions"]) {
    if (!p["committed"].is_number_integer() || p["committed"] != p["end_offset"] || p["lag"] != 0 ||
        !p["owner"].is_string()) {
      return Differs("partition not drained or not owned: " + p.dump());
    }
    committed += p["committed"].get<int64_t>();
  }
  if (committed != total) return Differs("committed " + std::to_string(committed) + " of " + std::to_string(total));
  if (j["state"] != "Stable" || j["members_from"] != "announcements" || j["total_lag"] != 0) {
    return Differs("state, source or total lag: " + j.dump());
  }
  if (!j["members"].is_array() || j["members"].size() != 1 || j["members"][0]["assignment"].size() != partitions) {
    return Differs("want one member assigned every partition: " + j["members"].dump());
  }
  return 0;
}
