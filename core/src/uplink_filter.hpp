#pragma once
// Which uplinks a transport receives: a per-transport filter applied by the core before an
// uplink enters the transport's queue (`transports[].filter` in forwarder.yaml).
//
// All conditions must hold. Address conditions apply only to frames that carry that kind of
// address: `net_ids`/`dev_addr_prefixes` to data frames (and rejoin types 0/2 by their
// NetID), `join_euis` to join requests and rejoin type 1. A frame that matches either
// `net_ids` or `dev_addr_prefixes` passes when both are given.
#include "forwarder.pb.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::core {

struct DevAddrPrefix {
    uint32_t prefix = 0; // the DevAddr's top `bits` bits; the rest are zero
    uint32_t bits = 0;   // 0..32
    bool matches(uint32_t dev_addr) const
    {
        return bits == 0 || ((dev_addr ^ prefix) >> (32 - bits)) == 0;
    }
    bool operator==(const DevAddrPrefix&) const = default;
};

struct EuiRange {
    uint64_t first = 0;
    uint64_t last = 0;
    bool operator==(const EuiRange&) const = default;
};

struct UplinkFilter {
    bool crc_ok = true; // which CRC classes pass (default: CRC-valid frames only)
    bool crc_bad = false;
    bool crc_none = false;
    bool lorawan_only = false;
    std::vector<uint32_t> net_ids;
    std::vector<DevAddrPrefix> dev_addr_prefixes;
    std::vector<EuiRange> join_euis;
    std::vector<uint64_t> frequencies_hz; // matched within ±500 Hz
    std::vector<std::string> data_rates;  // "SF7BW125", or an FSK bit rate as digits: "50000"

    bool operator==(const UplinkFilter&) const = default;

    // The filter that lets everything through.
    static UplinkFilter everything();
    bool passes_everything() const;

    // nullptr when the uplink passes; otherwise the condition that refused it: "crc",
    // "lorawan", "net_id", "join_eui", "frequency" or "data_rate".
    const char* refuse(const forwarder::v1::Uplink& uplink) const;
    // No `join_euis` list, or `join_eui` lies in one of its ranges.
    bool join_eui_listed(uint64_t join_eui) const;
};

// "SF7BW125" for LoRa, the bit rate in digits for FSK.
std::string data_rate_text(const forwarder::v1::Modulation& modulation);

// Parsers for the config reader. Each returns false when the text is malformed.
// "26000000/7" (hex DevAddr prefix / bit count), or 8 hex digits (= /32).
bool parse_dev_addr_prefix(std::string_view text, DevAddrPrefix& out);
// "000013" (6 hex digits, 0x prefix allowed) or a decimal number up to 0xFFFFFF.
bool parse_net_id(std::string_view text, uint32_t& out);
// "70B3D57ED0000000-70B3D57ED0FFFFFF", or one EUI (first = last). EUIs as 16 hex digits,
// dashes or colons between bytes allowed.
bool parse_eui_range(std::string_view text, EuiRange& out);
// "SF7BW125" (SF 5..12, BW 125/250/500) or an FSK bit rate (digits); normalised in `out`.
bool parse_data_rate(std::string_view text, std::string& out);

} // namespace forwarder::core
