// Listen addresses for the status server: "PORT" (loopback), "HOST:PORT",
// "[IPv6]:PORT", and the URL others reach a bound address at.
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kstrand/status.h"

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

}  // namespace kstrand::http
