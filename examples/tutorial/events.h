// The tutorial's input: `new_users` events, one JSON object per sign-up,
// keyed by the user's id. The source writes them; every team reads them.
//
//   {"id":"u-5f3a9c01-42","name":"Ada Lovelace","email":"ada.lovelace@example.com",
//    "country":"GB","age":36,"signup_time":"2026-11-21T17:00:00.123Z"}
//
// Thread safety: plain functions and values; a UserGenerator is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <kstrand/status.h>

namespace kstrand::tutorial {

inline constexpr std::string_view kNewUsersTopic = "new_users";

struct NewUser {
  std::string id;
  std::string name;
  std::string email;
  std::string country;      // ISO 3166-1 alpha-2, upper case
  int age = 0;
  std::string signup_time;  // ISO 8601, UTC
};

std::string EncodeNewUser(const NewUser& user);

// Strict, because teams must not trust their input: the error names the first
// missing or invalid field ("field 'age': expected a whole number 0..150").
Result<NewUser> DecodeNewUser(std::string_view json);

// Made-up users; the same seed gives the same users.
class UserGenerator {
 public:
  // `id_prefix` keeps ids unique across runs of the source ("u-<run>-<n>").
  UserGenerator(uint64_t seed, std::string id_prefix);

  NewUser Next();
  // An event a team must reject: not JSON, a missing field, or a wrong type.
  std::string Malformed();

 private:
  std::mt19937_64 rng_;
  std::string id_prefix_;
  uint64_t next_id_ = 1;
};

}  // namespace kstrand::tutorial
