#include "lora_text.hpp"

#include <charconv>

namespace forwarder::support {

bool parse_lora_datr(std::string_view text, uint32_t& spreading_factor, uint32_t& bandwidth_hz)
{
    if (text.size() < 7 || text.substr(0, 2) != "SF") {
        return false;
    }
    const size_t bw_at = text.find("BW", 2);
    if (bw_at == std::string_view::npos) {
        return false;
    }
    const std::string_view sf_text = text.substr(2, bw_at - 2);
    const std::string_view bw_text = text.substr(bw_at + 2);
    uint32_t sf = 0;
    auto [sf_end, sf_ec] = std::from_chars(sf_text.data(), sf_text.data() + sf_text.size(), sf);
    if (sf_ec != std::errc() || sf_end != sf_text.data() + sf_text.size() || sf_text.size() > 2 ||
        sf_text.front() == '0' || sf < 5 || sf > 12) {
        return false;
    }
    uint32_t bw = 0;
    if (bw_text == "125") {
        bw = 125000;
    } else if (bw_text == "250") {
        bw = 250000;
    } else if (bw_text == "500") {
        bw = 500000;
    } else {
        return false;
    }
    spreading_factor = sf;
    bandwidth_hz = bw;
    return true;
}

bool parse_coding_rate(std::string_view text, forwarder::v1::CodingRate& rate)
{
    if (text == "4/5") {
        rate = forwarder::v1::CR_4_5;
    } else if (text == "4/6") {
        rate = forwarder::v1::CR_4_6;
    } else if (text == "4/7") {
        rate = forwarder::v1::CR_4_7;
    } else if (text == "4/8") {
        rate = forwarder::v1::CR_4_8;
    } else if (text == "OFF") {
        rate = forwarder::v1::CR_OFF;
    } else {
        return false;
    }
    return true;
}

const char* coding_rate_name(forwarder::v1::CodingRate rate)
{
    switch (rate) {
    case forwarder::v1::CR_4_5:
        return "4/5";
    case forwarder::v1::CR_4_6:
        return "4/6";
    case forwarder::v1::CR_4_7:
        return "4/7";
    case forwarder::v1::CR_4_8:
        return "4/8";
    case forwarder::v1::CR_OFF:
        return "OFF";
    default:
        return nullptr;
    }
}

} // namespace forwarder::support
