/// @file
/// @brief Listen addresses for HTTP servers, as kstrand's own (StatusServer, the
/// examples' APIs) take them: "PORT" (loopback), "HOST:PORT", "[IPv6]:PORT";
/// binding a cpp-httplib server to one; and the URL others reach it at (what a
/// member announces as RuntimeConfig::endpoint).
///
/// ```
/// auto address = kstrand::http::ParseListenAddress("8080");   // 127.0.0.1:8080
/// httplib::Server server;
/// auto url = kstrand::http::Bind(server, *address);            // "http://127.0.0.1:8080"
/// std::thread serving([&] { server.listen_after_bind(); });
/// ```
///
/// Bind is a template so that this header needs no HTTP library: it works
/// with the application's own cpp-httplib (httplib::Server or anything with
/// its interface).
///
/// Thread safety: plain functions; thread-safe.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "kstrand/status.h"

/// Listen addresses and binding for HTTP servers (see http.h).
namespace kstrand::http {

/// The host of an address given as a port only: loopback.
inline constexpr std::string_view kDefaultHost = "127.0.0.1";
/// The largest request body a server bound by Bind reads unless told
/// otherwise; larger ones get 413 before any handler runs. A cap keeps one
/// client from making the server buffer gigabytes.
inline constexpr size_t kDefaultMaxBodyBytes = 64 * 1024;

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

/// Binds `server` (a cpp-httplib Server) to `address` (port 0: any free port)
/// and returns its URL; serve with server.listen_after_bind(). Sets what a
/// service wants: SO_REUSEADDR without httplib's SO_REUSEPORT (which lets a
/// second process bind the same port and silently take half the requests),
/// TCP_NODELAY (without it Nagle and delayed ACKs add ~40 ms to each small
/// keep-alive reply), and a request body cap (`max_body_bytes`; larger bodies
/// get 413 and the server goes on serving). kInvalidArgument naming the
/// address and the reason when it cannot bind.
template <typename Server>
Result<std::string> Bind(Server& server, const ListenAddress& address, size_t max_body_bytes = kDefaultMaxBodyBytes) {
  server.set_payload_max_length(max_body_bytes);
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_tcp_nodelay(true);
  errno = 0;
  int port = address.port;
  const bool bound = port == 0 ? (port = server.bind_to_any_port(address.host)) > 0
                               : server.bind_to_port(address.host, port);
  if (!bound) {
    std::string why = errno != 0 ? std::error_code(errno, std::generic_category()).message()
                                 : "not an address of this machine";
    return Status(Errc::kInvalidArgument,
                  "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " + why);
  }
  return UrlFor(address.host, port);
}

}  // namespace kstrand::http
