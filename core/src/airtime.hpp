#pragma once
// Time on air of LoRa and FSK frames (Semtech's SX127x/SX130x formula).
#include <cstdint>

namespace forwarder::v1 {
class TxRequest;
}

namespace forwarder::core {

struct LoRaFrame {
    uint32_t spreading_factor = 7; // 5..12
    uint32_t bandwidth_hz = 125000;
    uint32_t coding_rate = 1; // 1..4 for 4/5..4/8
    uint32_t payload_bytes = 0;
    uint32_t preamble_symbols = 8;
    bool crc = false;
    bool implicit_header = false;
};

// Microseconds, rounded up. Low-data-rate optimisation is on when a symbol lasts 16 ms or
// more (SF11/SF12 at 125 kHz, SF12 at 250 kHz), as the SX1302 modem does.
uint32_t lora_airtime_us(const LoRaFrame& frame);

// FSK with 5 preamble bytes, 3 sync bytes, a length byte and a 2-byte CRC.
uint32_t fsk_airtime_us(uint32_t payload_bytes, uint32_t bitrate);

// Airtime of a TxRequest; 0 if its modulation is missing or invalid.
uint32_t airtime_us(const forwarder::v1::TxRequest& request);

} // namespace forwarder::core
