// libFuzzer target for the LNS codec: every input is fed to the JSON decoders, the EUI and
// URI parsers and, as a PHYPayload, to the uplink encoder. Besides the sanitizers it checks
// a few invariants (failures carry a reason, EUIs round-trip, uplink JSON is valid JSON).
#include "lns_codec.hpp"

#include <Poco/JSON/Parser.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace forwarder::lns;

namespace {

void check(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

void check_valid_json(const std::string& json)
{
    try {
        Poco::JSON::Parser parser;
        parser.parse(json);
    } catch (...) {
        std::abort();
    }
}

RouterConfig filtering_config()
{
    RouterConfig config;
    config.net_ids = std::vector<uint32_t>{0x010203, 0x200013, 0x600001};
    config.join_euis = std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x0102030405060708},
                                                                  {0x8000000000000000, ~0ULL}};
    config.drs[0] = {12, 125, false};
    config.drs[1] = {7, 250, false};
    config.drs[2] = {0, 0, false};
    return config;
}

void encode_all_ways(std::string_view phy, const RouterConfig& config)
{
    UplinkMeta meta;
    meta.dr = 3;
    meta.freq_hz = 868100000;
    meta.xtime = 0x0011000000087154ULL;
    meta.snr = -7.25;
    meta.rssi = -110.4;
    for (bool heard : {false, true}) {
        std::string json, why;
        if (encode_uplink(phy, meta, config, heard, json, why)) {
            check(why.empty());
            check_valid_json(json);
        } else {
            check(!why.empty() && json.empty());
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    Decoded decoded;
    std::string error;
    if (decode_message(text, decoded, error)) {
        if (const auto* config = std::get_if<RouterConfig>(&decoded.message)) {
            forwarder::v1::Modulation modulation;
            for (int dr = -1; dr <= 16; ++dr) {
                if (dr_modulation(*config, dr, modulation)) {
                    const int found = find_uplink_dr(*config, modulation);
                    check(found >= -1 && found < 16);
                }
            }
            for (const auto& radio : config->radios) {
                std::string bytes;
                check(radio.SerializeToString(&bytes));
            }
            encode_all_ways(text, *config);
        }
    } else {
        check(!error.empty());
    }

    RouterInfo info;
    error.clear();
    if (!decode_router_info(text, info, error)) {
        check(!error.empty());
    }

    uint64_t eui = 0;
    if (parse_eui(text, eui)) {
        uint64_t back = ~eui;
        check(parse_eui(format_id6(eui), back) && back == eui);
        back = ~eui;
        check(parse_eui(format_eui_dashed(eui), back) && back == eui);
    }

    WsUri uri;
    error.clear();
    if (!parse_ws_uri(text, size % 2 == 0, uri, error)) {
        check(!error.empty());
    }

    std::string bytes;
    if (parse_hex(text, bytes)) {
        check(bytes.size() * 2 == size);
        check(format_hex(bytes).size() == size);
    }

    encode_all_ways(text, RouterConfig{});
    encode_all_ways(text, filtering_config());
    return 0;
}
