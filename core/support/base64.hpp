#pragma once
// Standard base64 (RFC 4648 §4), as LoRa protocols carry payloads in JSON.
#include <string>
#include <string_view>

namespace forwarder::support {

// With padding, no line breaks.
std::string base64_encode(std::string_view bytes);
// Padding optional; no whitespace or other characters. False (and `bytes` empty) if invalid.
bool base64_decode(std::string_view text, std::string& bytes);

} // namespace forwarder::support
