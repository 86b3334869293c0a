// The users API (the seed's CRUD service whose data lives in Kafka): users are
// records of the compacted topic `users`, keyed by id. Each instance is one
// member of the group: it materialises the partitions it owns into a table
// and answers any id, serving its own partitions and forwarding the others to
// their owner.
//
//   POST   /users        create (the id is assigned here)      201 + the user
//   GET    /users/{id}                                          200, 404
//   PUT    /users/{id}   replace name and email                 200, 404
//   DELETE /users/{id}   tombstone                              204, 404
//   GET    /users        this instance's partitions, paged      200
//   GET    /owners       partition -> owner endpoint, as routed
//
// Writes are read-your-writes: the owner produces the record, then waits
// until its own table has applied it before answering, so a read that follows
// (through any instance) sees it. If the partition moves away during that
// wait, the write is in Kafka but not yet visible: 202 with its position.
// A partition that is moving or restoring answers 503 with Retry-After; an
// id is never reported missing because of a rebalance.
//
// Thread safety: Start/Stop from one thread; requests are served concurrently.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <kstrand/http.h>
#include <kstrand/state.h>
#include <kstrand/status.h>

namespace kstrand::users {

struct UsersAppConfig {
  std::string name = "users-api";
  std::string brokers;
  std::map<std::string, std::string> kafka;  // librdkafka properties for every client
  std::string group_id = "users-api";
  std::string topic = "users";
  std::string listen_host = std::string(http::kDefaultHost);
  uint16_t port = 0;  // 0: any free port
  StateConfig state;
  size_t max_body_bytes = http::kDefaultMaxBodyBytes;  // larger bodies get 413
  // How long a write waits for the owner's table to apply it.
  std::chrono::milliseconds apply_timeout{5000};
  std::string members_topic{kstrand::kDefaultMembersTopic};
};

class UsersApp {
 public:
  // Opens the stores, joins the group and serves HTTP; the topic must exist.
  static Result<std::unique_ptr<UsersApp>> Start(UsersAppConfig config);
  ~UsersApp();  // calls Stop()
  // Leaves the group (handing its partitions over) and stops serving.
  void Stop();
  // Blocks until the member stopped (Stop(), or a failure it reports).
  Status Wait();

  const std::string& url() const;  // http://host:port, this instance's endpoint
  const Table& table() const;

 private:
  class Impl;
  explicit UsersApp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kstrand::users
