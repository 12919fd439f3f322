#include "lora_frame.hpp"

namespace forwarder::support {
namespace {

constexpr int kNwkIdBits[8] = {6, 6, 9, 11, 12, 13, 15, 17};

uint64_t read_le(std::string_view bytes, size_t offset, size_t count)
{
    uint64_t value = 0;
    for (size_t i = 0; i < count; ++i) {
        value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
    }
    return value;
}

} // namespace

bool parse_lora_frame(std::string_view phy, LoraFrame& out, std::string& why)
{
    out = LoraFrame{};
    if (phy.empty()) {
        why = "empty frame";
        return false;
    }
    const uint8_t mhdr = static_cast<uint8_t>(phy[0]);
    out.mhdr = mhdr;
    if ((mhdr & 0x03) != 0) {
        why = "MHDR major version " + std::to_string(mhdr & 0x03) + " (only 0 is LoRaWAN R1)";
        return false;
    }
    if ((mhdr & 0x1C) != 0) {
        why = "MHDR RFU bits set";
        return false;
    }
    const int mtype = mhdr >> 5;
    const size_t len = phy.size();
    if (mtype == 7) {
        out.kind = FrameKind::proprietary;
        return true;
    }
    if (len < 12) {
        why = "frame too short (" + std::to_string(len) + " bytes)";
        return false;
    }
    out.mic = static_cast<uint32_t>(read_le(phy, len - 4, 4));
    switch (mtype) {
    case 0: // join request
        if (len != 23) {
            why = "join request of " + std::to_string(len) + " bytes (must be 23)";
            return false;
        }
        out.kind = FrameKind::join_request;
        out.join_eui = read_le(phy, 1, 8);
        out.dev_eui = read_le(phy, 9, 8);
        out.dev_nonce = static_cast<uint16_t>(read_le(phy, 17, 2));
        return true;
    case 1:
        out.kind = FrameKind::join_accept;
        return true;
    case 6: { // rejoin request
        const uint8_t type = static_cast<uint8_t>(phy[1]);
        out.kind = FrameKind::rejoin;
        out.rejoin_type = type;
        if ((type == 0 || type == 2) && len == 19) {
            out.net_id = static_cast<uint32_t>(read_le(phy, 2, 3));
            out.dev_eui = read_le(phy, 5, 8);
            return true;
        }
        if (type == 1 && len == 24) {
            out.join_eui = read_le(phy, 2, 8);
            out.dev_eui = read_le(phy, 10, 8);
            return true;
        }
        why = "rejoin request type " + std::to_string(type) + " with " + std::to_string(len) +
              " bytes (type 0/2: 19, type 1: 24)";
        return false;
    }
    default: { // 2, 4: data up; 3, 5: data down
        out.kind = (mtype == 2 || mtype == 4) ? FrameKind::data_up : FrameKind::data_down;
        out.dev_addr = static_cast<uint32_t>(read_le(phy, 1, 4));
        out.fctrl = static_cast<uint8_t>(phy[5]);
        out.fcnt = static_cast<uint16_t>(read_le(phy, 6, 2));
        const size_t fopts_len = out.fctrl & 0x0F;
        const size_t end = len - 4; // start of the MIC
        if (8 + fopts_len > end) {
            why = "FOptsLen " + std::to_string(fopts_len) + " leaves no room in a " +
                  std::to_string(len) + "-byte data frame";
            return false;
        }
        out.fopts = phy.substr(8, fopts_len);
        const size_t port_at = 8 + fopts_len;
        if (port_at < end) {
            out.fport = static_cast<uint8_t>(phy[port_at]);
            out.frm_payload = phy.substr(port_at + 1, end - port_at - 1);
        }
        return true;
    }
    }
}

int dev_addr_type(uint32_t dev_addr)
{
    int ones = 0;
    while (ones < 8 && (dev_addr & (0x80000000u >> ones)) != 0) {
        ++ones;
    }
    return ones == 8 ? -1 : ones;
}

int net_id_type(uint32_t net_id)
{
    return static_cast<int>((net_id >> 21) & 0x7);
}

bool dev_addr_matches_net_id(uint32_t dev_addr, uint32_t net_id)
{
    const int type = dev_addr_type(dev_addr);
    if (type < 0 || type != net_id_type(net_id)) {
        return false;
    }
    const int id_bits = kNwkIdBits[type];
    const int addr_bits = 32 - (type + 1) - id_bits;
    const uint32_t mask = (1u << id_bits) - 1;
    return ((dev_addr >> addr_bits) & mask) == (net_id & mask);
}

} // namespace forwarder::support
