#include "airtime.hpp"

#include "forwarder.pb.h"

#include <algorithm>
#include <cmath>

namespace forwarder::core {

uint32_t lora_airtime_us(const LoRaFrame& f)
{
    if (f.spreading_factor < 5 || f.spreading_factor > 12 || f.bandwidth_hz == 0) {
        return 0;
    }
    const double t_sym_us = std::ldexp(1.0, static_cast<int>(f.spreading_factor)) * 1e6 /
                            static_cast<double>(f.bandwidth_hz);
    const bool low_rate = t_sym_us >= 16000.0;
    const bool sf56 = f.spreading_factor <= 6;
    const double preamble_sym = f.preamble_symbols + (sf56 ? 6.25 : 4.25);
    const int de = low_rate ? 1 : 0;
    const int sf = static_cast<int>(f.spreading_factor);
    const int numerator = 8 * static_cast<int>(f.payload_bytes) - 4 * sf + (sf56 ? 20 : 28) +
                          16 * (f.crc ? 1 : 0) - 20 * (f.implicit_header ? 1 : 0);
    const int denominator = 4 * (sf - 2 * de);
    const int blocks = std::max((numerator + denominator - 1) / denominator, 0);
    const int cr = static_cast<int>(std::clamp<uint32_t>(f.coding_rate, 1, 4));
    const double payload_sym = 8.0 + blocks * (cr + 4);
    return static_cast<uint32_t>(std::ceil((preamble_sym + payload_sym) * t_sym_us));
}

uint32_t fsk_airtime_us(uint32_t payload_bytes, uint32_t bitrate)
{
    if (bitrate == 0) {
        return 0;
    }
    const uint64_t bits = (static_cast<uint64_t>(payload_bytes) + 5 + 3 + 1 + 2) * 8u;
    return static_cast<uint32_t>((bits * 1000000u + bitrate - 1) / bitrate);
}

uint32_t airtime_us(const forwarder::v1::TxRequest& request)
{
    const auto& mod = request.modulation();
    const auto size = static_cast<uint32_t>(request.payload().size());
    if (mod.has_lora()) {
        LoRaFrame f;
        f.spreading_factor = mod.lora().spreading_factor();
        f.bandwidth_hz = mod.lora().bandwidth_hz();
        switch (mod.lora().coding_rate()) {
        case forwarder::v1::CR_4_6:
            f.coding_rate = 2;
            break;
        case forwarder::v1::CR_4_7:
            f.coding_rate = 3;
            break;
        case forwarder::v1::CR_4_8:
            f.coding_rate = 4;
            break;
        default:
            f.coding_rate = 1;
        }
        f.payload_bytes = size;
        f.preamble_symbols = request.preamble() == 0 ? 8 : request.preamble();
        f.crc = request.crc();
        f.implicit_header = request.implicit_header();
        return lora_airtime_us(f);
    }
    if (mod.has_fsk()) {
        return fsk_airtime_us(size, mod.fsk().bitrate());
    }
    return 0;
}

} // namespace forwarder::core
