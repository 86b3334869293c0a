#include "tutorial/events.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kstrand::tutorial {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 16> kFirstNames = {
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken",
    "Frances", "Edsger", "Radia", "Donald", "Hedy", "Tim", "Katherine", "John"};
constexpr std::array<std::string_view, 16> kLastNames = {
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Dijkstra", "Perlman", "Knuth", "Lamarr", "Berners-Lee", "Johnson", "Backus"};
// Repeats make some countries more common, so filters match at different rates.
constexpr std::array<std::string_view, 12> kCountries = {"FR", "FR", "FR", "DE", "DE", "GB",
                                                         "US", "US", "ES", "IT", "NL", "JP"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

bool IsCountryCode(const std::string& s) {
  return s.size() == 2 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

std::string EncodeNewUser(const NewUser& user) {
  return json{{"id", user.id},           {"name", user.name}, {"email", user.email}, {"country", user.country},
              {"age", user.age},         {"signup_time", user.signup_time}}
      .dump();
}

Result<NewUser> DecodeNewUser(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Errc::kInvalidArgument, "not JSON");
  if (!j.is_object()) return Status(Errc::kInvalidArgument, "not a JSON object");
  auto bad = [](const char* field, const char* expected) {
    return Status(Errc::kInvalidArgument, std::string("field '") + field + "': expected " + expected);
  };
  NewUser u;
  // Each required string field: present, a string, not empty.
  for (auto [name, out] : {std::pair{"id", &u.id}, std::pair{"name", &u.name}, std::pair{"email", &u.email},
                           std::pair{"country", &u.country}, std::pair{"signup_time", &u.signup_time}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return bad(name, "a non-empty string");
    }
    *out = it->get<std::string>();
  }
  if (u.email.find('@') == std::string::npos) return bad("email", "an address with '@'");
  if (!IsCountryCode(u.country)) return bad("country", "a two-letter upper-case country code");
  auto age = j.find("age");
  if (age == j.end() || !age->is_number_integer() || age->get<int64_t>() < 0 || age->get<int64_t>() > 150) {
    return bad("age", "a whole number 0..150");
  }
  u.age = age->get<int>();
  return u;
}

UserGenerator::UserGenerator(uint64_t seed, std::string id_prefix) : rng_(seed), id_prefix_(std::move(id_prefix)) {}

NewUser UserGenerator::Next() {
  auto pick = [&](const auto& list) { return list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng_)]; };
  NewUser u;
  u.id = id_prefix_ + "-" + std::to_string(next_id_++);
  std::string_view first = pick(kFirstNames), last = pick(kLastNames);
  u.name = std::string(first) + " " + std::string(last);
  u.email = Lower(first) + "." + Lower(last) + std::to_string(next_id_ % 1000) + "@example.com";
  u.country = std::string(pick(kCountries));
  u.age = std::uniform_int_distribution<int>(16, 80)(rng_);
  u.signup_time = NowIso8601();
  return u;
}

std::string UserGenerator::Malformed() {
  // The three mistakes real producers make: broken JSON, a missing field, a wrong type.
  switch (std::uniform_int_distribution<int>(0, 2)(rng_)) {
    case 0:
      return R"({"id":"broken","name":"Trunc)";
    case 1: {
      json j = json::parse(EncodeNewUser(Next()));
      j.erase("country");
      return j.dump();
    }
    default: {
      json j = json::parse(EncodeNewUser(Next()));
      j["age"] = "forty-two";
      return j.dump();
    }
  }
}

}  // namespace kstrand::tutorial
