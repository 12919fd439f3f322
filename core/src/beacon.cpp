#include "beacon.hpp"

#include <cmath>

namespace forwarder::core {

namespace {

constexpr double kCoordinateScale = 8388608.0; // 2^23
constexpr int32_t kCoordinateMin = -8388608;   // -2^23
constexpr int32_t kCoordinateMax = 8388607;    // 2^23 - 1
constexpr uint32_t kTimeSize = 4;
constexpr uint32_t kCrcSize = 2;
constexpr uint32_t kInfoSize = 6;

void put_le16(std::string& out, size_t at, uint16_t value)
{
    out[at] = static_cast<char>(value & 0xFF);
    out[at + 1] = static_cast<char>(value >> 8);
}

void put_le24(std::string& out, size_t at, int32_t value)
{
    const auto bits = static_cast<uint32_t>(value) & 0xFFFFFFu;
    out[at] = static_cast<char>(bits & 0xFF);
    out[at + 1] = static_cast<char>((bits >> 8) & 0xFF);
    out[at + 2] = static_cast<char>((bits >> 16) & 0xFF);
}

void put_le32(std::string& out, size_t at, uint32_t value)
{
    for (size_t i = 0; i < 4; ++i)
        out[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint8_t byte_at(std::string_view in, size_t at)
{
    return static_cast<uint8_t>(in[at]);
}

uint16_t get_le16(std::string_view in, size_t at)
{
    return static_cast<uint16_t>(byte_at(in, at) | (byte_at(in, at + 1) << 8));
}

int32_t get_le24_signed(std::string_view in, size_t at)
{
    const uint32_t bits = static_cast<uint32_t>(byte_at(in, at)) |
                          (static_cast<uint32_t>(byte_at(in, at + 1)) << 8) |
                          (static_cast<uint32_t>(byte_at(in, at + 2)) << 16);
    return (bits & 0x800000u) ? static_cast<int32_t>(bits) - 0x1000000 : static_cast<int32_t>(bits);
}

uint32_t get_le32(std::string_view in, size_t at)
{
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i)
        value |= static_cast<uint32_t>(byte_at(in, at + i)) << (8 * i);
    return value;
}

uint16_t crc_of(std::string_view bytes, size_t from, size_t to)
{
    return beacon_crc16(reinterpret_cast<const uint8_t*>(bytes.data()) + from, to - from);
}

// Smallest k whose beacon emission k × 128 s + 1.5 ms satisfies emission + after > t.
uint64_t first_beacon_index_ending_after(uint64_t t, uint64_t after)
{
    const uint64_t offset = uint64_t{kBeaconDelayUs} + after;
    if (t < offset)
        return 0;
    return (t - offset) / kBeaconPeriodUs + 1;
}

} // namespace

std::optional<BeaconLayout> beacon_layout(uint32_t spreading_factor)
{
    // RFU before Param: 0..4 bytes for SF8..SF12; trailing RFU 3/0/1/2/3 bytes.
    switch (spreading_factor) {
    case 8:
        return BeaconLayout{1, 7, 19};
    case 9:
        return BeaconLayout{2, 8, 17};
    case 10:
        return BeaconLayout{3, 9, 19};
    case 11:
        return BeaconLayout{4, 10, 21};
    case 12:
        return BeaconLayout{5, 11, 23};
    default:
        return std::nullopt;
    }
}

std::string check_layout(const BeaconLayout& layout)
{
    const auto text = [&] {
        return " in layout [" + std::to_string(layout.time_offset) + "," +
               std::to_string(layout.infodesc_offset) + "," + std::to_string(layout.length) + "]";
    };
    if (layout.time_offset < 1)
        return "no room for the Param byte before Time" + text();
    if (layout.length > kBeaconMaxLength)
        return "beacon longer than " + std::to_string(kBeaconMaxLength) + " bytes" + text();
    if (layout.time_offset > kBeaconMaxLength)
        return "time offset beyond the frame" + text();
    if (layout.infodesc_offset != layout.time_offset + kTimeSize + kCrcSize)
        return "InfoDesc must follow Time and its CRC directly" + text();
    if (layout.length < layout.infodesc_offset + 1 + kInfoSize + kCrcSize)
        return "InfoDesc, Info and CRC do not fit" + text();
    return {};
}

uint16_t beacon_crc16(const uint8_t* data, size_t size)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < size; ++i) {
        crc ^= static_cast<uint16_t>(data[i] << 8);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                 : static_cast<uint16_t>(crc << 1);
    }
    return crc;
}

int32_t encode_coordinate(double degrees, double range)
{
    if (std::isnan(degrees) || !(range > 0))
        return 0;
    double scaled = degrees * kCoordinateScale / range;
    if (scaled <= kCoordinateMin)
        return kCoordinateMin;
    if (scaled >= kCoordinateMax)
        return kCoordinateMax;
    return static_cast<int32_t>(std::lround(scaled));
}

