#include "users-api/users_app.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include <kstrand/http.h>
#include <kstrand/producer.h>
#include <kstrand/routing.h>
#include <kstrand/runtime.h>

#include "users-api/requests.h"

namespace kstrand::users {
namespace {

using nlohmann::json;

constexpr const char* kRetryAfterSeconds = "1";
constexpr const char* kOffsetHeader = "Kstrand-Offset";  // "<partition>:<offset>" of a write

Reply Unavailable(const std::string& why) {
  Reply r = Error(503, why);
  r.retry_after = kRetryAfterSeconds;
  return r;
}

std::string NewId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}", random());
}

}  // namespace

class UsersApp::Impl {
 public:
  explicit Impl(UsersAppConfig c) : config(std::move(c)) {}

  Status Start();
  void Stop();
  void Serve(const httplib::Request& req, httplib::Response& res, const std::string& path_id);

  const UsersAppConfig config;
  std::string url;
  std::shared_ptr<Stores> stores;
  std::shared_ptr<Table> table;
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Router> router;
  std::unique_ptr<Producer> producer;
  http::Server server{{.max_body_bytes = config.max_body_bytes}};
  std::thread server_thread;

 private:
  // Serves `id`'s partition here if this instance owns it and is caught up,
  // or forwards the request to the owner (unless it was forwarded to us).
  Reply Route(const httplib::Request& req, const std::string& id, const std::function<Reply(Partition)>& local);
  Reply Read(Partition p, const std::string& id);
  // Produces the user's new record (a tombstone for nullopt) and waits for this
  // instance's table to apply it.
  Reply Write(Partition p, const std::string& id, const std::optional<json>& user, int ok_status);
  Reply List(const Request& r);
  Reply Owners();
};

Status UsersApp::Impl::Start() {
  auto opened = Stores::Open(config.state);
  if (!opened.ok()) return opened.status();
  stores = std::move(opened.value());
  auto t = Table::Open(config.topic, stores);
  if (!t.ok()) return t.status();
  table = std::move(t.value());

  // Every error gets a JSON reason; http::Server names its own (a malformed
  // request, a limit passed).
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(json{{"error", "HTTP " + std::to_string(res.status)}}.dump(), "application/json");
  });
  auto bound = http::Bind(server, {config.listen_host, config.port});
  if (!bound.ok()) return Status(bound.status().code(), "http: " + bound.status().detail());
  url = std::move(bound.value());

  auto p = Producer::Create(ProducerConfig::SameClusterAs(config.brokers, config.kafka, config.name));
  if (!p.ok()) return p.status();
  producer = std::move(p.value());

  auto r = Router::Start({config.brokers, config.kafka, config.group_id, config.topic, config.members_topic});
  if (!r.ok()) return r.status();
  router = std::move(r.value());

  RuntimeConfig rc;
  rc.name = config.name;
  rc.brokers = config.brokers;
  rc.group_id = config.group_id;
  rc.endpoint = url;
  rc.members_topic = config.members_topic;
  rc.kafka = config.kafka;
  rc.topics.push_back({.topic = config.topic, .table = table});
  auto created = Runtime::Create(std::move(rc));
  if (!created.ok()) return created.status();
  runtime = std::move(created.value());

  auto users = [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res, ""); };
  auto user = [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res, req.matches[1]); };
  auto owners = [this](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET") {
      res.status = 405;
      res.set_header("Allow", "GET");
      return;
    }
    res.set_content(Owners().body, "application/json");
  };
  for (const char* path : {"/users", "/users/"}) {
    server.Get(path, users).Post(path, users).Put(path, users).Delete(path, users).Patch(path, users);
  }
  server.Get(R"(/users/([^/]+))", user).Post(R"(/users/([^/]+))", user).Put(R"(/users/([^/]+))", user);
  server.Delete(R"(/users/([^/]+))", user).Patch(R"(/users/([^/]+))", user);
  server.Get("/owners", owners).Post("/owners", owners).Put("/owners", owners).Delete("/owners", owners);

  KSTRAND_RETURN_IF_ERROR(runtime->Start());
  server_thread = std::thread([this] { server.listen_after_bind(); });
  spdlog::info("{}: serving users on {}", config.name, url);
  return Status::Ok();
}

void UsersApp::Impl::Stop() {
  // Leave the group first: the next owners take over while requests for
  // these partitions already get 503 (the table forgot them at revoke).
  if (runtime) runtime->Stop();
  server.stop();
  if (server_thread.joinable()) server_thread.join();
}

void UsersApp::Impl::Serve(const httplib::Request& req, httplib::Response& res, const std::string& path_id) {
  const bool collection = req.matches.size() < 2;
  const bool forwarded = req.has_header(std::string(Router::kForwardedHeader));
  auto parsed = ParseRequest(req.method, collection ? std::nullopt : std::optional(path_id), req.params, req.body,
                             forwarded, NewId);
  Reply reply;
  if (auto* bad = std::get_if<Reply>(&parsed)) {
    reply = std::move(*bad);
  } else {
    const Request& r = std::get<Request>(parsed);
    switch (r.action) {
      case Action::kList: reply = List(r); break;
      case Action::kCreate:
        reply = Route(req, r.id, [&](Partition p) { return Write(p, r.id, r.user, 201); });
        break;
      case Action::kGet: reply = Route(req, r.id, [&](Partition p) { return Read(p, r.id); }); break;
      case Action::kReplace:
        reply = Route(req, r.id, [&](Partition p) {
          Reply current = Read(p, r.id);
          if (current.status != 200) return current;
          return Write(p, r.id, r.user, 200);
        });
        break;
      case Action::kDelete:
        reply = Route(req, r.id, [&](Partition p) {
          Reply current = Read(p, r.id);
          if (current.status != 200) return current;
          return Write(p, r.id, std::nullopt, 204);
        });
        break;
    }
  }
  res.status = reply.status;
  if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.status != 204) res.set_content(reply.body, "application/json");
}

