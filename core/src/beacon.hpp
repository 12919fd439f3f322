#pragma once
// Class B beacons (LoRaWAN L2 1.0.4 §13, shared/spec/timing.md §8), without any I/O: the
// frame layouts per spreading factor, the beacon encoder (and a decoder for checks), the
// beacon CRC, the 128 s beacon timing, the frequency hopping, and the reservation rules a
// downlink must respect around a beacon. All times are GPS time (µs or s since the GPS
// epoch, 1980-01-06 00:00:00 UTC).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::core {

constexpr uint64_t kBeaconPeriodUs = 128'000'000;
constexpr uint32_t kBeaconDelayUs = 1'500;        // TBeaconDelay: emission after k × 128 s
constexpr uint32_t kBeaconReservedUs = 2'120'000; // BEACON_RESERVED, from the emission
constexpr uint32_t kBeaconGuardUs = 3'000'000;    // BEACON_GUARD, before the emission
constexpr uint32_t kBeaconPreambleSymbols = 10;
constexpr uint32_t kBeaconMaxLength = 32; // upper bound accepted for an LNS-given layout

// Byte layout of a beacon: [time_offset, infodesc_offset, length] as the LNS sends it in
// router_config "bcning.layout" (e.g. SF9 = {2, 8, 17}).
//   [0, time_offset - 1)             RFU, zero
//   time_offset - 1                  Param (Prec in bits 1..0)
//   [time_offset, time_offset + 4)   Time, u32 LE
//   [time_offset + 4, +6)            CRC over RFU + Param + Time, LE
//   infodesc_offset                  InfoDesc (always time_offset + 6)
//   [infodesc_offset + 1, +7)        Info: Lat (3), Lng (3)
//   [infodesc_offset + 7, length-2)  RFU, zero
//   [length - 2, length)             CRC over InfoDesc + Info + RFU, LE
struct BeaconLayout {
    uint32_t time_offset = 0;
    uint32_t infodesc_offset = 0;
    uint32_t length = 0;
    bool operator==(const BeaconLayout&) const = default;
};

// The LoRaWAN layout for a spreading factor (SF8..SF12, table in timing.md §8.3); nullopt
// otherwise.
std::optional<BeaconLayout> beacon_layout(uint32_t spreading_factor);

// Validates an LNS-given layout. Returns an error text, or an empty string if the layout is
// usable: a Param byte before Time (time_offset >= 1), CRC1 right after Time and InfoDesc
// right after CRC1 (infodesc_offset == time_offset + 6, the only arrangement LoRaWAN
// defines), InfoDesc + Info + CRC2 inside the frame (length >= infodesc_offset + 9) and
// length <= kBeaconMaxLength.
std::string check_layout(const BeaconLayout& layout);

// Position of one of the gateway's antennas. info_desc 0..2 = GPS coordinates of the
// first, second or third antenna (a single antenna uses 0). Degrees, WGS84.
struct GatewayInfo {
    uint8_t info_desc = 0;
    double latitude = 0;
    double longitude = 0;
};

// CRC-16 as the LoRaWAN beacon uses (poly 0x1021, init 0, no reflection, no xorout; the
// parameters of CRC-16/XMODEM). Stored little-endian in the frame.
uint16_t beacon_crc16(const uint8_t* data, size_t size);

// 24-bit two's-complement coordinate: round(degrees × 2^23 / range) clamped to
// [-2^23, 2^23 - 1], with range 90 for latitude and 180 for longitude. NaN gives 0.
int32_t encode_coordinate(double degrees, double range);
// The inverse, from a sign-extended 24-bit value.
double decode_coordinate(int32_t value, double range);

// Encodes a beacon of layout.length bytes: zero RFU bytes, Param (Prec in bits 1..0),
// Time = gps_seconds mod 2^32 LE, CRC1, then InfoDesc, Lat, Lng, zero RFU, CRC2.
//
// Without `info` (no position known, or a non-finite coordinate) the frame keeps its full
// length, since devices receive beacons in implicit-header mode with a fixed length, but
// the gateway-specific part is marked absent: InfoDesc, Info and RFU are zero and CRC2 is
// the complement of their CRC (0xFFFF). LoRaWAN makes that part OPTIONAL, protected by its
// own CRC, and defines no "no position" InfoDesc; a device that reads it must check CRC2
// and so ignores it, while the network common part (all a class B device needs) is intact.
// A valid CRC over zeros would instead announce an antenna at 0° N 0° E.
//
// Returns an empty string if check_layout(layout) fails, prec > 3 or info_desc > 2.
std::string encode_beacon(const BeaconLayout& layout, uint64_t gps_seconds,
                          std::optional<GatewayInfo> info, uint8_t prec = 0);

// A beacon read back (tests, loopback checks).
struct DecodedBeacon {
    uint8_t prec = 0;
    uint32_t time = 0; // GPS seconds mod 2^32
    bool common_crc_ok = false;
    bool info_crc_ok = false;
    uint8_t info_desc = 0;
    int32_t latitude_raw = 0; // sign-extended 24-bit values
    int32_t longitude_raw = 0;
    double latitude = 0;
    double longitude = 0;
};
// nullopt if the layout is invalid or the frame is not layout.length bytes long.
std::optional<DecodedBeacon> decode_beacon(const BeaconLayout& layout, std::string_view frame);

// Beacon timing. A beacon's TIME is k × 128 s; it is emitted TBeaconDelay (1.5 ms) later.
constexpr uint64_t beacon_emission_gps_us(uint64_t beacon_gps_us)
{
    return beacon_gps_us + kBeaconDelayUs;
}
// Smallest k × 128 s (the beacon TIME, without the delay) whose emission k × 128 s + 1.5 ms
// is >= gps_us.
uint64_t next_beacon_gps_us(uint64_t gps_us);
// frequencies[(beacon_gps_seconds / 128) mod n]; 0 if the list is empty.
uint64_t beacon_frequency(const std::vector<uint64_t>& frequencies_hz, uint64_t beacon_gps_seconds);

// Class B reservation rules (timing.md §3, §8.1, §12). Is a downlink occupying
// [start_gps_us, end_gps_us) allowed relative to the beacons around it? Returns the TIME
// (k × 128 s, in GPS µs) of the first beacon it conflicts with, or nullopt. With E a
// beacon's emission time:
//  * every frame must stay off the beacon's own air, [E - start_delay_us,
//    E + beacon_airtime_us);
//  * a ping-slot (class B) frame additionally must not start in
//    [E - kBeaconGuardUs, E + kBeaconReservedUs).
// Class A and C frames may use the guard and reserved time. The interval is taken as
// given: include the frame's own start-up time or a margin in it if wanted. An interval
// with end < start is treated as empty (end = start). Times must stay below 2^63 µs.
std::optional<uint64_t> beacon_conflict(uint64_t start_gps_us, uint64_t end_gps_us, bool class_b,
                                        uint32_t beacon_airtime_us, uint32_t start_delay_us = 1500);

} // namespace forwarder::core
