// Listen addresses for kstrand's HTTP servers (the status server, the
// examples' APIs): "PORT" (loopback), "HOST:PORT", "[IPv6]:PORT"; binding a
// server to one; and the URL others reach a bound address at.
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kstrand/status.h"

namespace httplib {
class Server;
}

namespace kstrand::http {

inline constexpr std::string_view kDefaultHost = "127.0.0.1";

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
// Sets the socket options every kstrand server wants: SO_REUSEADDR without
// httplib's SO_REUSEPORT, and TCP_NODELAY. kInvalidArgument naming the
// address and the reason when it cannot bind.
Result<std::string> Bind(httplib::Server& server, const ListenAddress& address);

}  // namespace kstrand::http
