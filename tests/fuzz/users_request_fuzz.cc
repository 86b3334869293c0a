// The users API's request validation (examples/users-api/requests.h), which
// every request passes before the app touches Kafka or its table. The query
// string goes through httplib's own parser, as on the server. For any method,
// path id, query and body:
//   - either a 4xx with a JSON body {"error": "..."} (405 with Allow), never a
//     5xx and never an exception (httplib would turn one into a 500);
//   - or a request that holds only valid values: an id of 1 to 64 [A-Za-z0-9_-],
//     the body's own name and email within their limits, a page size and
//     cursor as given.
#include <fuzzer/FuzzedDataProvider.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "check.h"
#include "users-api/requests.h"

namespace {

using namespace kstrand::users;
using nlohmann::json;

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
constexpr const char* kNewId = "00000000000000ff";

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

void CheckReply(const Reply& reply, const std::string& method, bool collection) {
  FUZZ_CHECK(reply.status >= 400 && reply.status < 500);
  const json body = json::parse(reply.body, nullptr, false);
  FUZZ_CHECK(body.is_object() && body.size() == 1 && body.contains("error") && body["error"].is_string() &&
             !body["error"].get<std::string>().empty());
  FUZZ_CHECK((reply.status == 405) == reply.headers.contains("Allow"));
  if (reply.status == 405) {
    FUZZ_CHECK(reply.headers.at("Allow").find(method) == std::string::npos);
    FUZZ_CHECK(collection == (reply.headers.at("Allow") == "GET, POST"));
  }
}

void CheckUser(const Request& r, const std::string& body) {
  const json given = json::parse(body);
  FUZZ_CHECK(r.user.is_object() && r.user.size() == 3 && r.user["id"] == r.id);
  for (const char* field : {"name", "email"}) {
    FUZZ_CHECK(r.user[field] == given[field]);
    const auto& s = r.user[field].get_ref<const std::string&>();
    FUZZ_CHECK(!s.empty() && s.size() <= kMaxField);
  }
  FUZZ_CHECK(r.user["email"].get_ref<const std::string&>().find('@') != std::string::npos);
  // What the app stores and answers: dump() throws on invalid UTF-8.
  FUZZ_CHECK(json::parse(r.user.dump()) == r.user);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string method = in.PickValueInArray(kMethods);
  const bool forwarded = in.ConsumeBool();
  const bool collection = in.ConsumeBool();
  const std::optional<std::string> path_id =
      collection ? std::nullopt : std::optional(in.ConsumeRandomLengthString(100));
  const std::string query = in.ConsumeRandomLengthString(200);
  const std::string body = in.ConsumeRemainingBytesAsString();
  Params params;
  httplib::detail::parse_query_text(query, params);

  auto parsed = ParseRequest(method, path_id, params, body, forwarded, [] { return std::string(kNewId); });
  if (const auto* reply = std::get_if<Reply>(&parsed)) {
    CheckReply(*reply, method, collection);
    return 0;
  }
  const Request& r = std::get<Request>(parsed);
  switch (r.action) {
    case Action::kList: {
      FUZZ_CHECK(collection && method == "GET");
      FUZZ_CHECK(r.limit >= 1 && r.limit <= kMaxPage);
      if (params.contains("limit")) {
        // The first value, as given (leading zeros aside).
        const std::string& text = params.find("limit")->second;
        FUZZ_CHECK(text.substr(text.find_first_not_of('0')) == std::to_string(r.limit));
      }
      if (params.contains("cursor")) {
        FUZZ_CHECK(r.from_partition >= 0);
        const std::string& cursor = params.find("cursor")->second;
        FUZZ_CHECK(cursor.ends_with(":" + r.after));
      } else {
        FUZZ_CHECK(r.from_partition == -1 && r.after.empty());
      }
      break;
    }
    case Action::kCreate:
      FUZZ_CHECK(method == "POST" && (collection || forwarded));
      FUZZ_CHECK(r.id == (collection ? std::string(kNewId) : *path_id));
      CheckUser(r, body);
      break;
    case Action::kReplace:
      FUZZ_CHECK(method == "PUT" && !collection && r.id == *path_id);
      CheckUser(r, body);
      break;
    case Action::kGet:
    case Action::kDelete:
      FUZZ_CHECK(!collection && r.id == *path_id);
      FUZZ_CHECK(method == (r.action == Action::kGet ? "GET" : "DELETE"));
      break;
  }
  if (r.action != Action::kList) FUZZ_CHECK(ValidId(r.id));
  return 0;
}
