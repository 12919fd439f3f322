#pragma once
#include <string>
#include <string_view>

namespace forwarder::support {

// The text escaped for the inside of a JSON string (quotes, backslash, control characters).
std::string json_escape(std::string_view text);

} // namespace forwarder::support
