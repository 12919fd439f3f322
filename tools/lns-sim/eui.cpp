#include "eui.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace lns_sim {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// A prefix is a run of lower-case letters with at least one non-hex letter, then '-'
// ("router-", "muxs-", "eui-"); "ab-cd-..." is a dashed EUI, not a prefix.
std::string_view strip_prefix(std::string_view text)
{
    size_t i = 0;
    bool non_hex = false;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') {
        non_hex = non_hex || hex_value(text[i]) < 0;
        ++i;
    }
    if (i > 0 && non_hex && i < text.size() && text[i] == '-') {
        return text.substr(i + 1);
    }
    return text;
}

// One ID6 group: 1..4 hex digits.
std::optional<uint16_t> parse_group(std::string_view group)
{
    if (group.empty() || group.size() > 4) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (char c : group) {
        const int v = hex_value(c);
        if (v < 0) {
            return std::nullopt;
        }
        value = value * 16 + static_cast<unsigned>(v);
    }
    return static_cast<uint16_t>(value);
}

std::optional<std::vector<uint16_t>> parse_groups(std::string_view text)
{
    std::vector<uint16_t> groups;
    if (text.empty()) {
        return groups;
    }
    size_t start = 0;
    while (true) {
        const size_t colon = text.find(':', start);
        const auto group = parse_group(text.substr(start, colon - start));
        if (!group) {
            return std::nullopt;
        }
        groups.push_back(*group);
        if (colon == std::string_view::npos) {
            return groups;
        }
        start = colon + 1;
    }
}

std::optional<uint64_t> parse_id6(std::string_view text)
{
    const size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        const auto groups = parse_groups(text);
        if (!groups || groups->empty() || groups->size() > 4) {
            return std::nullopt;
        }
        uint64_t value = 0;
        for (uint16_t g : *groups) {
            value = value << 16 | g;
        }
        return value;
    }
    if (text.find("::", gap + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const auto high = parse_groups(text.substr(0, gap));
    const auto low = parse_groups(text.substr(gap + 2));
    if (!high || !low || high->size() + low->size() > 3) {
        return std::nullopt;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < high->size(); ++i) {
        value |= static_cast<uint64_t>((*high)[i]) << (48 - 16 * i);
    }
    for (size_t i = 0; i < low->size(); ++i) {
        value |= static_cast<uint64_t>((*low)[low->size() - 1 - i]) << (16 * i);
    }
    return value;
}

} // namespace

std::optional<uint64_t> parse_eui(std::string_view text)
{
    text = strip_prefix(text);
    size_t end = 0;
    int digits = 0;
    int dashes = 0;
    int colons = 0;
    for (; end < text.size(); ++end) {
        const char c = text[end];
        if (hex_value(c) >= 0) {
            ++digits;
        } else if (c == '-') {
            ++dashes;
        } else if (c == ':') {
            ++colons;
        } else {
            break;
        }
    }
    // Unlike the reference station, trailing characters are an error (a server should reject
    // "aa:bb:cc:01:02:03:42:xx", as TTS does).
    if (end != text.size()) {
        return std::nullopt;
    }
    if (digits == 0 || digits > 16 || (dashes > 0 && colons > 0) || dashes > 7 || colons > 7) {
        return std::nullopt;
    }
    if (colons == 2 || colons == 3) {
        return parse_id6(text);
    }
    uint64_t value = 0;
    for (char c : text) {
        const int v = hex_value(c);
        if (v >= 0) {
            value = value << 4 | static_cast<uint64_t>(v);
        }
    }
    return value;
}

std::optional<uint64_t> parse_hex16(std::string_view text)
{
    if (text.size() != 16) {
        return std::nullopt;
    }
    uint64_t value = 0;
    for (char c : text) {
        const int v = hex_value(c);
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
    std::string text;
    const std::string hex = eui_hex_upper(eui);
    for (size_t i = 0; i < 16; i += 2) {
        if (i > 0) {
            text += '-';
        }
        text += hex.substr(i, 2);
    }
    return text;
}

std::string eui_id6(uint64_t eui)
{
    std::array<unsigned, 4> g{};
    for (size_t i = 0; i < 4; ++i) {
        g[i] = static_cast<unsigned>(eui >> (48 - 16 * i)) & 0xFFFF;
    }
    char text[40];
    if (g[0] == 0 && g[1] == 0 && g[2] == 0) {
        std::snprintf(text, sizeof text, "::%x", g[3]);
    } else if (g[0] == 0 && g[1] == 0) {
        std::snprintf(text, sizeof text, "::%x:%x", g[2], g[3]);
    } else if (g[1] == 0 && g[2] == 0 && g[3] == 0) {
        std::snprintf(text, sizeof text, "%x::", g[0]);
    } else if (g[2] == 0 && g[3] == 0) {
        std::snprintf(text, sizeof text, "%x:%x::", g[0], g[1]);
    } else if (g[1] == 0 && g[2] == 0) {
        std::snprintf(text, sizeof text, "%x::%x", g[0], g[3]);
    } else {
        std::snprintf(text, sizeof text, "%x:%x:%x:%x", g[0], g[1], g[2], g[3]);
    }
    return text;
}

} // namespace lns_sim
