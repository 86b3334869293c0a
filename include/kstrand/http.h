/// @file
/// @brief kstrand's HTTP servers: listen addresses as kstrand takes them
/// ("PORT" for loopback, "HOST:PORT", "[IPv6]:PORT"), a cpp-httplib server that
/// bounds what one client can cost, binding it, and the URL others reach it at
/// (what a member announces as RuntimeConfig::endpoint).
///
/// ```
/// auto address = kstrand::http::ParseListenAddress("8080");   // 127.0.0.1:8080
/// kstrand::http::Server server;                                 // an httplib::Server
/// server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
/// auto url = kstrand::http::Bind(server, *address);             // "http://127.0.0.1:8080"
/// std::thread serving([&] { server.listen_after_bind(); });
/// ```
///
/// Thread safety: the functions are thread-safe; a Server is used as an
/// httplib::Server is (routes set before listening, stop() from any thread).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kstrand/status.h"

/// Listen addresses, bounded servers and binding (see http.h).
namespace kstrand::http {

/// The host of an address given as a port only: loopback.
inline constexpr std::string_view kDefaultHost = "127.0.0.1";
/// The largest request body a Server reads unless told otherwise.
inline constexpr size_t kDefaultMaxBodyBytes = 64 * 1024;

/// What one client may cost a Server. Each bound is enforced while the request
/// is read, whatever its transfer encoding (Content-Length, chunked, or a body
/// that runs to the end of the connection), so memory per connection stays
/// within max_header_bytes + max_body_bytes. A request past a bound gets its
/// status (below) with a JSON body naming the bound, and the connection is closed.
struct ServerLimits {
  /// Body bytes on the wire (chunk framing included): 413.
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  /// The request line and headers together: 431 (414 for a request line over 8 KiB,
  /// 431 for one header line over 8 KiB, as httplib's own limits).
  size_t max_header_bytes = 16 * 1024;
  /// From a request's first byte to the end of its headers (slow-loris): 408.
  std::chrono::milliseconds header_timeout{5000};
  /// From a request's first byte to the end of its body: 408.
  std::chrono::milliseconds request_timeout{30000};
  /// How long an idle keep-alive connection is kept open.
  std::chrono::milliseconds idle_timeout{5000};
  /// Connections served at once; each holds a thread while it is open.
  size_t max_connections = 64;
  /// Accepted connections waiting for one of those; past this, 503 and closed.
  size_t max_waiting_connections = 256;
};

/// An httplib::Server (set routes and handlers on it as usual) that reads each
/// request through ServerLimits. Every kstrand server is one: the status server,
/// the examples' APIs, the embedded broker's control channel. It owns the
/// task queue (new_task_queue): leave that alone.
class Server : public httplib::Server {
 public:
  /// A server that reads each request through `limits`.
  explicit Server(ServerLimits limits = {});
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The limits it was made with.
  const ServerLimits& limits() const { return limits_; }

  /// As httplib's; a request httplib cannot parse (its bare 400) then gets a
  /// JSON body naming what was malformed, and the connection is closed.
  Server& set_error_handler(Handler handler);

 private:
  class Connection;  // an accepted socket, read through the limits
  class Queue;       // httplib's task queue: the reception thread and the workers

  // httplib's accepting thread calls this for each accepted socket.
  bool process_and_close_socket(socket_t sock) override;
  // One request of `c`, on a worker. false: close the connection.
  bool ServeOne(Connection& c);

  const ServerLimits limits_;
  static thread_local Queue* accepting_queue_;  // set while httplib hands a socket to process_and_close_socket
  static thread_local Connection* serving_;     // the request a worker reads, for set_error_handler's wrapper
};

/// Where a server listens, as ParseListenAddress() read it.
struct ListenAddress {
  std::string host;   ///< As given, without IPv6 brackets; kDefaultHost when only a port was given.
  uint16_t port = 0;  ///< 0: any free port.
};

/// Reads "PORT", "HOST:PORT" or "[IPv6]:PORT". kInvalidArgument naming the
/// address and what is wrong with it.
Result<ListenAddress> ParseListenAddress(std::string_view text);

/// "http://HOST:PORT". A wildcard host (0.0.0.0, ::) becomes this machine's
/// name: the URL is announced to other members, and a wildcard does not reach us.
std::string UrlFor(std::string_view host, int port);

/// Binds `server` to `address` (port 0: any free port) and returns its URL;
/// serve with server.listen_after_bind(). Sets what a service wants:
/// SO_REUSEADDR without httplib's SO_REUSEPORT (which lets a second process
/// bind the same port and silently take half the requests) and TCP_NODELAY
/// (without it Nagle and delayed ACKs add ~40 ms to each small keep-alive
/// reply). kInvalidArgument naming the address and the reason when it cannot bind.
Result<std::string> Bind(Server& server, const ListenAddress& address);

}  // namespace kstrand::http
