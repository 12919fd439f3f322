#pragma once
// LoRaWAN PHYPayload parsing for uplink forwarding (shared/spec/lns.md §7.2) and the NetID
// DevAddr filter (§8.1). Pure functions, no I/O.
#include <cstdint>
#include <string>
#include <string_view>

namespace forwarder::support {

enum class FrameKind { join_request, join_accept, data_up, data_down, rejoin, proprietary };

struct LoraFrame {
    FrameKind kind = FrameKind::proprietary;
    uint8_t mhdr = 0;
    uint32_t mic = 0; // last 4 bytes, little-endian
    // data frames (data_up, data_down)
    uint32_t dev_addr = 0;
    uint8_t fctrl = 0;
    uint16_t fcnt = 0;
    std::string_view fopts;       // points into the parsed payload
    int fport = -1;               // -1 = no FPort
    std::string_view frm_payload; // points into the parsed payload
    // join_request, rejoin type 1 (join_eui), rejoin types 0/2 (net_id)
    uint64_t join_eui = 0;
    uint64_t dev_eui = 0;
    uint16_t dev_nonce = 0;
    uint8_t rejoin_type = 0;
    uint32_t net_id = 0;
};

// Reference rules (s2e_parse_lora_frame) plus real rejoins: drop empty frames, MHDR major or
// RFU bits set, non-proprietary frames shorter than 12 bytes, join requests that are not 23
// bytes, data frames whose FOpts do not fit before the MIC, and rejoins other than type 0/2
// with 19 bytes or type 1 with 24 bytes. False with `why` when dropped.
bool parse_lora_frame(std::string_view phy_payload, LoraFrame& out, std::string& why);

// DevAddr type = number of leading 1 bits (0..7); -1 for 0xFF.. (no valid prefix).
int dev_addr_type(uint32_t dev_addr);
// NetID type = bits 23..21.
int net_id_type(uint32_t net_id);
// NwkID widths per type (LoRaWAN Backend Interfaces, NetID types 0..7): 6, 6, 9, 11, 12, 13,
// 15, 17 bits. True if the DevAddr has the NetID's type and the NetID's NwkID.
bool dev_addr_matches_net_id(uint32_t dev_addr, uint32_t net_id);

} // namespace forwarder::support
