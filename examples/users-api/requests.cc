#include "users-api/requests.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace kstrand::users {
namespace {

using nlohmann::json;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

// A user body: an object with exactly "name" (non-empty) and "email" (with an
// '@'), strings of at most kMaxField bytes; "id", if given, must be `id`.
// Returns the stored form or the 400 message.
std::variant<json, Reply> ParseUser(const std::string& body, const std::string& id) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Error(400, "body is not valid JSON");
  if (!j.is_object()) return Error(400, "body must be a JSON object");
  for (const auto& [field, value] : j.items()) {
    if (field != "name" && field != "email" && field != "id") {
      return Error(400, "unknown field '" + field + "' (expected name, email)");
    }
  }
  if (j.contains("id") && j["id"] != id) return Error(400, "id in the body differs from the path");
  for (const char* field : {"name", "email"}) {
    if (!j.contains(field)) return Error(400, std::string("missing field '") + field + "'");
    if (!j[field].is_string()) return Error(400, std::string("'") + field + "' must be a string");
    const auto& s = j[field].get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxField) {
      return Error(400, std::string("'") + field + "' must be 1 to " + std::to_string(kMaxField) + " bytes");
    }
  }
  if (j["email"].get_ref<const std::string&>().find('@') == std::string::npos) {
    return Error(400, "'email' must contain '@'");
  }
  return json{{"id", id}, {"name", j["name"]}, {"email", j["email"]}};
}

// httplib's has_param/get_param_value: the first value of a repeated parameter.
const std::string* Param(const Params& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? nullptr : &it->second;
}

std::variant<Request, Reply> ParseList(const Params& params) {
  Request r;
  r.action = Action::kList;
  if (const std::string* text = Param(params, "limit")) {
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), r.limit);
    if (text->empty() || error != std::errc() || end != text->data() + text->size() || r.limit < 1 ||
        r.limit > kMaxPage) {
      return Error(400, "limit must be 1 to " + std::to_string(kMaxPage));
    }
  }
  // The cursor "<partition>:<id>" is the last entry of the previous page.
  if (const std::string* cursor = Param(params, "cursor")) {
    const auto colon = cursor->find(':');
    const char* digits_end = cursor->data() + (colon == std::string::npos ? 0 : colon);
    auto [end, error] = std::from_chars(cursor->data(), digits_end, r.from_partition);
    if (colon == std::string::npos || colon == 0 || error != std::errc() || end != digits_end ||
        r.from_partition < 0) {
      return Error(400, "bad cursor: expected <partition>:<id> from a previous page's \"next\"");
    }
    r.after = cursor->substr(colon + 1);
  }
  return r;
}

// A create or replace of `id`: the request, or the body's 400.
std::variant<Request, Reply> WithUser(Action action, std::string id, const std::string& body) {
  auto user = ParseUser(body, id);
  if (auto* reply = std::get_if<Reply>(&user)) return std::move(*reply);
  return Request{.action = action, .id = std::move(id), .user = std::move(std::get<json>(user))};
}

}  // namespace

Reply Error(int status, const std::string& message) { return {status, json{{"error", message}}.dump(), "", {}}; }

std::variant<Request, Reply> ParseRequest(std::string_view method, const std::optional<std::string>& path_id,
                                          const Params& params, const std::string& body, bool forwarded,
                                          const std::function<std::string()>& new_id) {
  if (!path_id) {
    if (method == "GET") return ParseList(params);
    if (method == "POST") return WithUser(Action::kCreate, new_id(), body);
    Reply reply = Error(405, "use GET or POST on /users");
    reply.headers["Allow"] = "GET, POST";
    return reply;
  }
  const std::string& id = *path_id;
  if (!ValidId(id)) return Error(400, "bad id: 1 to 64 characters of [A-Za-z0-9_-]");
  if (method == "GET") return Request{.action = Action::kGet, .id = id};
  if (method == "PUT") return WithUser(Action::kReplace, id, body);
  // POST /users/{id} only arrives forwarded: a create whose id the first instance chose.
  if (method == "POST" && forwarded) return WithUser(Action::kCreate, id, body);
  if (method == "DELETE") return Request{.action = Action::kDelete, .id = id};
  Reply reply = Error(405, "use GET, PUT or DELETE on /users/{id}");
  reply.headers["Allow"] = "GET, PUT, DELETE";
  return reply;
}

}  // namespace kstrand::users
