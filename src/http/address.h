// Listen addresses for kstrand's HTTP servers (the status server, the
// examples' APIs): "PORT" (loopback), "HOST:PORT", "[IPv6]:PORT"; binding a
// server to one; and the URL others reach a bound address at.
// Plain functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kstrand/status.h"

namespace httplib {
class Server;
}

namespace kstrand::http {

inline constexpr std::string_view kDefaultHost = "127.0.0.1";
// The largest request body a kstrand server reads unless told otherwise;
// larger ones get 413 before any handler runs. Our servers take small JSON
// (or nothing): a cap keeps one client from making us buffer gigabytes.
inline constexpr size_t kDefaultMaxBodyBytes = 64 * 1024;

struct ListenAddress {
  std::string host;  // as given, without IPv6 brackets; kDefaultHost when only a port was given
  uint16_t port = 0;   // 0: any free port
};

// kInvalidArgument naming the address and what is wrong with it.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// "http://HOST:PORT". A wildcard host (0.0.0.0, ::) becomes this machine's
// name: the URL is announced to other members, and a wildcard does not reach us.
std::string UrlFor(std::string_view host, int port);

// Binds `server` to `address` (port 0: any free port) and returns its URL.
// Sets what every kstrand server wants: SO_REUSEADDR without httplib's
// SO_REUSEPORT, TCP_NODELAY, and a request body cap (`max_body_bytes`; larger
// bodies get 413 and the server goes on serving). kInvalidArgument naming the
// address and the reason when it cannot bind. Every HTTP server kstrand
// starts binds through here.
Result<std::string> Bind(httplib::Server& server, const ListenAddress& address,
                         size_t max_body_bytes = kDefaultMaxBodyBytes);

}  // namespace kstrand::http
