// The users API's requests, parsed and validated before anything touches Kafka
// or the table: a bad method, id, body or query ends here with its 4xx answer,
// and users_app.cc acts only on what passes. Kept apart from the app so the
// validation can be tested (and fuzzed) without a broker or a socket.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kstrand::users {

inline constexpr size_t kMaxField = 200;     // bytes of a name or an email
inline constexpr size_t kMaxIdLength = 64;
inline constexpr int kDefaultPage = 100;
inline constexpr int kMaxPage = 1000;

// An answer: status, JSON body (none for 204), extra headers.
struct Reply {
  int status = 200;
  std::string body;
  std::string retry_after;
  std::map<std::string, std::string> headers;
};

// `status` with the body {"error": message}.
Reply Error(int status, const std::string& message);

enum class Action { kList, kCreate, kGet, kReplace, kDelete };

// A request that passed validation.
struct Request {
  Action action = Action::kList;
  std::string id;       // every action but kList
  nlohmann::json user;  // kCreate, kReplace: the stored form {"id", "name", "email"}
  // kList: at most `limit` users, from partition `from_partition` (-1: the first)
  // after key `after` there, as the cursor of the previous page said.
  int limit = kDefaultPage;
  int32_t from_partition = -1;
  std::string after;
};

using Params = std::multimap<std::string, std::string>;  // the query, as httplib::Params

// `path_id`: nullopt for /users, else the segment after "/users/". `forwarded`:
// another instance sent it (only then is POST /users/{id} accepted: a create
// whose id that instance chose). `new_id` names a user created at /users.
std::variant<Request, Reply> ParseRequest(std::string_view method, const std::optional<std::string>& path_id,
                                          const Params& params, const std::string& body, bool forwarded,
                                          const std::function<std::string()>& new_id);

}  // namespace kstrand::users