double decode_coordinate(int32_t value, double range)
{
    return static_cast<double>(value) * range / kCoordinateScale;
}

std::string encode_beacon(const BeaconLayout& layout, uint64_t gps_seconds,
                          std::optional<GatewayInfo> info, uint8_t prec)
{
    if (!check_layout(layout).empty() || prec > 3)
        return {};
    if (info && info->info_desc > 2)
        return {};
    if (info && (!std::isfinite(info->latitude) || !std::isfinite(info->longitude)))
        info.reset();

    std::string frame(layout.length, '\0');
    const size_t time_at = layout.time_offset;
    frame[time_at - 1] = static_cast<char>(prec & 0x03);
    put_le32(frame, time_at, static_cast<uint32_t>(gps_seconds & 0xFFFFFFFFu));
    const size_t crc1_at = time_at + kTimeSize;
    put_le16(frame, crc1_at, crc_of(frame, 0, crc1_at));

    const size_t info_at = layout.infodesc_offset;
    const size_t crc2_at = layout.length - kCrcSize;
    if (info) {
        frame[info_at] = static_cast<char>(info->info_desc);
        put_le24(frame, info_at + 1, encode_coordinate(info->latitude, 90.0));
        put_le24(frame, info_at + 4, encode_coordinate(info->longitude, 180.0));
        put_le16(frame, crc2_at, crc_of(frame, info_at, crc2_at));
    } else {
        // Gateway-specific part absent: zeros with a CRC that deliberately fails.
        put_le16(frame, crc2_at, static_cast<uint16_t>(~crc_of(frame, info_at, crc2_at)));
    }
    return frame;
}

std::optional<DecodedBeacon> decode_beacon(const BeaconLayout& layout, std::string_view frame)
{
    if (!check_layout(layout).empty() || frame.size() != layout.length)
        return std::nullopt;
    DecodedBeacon out;
    const size_t time_at = layout.time_offset;
    const size_t crc1_at = time_at + kTimeSize;
    out.prec = byte_at(frame, time_at - 1) & 0x03;
    out.time = get_le32(frame, time_at);
    out.common_crc_ok = crc_of(frame, 0, crc1_at) == get_le16(frame, crc1_at);

    const size_t info_at = layout.infodesc_offset;
    const size_t crc2_at = layout.length - kCrcSize;
    out.info_crc_ok = crc_of(frame, info_at, crc2_at) == get_le16(frame, crc2_at);
    out.info_desc = byte_at(frame, info_at);
    out.latitude_raw = get_le24_signed(frame, info_at + 1);
    out.longitude_raw = get_le24_signed(frame, info_at + 4);
    out.latitude = decode_coordinate(out.latitude_raw, 90.0);
    out.longitude = decode_coordinate(out.longitude_raw, 180.0);
    return out;
}

uint64_t next_beacon_gps_us(uint64_t gps_us)
{
    if (gps_us <= kBeaconDelayUs)
        return 0;
    const uint64_t k = (gps_us - kBeaconDelayUs + kBeaconPeriodUs - 1) / kBeaconPeriodUs;
    return k * kBeaconPeriodUs;
}

uint64_t beacon_frequency(const std::vector<uint64_t>& frequencies_hz, uint64_t beacon_gps_seconds)
{
    if (frequencies_hz.empty())
        return 0;
    const uint64_t period_s = kBeaconPeriodUs / 1'000'000;
    return frequencies_hz[(beacon_gps_seconds / period_s) % frequencies_hz.size()];
}

std::optional<uint64_t> beacon_conflict(uint64_t start_gps_us, uint64_t end_gps_us, bool class_b,
                                        uint32_t beacon_airtime_us, uint32_t start_delay_us)
{
    if (end_gps_us < start_gps_us)
        end_gps_us = start_gps_us;
    std::optional<uint64_t> hit;

    // Beacon air [E - start_delay, E + airtime): the first beacon whose air ends after the
    // frame starts is the only candidate; it overlaps if its air begins before the frame ends.
    {
        const uint64_t k = first_beacon_index_ending_after(start_gps_us, beacon_airtime_us);
        const uint64_t emission = beacon_emission_gps_us(k * kBeaconPeriodUs);
        if (emission < end_gps_us + start_delay_us)
            hit = k * kBeaconPeriodUs;
    }

    // Ping slots: no start in [E - guard, E + reserved).
    if (class_b) {
        const uint64_t k = first_beacon_index_ending_after(start_gps_us, kBeaconReservedUs);
        const uint64_t emission = beacon_emission_gps_us(k * kBeaconPeriodUs);
        if (emission <= start_gps_us + kBeaconGuardUs) {
            const uint64_t beacon = k * kBeaconPeriodUs;
            if (!hit || beacon < *hit)
                hit = beacon;
        }
    }
    return hit;
}

} // namespace forwarder::core
