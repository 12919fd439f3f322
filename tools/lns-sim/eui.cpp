#include "eui.hpp"

#include "lns_codec.hpp"

#include <cstdio>

// The EUI rules live in the LNS codec (plugins/lns); the simulator uses the same ones.
namespace lns_sim {

std::optional<uint64_t> parse_eui(std::string_view text)
{
    uint64_t eui = 0;
    if (!forwarder::lns::parse_eui(text, eui)) {
        return std::nullopt;
    }
    return eui;
}

std::optional<uint64_t> parse_hex16(std::string_view text)
{
    if (text.size() != 16) {
        return std::nullopt;
    }
    uint64_t value = 0;
    for (char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        }
        if (v < 0) {
            return std::nullopt;
        }
        value = value << 4 | static_cast<uint64_t>(v);
    }
    return value;
}

std::string eui_hex_upper(uint64_t eui)
{
    char text[17];
    std::snprintf(text, sizeof text, "%016llX", static_cast<unsigned long long>(eui));
    return text;
}

std::string eui_dashed(uint64_t eui)
{
    return forwarder::lns::format_eui_dashed(eui);
}

std::string eui_id6(uint64_t eui)
{
    return forwarder::lns::format_id6(eui);
}

} // namespace lns_sim
