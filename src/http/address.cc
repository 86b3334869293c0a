#include "kstrand/http.h"

#include <unistd.h>

#include <charconv>

namespace kstrand::http {
namespace {

Status Invalid(std::string_view text, std::string_view why) {
  return Status(Errc::kInvalidArgument, "listen address '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress out;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return Invalid(text, "missing ']' after the IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return Invalid(text, "expected [IPv6]:PORT");
    port = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return Invalid(text, "an IPv6 address needs brackets, e.g. [::1]:8080");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  } else {
    out.host = std::string(kDefaultHost);
  }
  if (out.host.empty()) {
    return Invalid(text, "no host before the port (give 127.0.0.1:PORT, or 0.0.0.0:PORT for every interface)");
  }
  if (out.host.find_first_of(" \t\r\n/") != std::string::npos) return Invalid(text, "not a host name or address");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return Invalid(text, "port '" + std::string(port) + "' is not a number from 0 to 65535");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

std::string UrlFor(std::string_view host, int port) {
  std::string name(host);
  if (host == "0.0.0.0" || host == "::") {
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) == 0 && buf[0] != '\0') name = buf;
  }
  if (name.find(':') != std::string::npos) name = "[" + name + "]";
  return "http://" + name + ":" + std::to_string(port);
}

}  // namespace kstrand::http
