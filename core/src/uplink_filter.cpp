#include "uplink_filter.hpp"

#include <lora_frame.hpp>
#include <lora_text.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace forwarder::core {

namespace {

bool parse_hex(std::string_view text, uint64_t& out, size_t max_digits)
{
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
    }
    std::string digits;
    for (char c : text) {
        if (c == '-' || c == ':') {
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
        digits.push_back(c);
    }
    if (digits.empty() || digits.size() > max_digits) {
        return false;
    }
    out = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out, 16);
    return ec == std::errc() && end == digits.data() + digits.size();
}

bool parse_eui_text(std::string_view text, uint64_t& out)
{
    size_t hex_digits = 0;
    for (char c : text) {
        hex_digits += std::isxdigit(static_cast<unsigned char>(c)) ? 1 : 0;
    }
    return hex_digits == 16 && parse_hex(text, out, 16);
}

bool all_digits(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

} // namespace

UplinkFilter UplinkFilter::everything()
{
    UplinkFilter f;
    f.crc_ok = f.crc_bad = f.crc_none = true;
    return f;
}

bool UplinkFilter::passes_everything() const
{
    return crc_ok && crc_bad && crc_none && !lorawan_only && net_ids.empty() &&
           dev_addr_prefixes.empty() && join_euis.empty() && frequencies_hz.empty() &&
           data_rates.empty();
}

std::string data_rate_text(const forwarder::v1::Modulation& modulation)
{
    if (modulation.has_lora()) {
        return "SF" + std::to_string(modulation.lora().spreading_factor()) + "BW" +
               std::to_string(modulation.lora().bandwidth_hz() / 1000);
    }
    if (modulation.has_fsk()) {
        return std::to_string(modulation.fsk().bitrate());
    }
    return "";
}

bool UplinkFilter::join_eui_listed(uint64_t join_eui) const
{
    return join_euis.empty() ||
           std::any_of(join_euis.begin(), join_euis.end(), [join_eui](const EuiRange& r) {
               return join_eui >= r.first && join_eui <= r.last;
           });
}

const char* UplinkFilter::refuse(const forwarder::v1::Uplink& uplink) const
{
    switch (uplink.crc()) {
    case forwarder::v1::CRC_OK:
        if (!crc_ok) {
            return "crc";
        }
        break;
    case forwarder::v1::CRC_BAD:
        if (!crc_bad) {
            return "crc";
        }
        break;
    default: // no CRC (or not reported)
        if (!crc_none) {
            return "crc";
        }
        break;
    }
    if (!frequencies_hz.empty()) {
        const uint64_t f = uplink.frequency_hz();
        const bool listed = std::any_of(frequencies_hz.begin(), frequencies_hz.end(),
                                        [f](uint64_t c) { return (f > c ? f - c : c - f) <= 500; });
        if (!listed) {
            return "frequency";
        }
    }
    if (!data_rates.empty()) {
        const std::string dr = data_rate_text(uplink.modulation());
        if (std::find(data_rates.begin(), data_rates.end(), dr) == data_rates.end()) {
            return "data_rate";
        }
    }
    if (!lorawan_only && net_ids.empty() && dev_addr_prefixes.empty() && join_euis.empty()) {
        return nullptr;
    }
    support::LoraFrame frame;
    std::string why;
    if (!support::parse_lora_frame(uplink.payload(), frame, why)) {
        return lorawan_only ? "lorawan" : nullptr;
    }
    const bool by_address = !net_ids.empty() || !dev_addr_prefixes.empty();
    switch (frame.kind) {
    case support::FrameKind::data_up:
    case support::FrameKind::data_down:
        if (by_address) {
            const uint32_t addr = frame.dev_addr;
            const bool ok = std::any_of(net_ids.begin(), net_ids.end(),
                                        [addr](uint32_t id) {
                                            return support::dev_addr_matches_net_id(addr, id);
                                        }) ||
                            std::any_of(dev_addr_prefixes.begin(), dev_addr_prefixes.end(),
                                        [addr](const DevAddrPrefix& p) { return p.matches(addr); });
            if (!ok) {
                return "net_id";
            }
        }
        break;
    case support::FrameKind::join_request:
        if (!join_eui_listed(frame.join_eui)) {
            return "join_eui";
        }
        break;
    case support::FrameKind::rejoin:
        if (frame.rejoin_type == 1) {
            if (!join_eui_listed(frame.join_eui)) {
                return "join_eui";
            }
        } else if (!net_ids.empty() &&
                   std::find(net_ids.begin(), net_ids.end(), frame.net_id) == net_ids.end()) {
            return "net_id";
        }
        break;
    default: // join accepts and proprietary frames carry no address to filter on
        break;
    }
    return nullptr;
}

bool parse_dev_addr_prefix(std::string_view text, DevAddrPrefix& out)
{
    std::string_view addr = text;
    uint32_t bits = 32;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        addr = text.substr(0, slash);
        const auto b = text.substr(slash + 1);
        if (!all_digits(b)) {
            return false;
        }
        const auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
        if (ec != std::errc() || end != b.data() + b.size() || bits > 32) {
            return false;
        }
    }
    uint64_t value = 0;
    if (addr.size() != 8 || !parse_hex(addr, value, 8)) {
        return false;
    }
    out.bits = bits;
    out.prefix = bits == 0 ? 0 : static_cast<uint32_t>(value) & (~0u << (32 - bits));
    return true;
}

bool parse_net_id(std::string_view text, uint32_t& out)
{
    uint64_t value = 0;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        if (!parse_hex(text, value, 6)) {
            return false;
        }
    } else if (text.size() == 6) {
        if (!parse_hex(text, value, 6)) {
            return false;
        }
    } else if (all_digits(text)) {
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value > 0xFFFFFF) {
            return false;
        }
    } else {
        return false;
    }
    out = static_cast<uint32_t>(value);
    return true;
}

bool parse_eui_range(std::string_view text, EuiRange& out)
{
    // A range separator is a '-' that is not between two bytes of one EUI: split where both
    // halves are EUIs.
    if (parse_eui_text(text, out.first)) {
        out.last = out.first;
        return true;
    }
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '-') {
            continue;
        }
        uint64_t a = 0, b = 0;
        auto trim = [](std::string_view s) {
            while (!s.empty() && s.front() == ' ') {
                s.remove_prefix(1);
            }
            while (!s.empty() && s.back() == ' ') {
                s.remove_suffix(1);
            }
            return s;
        };
        if (parse_eui_text(trim(text.substr(0, i)), a) &&
            parse_eui_text(trim(text.substr(i + 1)), b) && a <= b) {
            out.first = a;
            out.last = b;
            return true;
        }
    }
    return false;
}

bool parse_data_rate(std::string_view text, std::string& out)
{
    if (all_digits(text)) {
        uint32_t rate = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
        if (ec != std::errc() || end != text.data() + text.size() || rate == 0) {
            return false;
        }
        out = std::to_string(rate);
        return true;
    }
    uint32_t sf = 0, bw = 0;
    if (!support::parse_lora_datr(text, sf, bw)) {
        return false;
    }
    out = "SF" + std::to_string(sf) + "BW" + std::to_string(bw / 1000);
    return true;
}

} // namespace forwarder::core
