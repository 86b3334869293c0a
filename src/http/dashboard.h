// The dashboard page (dashboard.html), compiled in: CMake turns the file into
// a string literal, so the binary serves it with no asset files and no CDN.
#pragma once

#include <string_view>

namespace kstrand::http {

extern const std::string_view kDashboardHtml;

}  // namespace kstrand::http
