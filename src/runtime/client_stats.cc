#include "runtime/client_stats.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace kstrand::runtime {

std::optional<ClientStats> ParseClientStatistics(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto number = [](const nlohmann::json& o, const char* name) -> int64_t {
    auto it = o.find(name);
    return it != o.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  ClientStats c;
  c.rx_messages = static_cast<uint64_t>(number(j, "rxmsgs"));
  c.rx_bytes = static_cast<uint64_t>(number(j, "rx_bytes"));
  if (auto brokers = j.find("brokers"); brokers != j.end() && brokers->is_object()) {
    for (const auto& [name, b] : brokers->items()) {
      if (!b.is_object()) continue;
      if (auto rtt = b.find("rtt"); rtt != b.end() && rtt->is_object()) {
        c.broker_rtt_p99_us = std::max(c.broker_rtt_p99_us, number(*rtt, "p99"));
      }
    }
  }
  if (auto topics = j.find("topics"); topics != j.end() && topics->is_object()) {
    for (const auto& [name, t] : topics->items()) {
      if (!t.is_object()) continue;
      auto parts = t.find("partitions");
      if (parts == t.end() || !parts->is_object()) continue;
      for (const auto& [id, p] : parts->items()) {
        if (id != "-1" && p.is_object()) c.fetch_queue_messages += static_cast<uint64_t>(number(p, "fetchq_cnt"));
      }
    }
  }
  return c;
}

}  // namespace kstrand::runtime
