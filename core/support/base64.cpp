#include "base64.hpp"

#include <cstdint>

namespace forwarder::support {

std::string base64_encode(std::string_view bytes)
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t size = bytes.size();
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t group = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
        out.push_back(kAlphabet[group >> 18 & 63]);
        out.push_back(kAlphabet[group >> 12 & 63]);
        out.push_back(kAlphabet[group >> 6 & 63]);
        out.push_back(kAlphabet[group & 63]);
    }
    if (size - i == 1) {
        const uint32_t group = uint32_t{data[i]} << 16;
        out.push_back(kAlphabet[group >> 18 & 63]);
        out.push_back(kAlphabet[group >> 12 & 63]);
        out += "==";
    } else if (size - i == 2) {
        const uint32_t group = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8;
        out.push_back(kAlphabet[group >> 18 & 63]);
        out.push_back(kAlphabet[group >> 12 & 63]);
        out.push_back(kAlphabet[group >> 6 & 63]);
        out.push_back('=');
    }
    return out;
}

bool base64_decode(std::string_view text, std::string& bytes)
{
    bytes.clear();
    // Strict: alphabet characters, then at most two '=' completing the last group of four.
    // Unpadded text (length % 4 of 2 or 3) is accepted too.
    size_t pad = 0;
    while (pad < text.size() && text[text.size() - 1 - pad] == '=') {
        ++pad;
    }
    const size_t body = text.size() - pad;
    if (pad > 2 || (pad > 0 && text.size() % 4 != 0) || body % 4 == 1) {
        return false;
    }
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z')
            return c - 'A';
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 26;
        if (c >= '0' && c <= '9')
            return c - '0' + 52;
        if (c == '+')
            return 62;
        if (c == '/')
            return 63;
        return -1;
    };
    bytes.reserve(body / 4 * 3 + 2);
    uint32_t group = 0;
    int bits = 0;
    for (size_t i = 0; i < body; ++i) {
        const int v = value(text[i]);
        if (v < 0) {
            bytes.clear();
            return false;
        }
        group = (group << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>((group >> bits) & 0xFF));
        }
    }
    return true;
}

} // namespace forwarder::support