Reply UsersApp::Impl::Route(const httplib::Request& req, const std::string& id,
                            const std::function<Reply(Partition)>& local) {
  const Partition p = router->PartitionFor(id);
  const std::string where = config.topic + "[" + std::to_string(p.value()) + "]";
  switch (table->availability(p)) {
    case Availability::kReady: return local(p);
    case Availability::kRestoring: return Unavailable(where + " is restoring here");
    case Availability::kNotAssigned: break;
  }
  if (req.has_header(std::string(Router::kForwardedHeader))) {
    return Unavailable(where + " is not owned by " + url + " (it is moving)");
  }
  auto owner = router->Owner(p);
  if (!owner || *owner == url) return Unavailable(where + " has no owner right now (a rebalance is in progress)");
  // A create is forwarded with the id this instance chose.
  std::string target = req.method == "POST" && req.matches.size() < 2 ? "/users/" + id : req.target;
  auto forwarded = router->Forward(*owner, url, req.method, target, req.body, "application/json");
  if (!forwarded.ok()) return Unavailable(where + ": its owner " + *owner + " did not answer");
  Reply reply{forwarded->status, forwarded->body, "", {}};
  for (const auto& [name, value] : forwarded->headers) {
    if (name == "Retry-After") reply.retry_after = value;
    if (name == "Location" || name == kOffsetHeader || name == "Allow") reply.headers[name] = value;
  }
  return reply;
}

Reply UsersApp::Impl::Read(Partition p, const std::string& id) {
  auto found = table->Get(p, id);
  if (found.availability != Availability::kReady) {
    return Unavailable(config.topic + "[" + std::to_string(p.value()) + "] is " + std::string(ToString(found.availability)));
  }
  if (!found.value) return Error(404, "no user " + id);
  return {200, *found.value, "", {}};
}

Reply UsersApp::Impl::Write(Partition p, const std::string& id, const std::optional<json>& user, int ok_status) {
  const std::string value = user ? user->dump() : std::string();
  // A null value (tombstone) deletes.
  auto delivered = producer->Send({.topic = config.topic, .key = id, .value = value, .tombstone = !user});
  if (!delivered.ok()) return Unavailable("writing to Kafka failed: " + delivered.status().detail());
  const std::string position =
      std::to_string(delivered->partition.value()) + ":" + std::to_string(delivered->offset.value());
  if (delivered->partition != p) {
    spdlog::error("{}: user {} went to partition {}, routed as {}: partition counts disagree", config.name, id,
                  delivered->partition.value(), p.value());
  }
  Reply reply;
  if (table->WaitApplied(delivered->partition, delivered->offset.value(), config.apply_timeout) ==
      Availability::kReady) {
    reply = {ok_status, user ? value : std::string(), "", {}};
  } else {
    reply = {202, json{{"id", id}, {"written", position}, {"detail", "written to Kafka; the partition moved before "
                                                                      "this instance applied it"}}.dump(), "", {}};
  }
  reply.headers[kOffsetHeader] = position;
  if (ok_status == 201) reply.headers["Location"] = "/users/" + id;
  return reply;
}

Reply UsersApp::Impl::List(const Request& r) {
  const int limit = r.limit;
  const int32_t from_partition = r.from_partition;
  const std::string& after = r.after;
  json users = json::array(), ready = json::array(), restoring = json::array();
  std::string next;
  for (const auto& stats : table->Stats()) {
    const int32_t p = stats.partition.value();
    if (stats.availability != Availability::kReady) {
      restoring.push_back(p);
      continue;
    }
    ready.push_back(p);
    if (p < from_partition || static_cast<int>(users.size()) >= limit) continue;
    auto page = table->Scan(stats.partition, p == from_partition ? after : "", limit - users.size());
    for (auto& [key, value] : page.entries) {
      users.push_back(json::parse(value, nullptr, false));
      next = std::to_string(p) + ":" + key;
    }
  }
  if (static_cast<int>(users.size()) < limit) next.clear();
  return {200, json{{"users", users}, {"next", next.empty() ? json() : json(next)}, {"partitions", ready},
                    {"restoring", restoring}}.dump(), "", {}};
}

Reply UsersApp::Impl::Owners() {
  json owners = json::object();
  for (const auto& [p, endpoint] : router->Owners()) owners[std::to_string(p)] = endpoint;
  return {200, json{{"topic", config.topic}, {"partitions", router->partitions()}, {"owners", owners}, {"self", url}}.dump(), "", {}};
}

// ---- public face ----

Result<std::unique_ptr<UsersApp>> UsersApp::Start(UsersAppConfig config) {
  auto impl = std::make_unique<Impl>(std::move(config));
  KSTRAND_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<UsersApp>(new UsersApp(std::move(impl)));
}

UsersApp::UsersApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UsersApp::~UsersApp() { Stop(); }
void UsersApp::Stop() { impl_->Stop(); }
Status UsersApp::Wait() { return impl_->runtime->Wait(); }
const std::string& UsersApp::url() const { return impl_->url; }
const Table& UsersApp::table() const { return *impl_->table; }

}  // namespace kstrand::users
