// The Semtech UDP (GWMP v2) codec (shared/spec/semtech-udp.md). Parsing goes through Poco::JSON
// (integers stay exact Int64/UInt64, so a fractional value is told apart from an integer);
// output is written by hand so that key order and number formats are exactly the reference's.
#include "udp_codec.hpp"

#include "base64.hpp"
#include "json_read.hpp"
#include "lora_text.hpp"
#include "text.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace forwarder::udp {
namespace {

using Poco::Dynamic::Var;
using JsonObject = Poco::JSON::Object;
using JsonArray = Poco::JSON::Array;
namespace v1 = forwarder::v1;

// The shared JSON readers (json_read.hpp). Failures travel as json::JsonError, which the public
// decoders (parse_pull_resp, parse_push_data, parse_tx_ack) rethrow as ParseError.
namespace json = support::json;
using json::fail;
using json::find;
using json::index_name;
using json::is_number;
using json::need;
using json::parse_object;
using json::to_array;
using json::to_bool;
using json::to_int;
using json::to_number;
using json::to_object;
using json::to_string;
using json::to_uint64;

// Integer and boolean fields: exactly typed (rxpk, stat) or tolerant of "14.0" and 0 / 1
// (txpk, as servers write it).
constexpr json::Rules kStrict{};
constexpr json::Rules kTolerant{.tolerant = true, .detailed_errors = false};

constexpr int64_t kUsPerSecond = 1000000;
// GPS time minus this = Unix time (both in seconds).
constexpr int64_t kGpsToUnixSeconds = kGpsEpochUnixSeconds - kGpsUtcLeapSeconds;
// 9999-12-31T23:59:59Z: the last second a 4-digit year can spell.
constexpr int64_t kMaxUnixSeconds = 253402300799;
// Highest frequency accepted in JSON, in MHz (keeps the Hz value far inside uint64).
constexpr double kMaxFrequencyMhz = 100000.0;

// ---- calendar (proleptic Gregorian, days since 1970-01-01) ---------------------------------

int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2 ? 1 : 0;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t yoe = year - era * 400;
    const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int64_t year;
    unsigned month, day, hour, minute, second;
};

Civil civil_from_unix(int64_t unix_s)
{
    int64_t days = unix_s / 86400;
    int64_t rest = unix_s % 86400;
    if (rest < 0) {
        rest += 86400;
        --days;
    }
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    return Civil{year,
                 month,
                 day,
                 static_cast<unsigned>(rest / 3600),
                 static_cast<unsigned>(rest / 60 % 60),
                 static_cast<unsigned>(rest % 60)};
}

unsigned days_in_month(int64_t year, unsigned month)
{
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

// ---- output --------------------------------------------------------------------------------

template <typename Int> void put_int(std::string& out, Int value)
{
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

// `value` with exactly `decimals` fraction digits; non-finite counts as 0, "-0.0" as "0.0".
void put_fixed(std::string& out, double value, int decimals)
{
    if (!std::isfinite(value)) {
        value = 0;
    }
    char buffer[400];
    const int n = std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    std::string_view text(buffer, n > 0 ? static_cast<size_t>(n) : 0);
    if (text.size() > 1 && text.front() == '-' &&
        text.find_first_not_of("-0.") == std::string_view::npos) {
        text.remove_prefix(1);
    }
    out += text;
}

// Rounded and clamped to int16 (rssi, rssis); non-finite counts as 0.
void put_int16(std::string& out, double value)
{
    if (!std::isfinite(value)) {
        value = 0;
    }
    value = std::clamp(value, -32768.0, 32767.0);
    put_int(out, static_cast<int>(std::lround(value)));
}

void put_key(std::string& out, const char* key)
{
    if (out.back() != '{') {
        out += ',';
    }
    out += '"';
    out += key;
    out += "\":";
}

void put_two(std::string& out, unsigned value)
{
    out += static_cast<char>('0' + value / 10 % 10);
    out += static_cast<char>('0' + value % 10);
}

void put_year(std::string& out, int64_t year)
{
    char buffer[24];
    const int n = std::snprintf(buffer, sizeof buffer, "%04lld", static_cast<long long>(year));
    out.append(buffer, static_cast<size_t>(std::max(n, 0)));
}

// "2020-10-01T09:30:53.592567Z"
std::string rfc3339_utc(int64_t unix_us)
{
    int64_t seconds = unix_us / kUsPerSecond;
    int64_t micros = unix_us % kUsPerSecond;
    if (micros < 0) {
        micros += kUsPerSecond;
        --seconds;
    }
    const Civil c = civil_from_unix(seconds);
    std::string out;
    put_year(out, c.year);
    out += '-';
    put_two(out, c.month);
    out += '-';
    put_two(out, c.day);
    out += 'T';
    put_two(out, c.hour);
    out += ':';
    put_two(out, c.minute);
    out += ':';
    put_two(out, c.second);
    out += '.';
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(micros));
    out += digits;
    out += 'Z';
    return out;
}

// Frequency in MHz with exactly 6 decimals, from Hz, without floating point.
void put_mhz(std::string& out, uint64_t hz)
{
    put_int(out, hz / 1000000);
    out += '.';
    char digits[8];
    std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(hz % 1000000));
    out += digits;
}

void put_eui(std::string& out, uint64_t eui)
{
    for (int i = 7; i >= 0; --i) {
        out += static_cast<char>((eui >> (8 * i)) & 0xFF);
    }
}

std::string header_bytes(uint8_t version, uint16_t token, PacketType type)
{
    std::string out;
    out += static_cast<char>(version);
    out += static_cast<char>(token >> 8);
    out += static_cast<char>(token & 0xFF);
    out += static_cast<char>(type);
    return out;
}

// ---- input ---------------------------------------------------------------------------------

double to_number_in(const Var& value, const std::string& name, double min, double max)
{
    const double d = to_number(value, name);
    if (d < min || d > max) {
        std::string text = name + ": ";
        put_fixed(text, d, 6);
        fail(text + " out of range");
    }
    return d;
}

uint64_t mhz_to_hz(double mhz, const std::string& name)
{
    if (mhz <= 0 || mhz > kMaxFrequencyMhz) {
        std::string text = name + ": ";
        put_fixed(text, mhz, 6);
        fail(text + " MHz out of range");
    }
    const auto hz = static_cast<uint64_t>(std::llround(mhz * 1e6));
    if (hz == 0) {
        fail(name + ": below 1 Hz");
    }
    return hz;
}

// Coding rate with the ChirpStack / Semtech aliases; OFF only when `allow_off`.
bool parse_codr(std::string_view text, v1::CodingRate& rate, bool allow_off)
{
    if (text == "2/3") {
        rate = v1::CR_4_6;
        return true;
    }
    if (text == "1/2" || text == "2/4") {
        rate = v1::CR_4_8;
        return true;
    }
    if (!support::parse_coding_rate(text, rate)) {
        return false;
    }
    return allow_off || rate != v1::CR_OFF;
}

// Digits only, e.g. "50000" (FSK bit rate written as a string).
bool parse_digits(std::string_view text, uint32_t& value)
{
    if (text.empty() || text.size() > 9) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size();
}

// "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" -> Unix µs (fraction cut to µs).
bool parse_rfc3339(std::string_view text, int64_t& unix_us)
{
    auto digits = [&](size_t at, size_t count, int64_t& value) {
        if (at + count > text.size()) {
            return false;
        }
        value = 0;
        for (size_t i = at; i < at + count; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return false;
            }
            value = value * 10 + (text[i] - '0');
        }
        return true;
    };
    int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (text.size() < 20 || !digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) ||
        text[7] != '-' || !digits(8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
        !digits(11, 2, hour) || text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' ||
        !digits(17, 2, second)) {
        return false;
    }
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
        second > 60) {
        return false;
    }
    size_t at = 19;
    int64_t micros = 0;
    if (text[at] == '.') {
        ++at;
        const size_t first = at;
        int64_t scale = 100000;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            micros += (text[at] - '0') * scale;
            scale /= 10;
            ++at;
        }
        if (at == first || at - first > 9) {
            return false;
        }
    }
    int64_t offset_s = 0;
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        int64_t oh = 0, om = 0;
        if (!digits(at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
            !digits(at + 4, 2, om) || oh > 23 || om > 59) {
            return false;
        }
        offset_s = (oh * 3600 + om * 60) * (text[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return false;
    }
    if (at != text.size()) {
        return false;
    }
    const int64_t seconds =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
        hour * 3600 + minute * 60 + second - offset_s;
    unix_us = seconds * kUsPerSecond + micros;
    return true;
}

// "2014-01-12 08:59:28 GMT" (or UTC) -> Unix seconds.
bool parse_stat_time(std::string_view text, int64_t& unix_s)
{
    if (text.size() != 23 || text[4] != '-' || text[7] != '-' || text[10] != ' ' ||
        text[13] != ':' || text[16] != ':' || text[19] != ' ') {
        return false;
    }
    const std::string_view zone = text.substr(20);
    if (zone != "GMT" && zone != "UTC") {
        return false;
    }
    int64_t fields[6] = {};
    const size_t starts[6] = {0, 5, 8, 11, 14, 17};
    const size_t lengths[6] = {4, 2, 2, 2, 2, 2};
    for (int f = 0; f < 6; ++f) {
        for (size_t i = starts[f]; i < starts[f] + lengths[f]; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return false;
            }
            fields[f] = fields[f] * 10 + (text[i] - '0');
        }
    }
    const auto [year, month, day, hour, minute, second] =
        std::tuple(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
        second > 60) {
        return false;
    }
    unix_s =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
        hour * 3600 + minute * 60 + second;
    return true;
}

// ---- rxpk (server side) --------------------------------------------------------------------

v1::Uplink read_rxpk(const JsonObject& rxpk, const std::string& base)
{
    auto name = [&](const char* key) { return base + "." + key; };
    auto strict_int = [&](const char* key, int64_t min, int64_t max) -> std::optional<int64_t> {
        const Var* value = find(rxpk, key);
        if (value == nullptr) {
            return std::nullopt;
        }
        return to_int(*value, name(key), min, max, kStrict);
    };
    v1::Uplink up;

    up.set_count_us(static_cast<uint32_t>(
        to_int(need(rxpk, "tmst", name("tmst")), name("tmst"), 0, UINT32_MAX, kStrict)));
    std::optional<uint64_t> tmms;
    if (const Var* value = find(rxpk, "tmms")) {
        tmms = to_uint64(*value, name("tmms"), UINT64_MAX / 1000, kStrict);
        up.set_gps_time_us(*tmms * 1000);
    }
    if (const Var* value = find(rxpk, "time")) {
        int64_t unix_us = 0;
        if (!parse_rfc3339(to_string(*value, name("time")), unix_us)) {
            fail(name("time") + ": not an RFC 3339 time (\"" + value->extract<std::string>() +
                 "\")");
        }
        // The µs from "time" when it names the same GPS millisecond as tmms.
        const int64_t gps_from_time = unix_us - kGpsToUnixSeconds * kUsPerSecond;
        if (tmms && gps_from_time >= 0 && static_cast<uint64_t>(gps_from_time) / 1000 == *tmms) {
            up.set_gps_time_us(static_cast<uint64_t>(gps_from_time));
        }
    }
    if (auto v = strict_int("ftime", 0, UINT32_MAX)) {
        up.set_fine_timestamp_ns(static_cast<uint32_t>(*v));
    }
    if (auto v = strict_int("chan", 0, UINT8_MAX)) {
        up.set_if_chain(static_cast<uint32_t>(*v));
    }
    if (auto v = strict_int("rfch", 0, UINT8_MAX)) {
        up.set_rf_chain(static_cast<uint32_t>(*v));
    }
    up.set_frequency_hz(
        mhz_to_hz(to_number(need(rxpk, "freq", name("freq")), name("freq")), name("freq")));
    if (auto v = strict_int("mid", 0, UINT32_MAX)) {
        up.set_modem_id(static_cast<uint32_t>(*v));
    }
    if (auto v = strict_int("stat", INT8_MIN, INT8_MAX)) {
        up.set_crc(*v == 1 ? v1::CRC_OK : *v == -1 ? v1::CRC_BAD : v1::CRC_NONE);
    }
    const std::string& modu = to_string(need(rxpk, "modu", name("modu")), name("modu"));
    const Var& datr = need(rxpk, "datr", name("datr"));
    if (modu == "LORA") {
        auto* lora = up.mutable_modulation()->mutable_lora();
        uint32_t sf = 0, bw = 0;
        if (datr.type() != typeid(std::string) ||
            !support::parse_lora_datr(datr.extract<std::string>(), sf, bw)) {
            fail(name("datr") + ": expected \"SF<n>BW<k>\" for LoRa");
        }
        lora->set_spreading_factor(sf);
        lora->set_bandwidth_hz(bw);
        if (const Var* value = find(rxpk, "codr")) {
            v1::CodingRate rate{};
            const std::string& text = to_string(*value, name("codr"));
            if (!parse_codr(text, rate, true)) {
                fail(name("codr") + ": unknown coding rate \"" + text + "\"");
            }
            lora->set_coding_rate(rate);
        }
    } else if (modu == "FSK") {
        up.mutable_modulation()->mutable_fsk()->set_bitrate(
            static_cast<uint32_t>(to_int(datr, name("datr"), 0, UINT32_MAX, kStrict)));
    } else {
        fail(name("modu") + ": expected \"LORA\" or \"FSK\" (\"" + modu + "\")");
    }
    if (auto v = strict_int("rssi", INT16_MIN, INT16_MAX)) {
        up.set_rssi_channel_dbm(static_cast<float>(*v));
    }
    if (auto v = strict_int("rssis", INT16_MIN, INT16_MAX)) {
        up.set_rssi_signal_dbm(static_cast<float>(*v));
    }
    if (const Var* value = find(rxpk, "lsnr")) {
        up.set_snr_db(static_cast<float>(to_number_in(*value, name("lsnr"), -1000, 1000)));
    }
    if (auto v = strict_int("foff", INT32_MIN, INT32_MAX)) {
        up.set_frequency_offset_hz(static_cast<int32_t>(*v));
    }
    strict_int("size", 0, UINT8_MAX);
    const std::string& data = to_string(need(rxpk, "data", name("data")), name("data"));
    std::string payload;
    if (data.size() % 4 != 0 || !support::base64_decode(data, payload)) {
        fail(name("data") + ": not padded base64");
    }
    up.set_payload(std::move(payload));
    if (auto v = strict_int("brd", 0, UINT32_MAX)) {
        up.set_radio(static_cast<uint32_t>(*v));
    }
    return up;
}

Stat read_stat(const JsonObject& object)
{
    Stat stat;
    auto required_u32 = [&](const char* key) {
        const std::string name = std::string("stat.") + key;
        return static_cast<uint32_t>(to_int(need(object, key, name), name, 0, UINT32_MAX, kStrict));
    };
    if (const Var* value = find(object, "time")) {
        const std::string& text = to_string(*value, "stat.time");
        if (!parse_stat_time(text, stat.unix_time_s)) {
            fail("stat.time: expected \"YYYY-MM-DD hh:mm:ss GMT\" (\"" + text + "\")");
        }
    }
    if (const Var* value = find(object, "lati")) {
        stat.latitude = to_number_in(*value, "stat.lati", -90, 90);
    }
    if (const Var* value = find(object, "long")) {
        stat.longitude = to_number_in(*value, "stat.long", -180, 180);
    }
    if (const Var* value = find(object, "alti")) {
        stat.altitude_m =
            static_cast<int32_t>(to_int(*value, "stat.alti", INT32_MIN, INT32_MAX, kStrict));
    }
    stat.rxnb = required_u32("rxnb");
    stat.rxok = required_u32("rxok");
    stat.rxfw = required_u32("rxfw");
    stat.ackr = to_number_in(need(object, "ackr", "stat.ackr"), "stat.ackr", 0, 100);
    stat.dwnb = required_u32("dwnb");
    stat.txnb = required_u32("txnb");
    if (const Var* value = find(object, "temp")) {
        stat.temperature_c = to_number_in(*value, "stat.temp", -1000, 1000);
    }
    return stat;
}

} // namespace

// ---- framing -------------------------------------------------------------------------------

std::optional<Header> parse_header(std::string_view datagram)
{
    if (datagram.size() < 4) {
        return std::nullopt;
    }
    const auto version = static_cast<uint8_t>(datagram[0]);
    const auto type = static_cast<uint8_t>(datagram[3]);
    if ((version != 1 && version != 2) || type > static_cast<uint8_t>(PacketType::tx_ack)) {
        return std::nullopt;
    }
    Header header;
    header.version = version;
    header.token = static_cast<uint16_t>((static_cast<uint8_t>(datagram[1]) << 8) |
                                         static_cast<uint8_t>(datagram[2]));
    header.type = static_cast<PacketType>(type);
    return header;
}

size_t header_size(PacketType type)
{
    switch (type) {
    case PacketType::push_data:
    case PacketType::pull_data:
    case PacketType::tx_ack:
        return 12;
    default:
        return 4;
    }
}

std::string encode_push_data(uint16_t token, uint64_t eui, std::string_view json)
{
    std::string out = header_bytes(kProtocolVersion, token, PacketType::push_data);
    put_eui(out, eui);
    out += json;
    return out;
}

std::string encode_pull_data(uint16_t token, uint64_t eui)
{
    std::string out = header_bytes(kProtocolVersion, token, PacketType::pull_data);
    put_eui(out, eui);
    return out;
}

std::string encode_tx_ack(uint16_t token, uint64_t eui, std::string_view json)
{
    std::string out = header_bytes(kProtocolVersion, token, PacketType::tx_ack);
    put_eui(out, eui);
    out += json;
    return out;
}

std::string encode_ack(PacketType type, uint16_t token, uint8_t version)
{
    return header_bytes(version, token, type);
}

std::string encode_pull_resp(uint16_t token, std::string_view json)
{
    std::string out = header_bytes(kProtocolVersion, token, PacketType::pull_resp);
    out += json;
    return out;
}

std::optional<uint64_t> packet_eui(std::string_view datagram)
{
    const auto header = parse_header(datagram);
    if (!header || datagram.size() < 12 || header_size(header->type) != 12) {
        return std::nullopt;
    }
    uint64_t eui = 0;
    for (size_t i = 4; i < 12; ++i) {
        eui = (eui << 8) | static_cast<uint8_t>(datagram[i]);
    }
    return eui;
}

// ---- upstream JSON -------------------------------------------------------------------------

std::string rxpk_json(const v1::Uplink& uplink, bool include_board)
{
    const auto& modulation = uplink.modulation();
    const bool lora = modulation.has_lora();
    if (!lora && !modulation.has_fsk()) {
        throw std::invalid_argument("uplink.modulation: not set");
    }
    std::string out = "{";
    put_key(out, "jver");
    out += '1';
    put_key(out, "tmst");
    put_int(out, uplink.count_us());
    if (uplink.has_gps_time_us()) {
        const uint64_t gps_us = uplink.gps_time_us();
        const uint64_t gps_s = gps_us / kUsPerSecond;
        if (gps_s <= static_cast<uint64_t>(kMaxUnixSeconds - kGpsToUnixSeconds)) {
            put_key(out, "time");
            out += '"';
            out += rfc3339_utc(static_cast<int64_t>(gps_us) + kGpsToUnixSeconds * kUsPerSecond);
            out += '"';
        }
        put_key(out, "tmms");
        put_int(out, gps_us / 1000);
    }
    if (uplink.has_fine_timestamp_ns()) {
        put_key(out, "ftime");
        put_int(out, uplink.fine_timestamp_ns());
    }
    put_key(out, "chan");
    put_int(out, uplink.if_chain());
    put_key(out, "rfch");
    put_int(out, uplink.rf_chain());
    put_key(out, "freq");
    put_mhz(out, uplink.frequency_hz());
    put_key(out, "mid");
    put_int(out, uplink.modem_id());
    put_key(out, "stat");
    switch (uplink.crc()) {
    case v1::CRC_OK:
        out += '1';
        break;
    case v1::CRC_BAD:
        out += "-1";
        break;
    default:
        out += '0';
        break;
    }
    put_key(out, "modu");
    if (lora) {
        const auto& params = modulation.lora();
        out += "\"LORA\"";
        put_key(out, "datr");
        out += "\"SF";
        put_int(out, params.spreading_factor());
        out += "BW";
        put_int(out, params.bandwidth_hz() / 1000);
        if (params.bandwidth_hz() % 1000 != 0) {
            char digits[8];
            std::snprintf(digits, sizeof digits, ".%03u", params.bandwidth_hz() % 1000);
            std::string_view fraction(digits);
            while (fraction.back() == '0') {
                fraction.remove_suffix(1);
            }
            out += fraction;
        }
        out += '"';
        if (const char* codr = support::coding_rate_name(params.coding_rate())) {
            put_key(out, "codr");
            out += '"';
            out += codr;
            out += '"';
        }
        put_key(out, "rssis");
        put_int16(out, uplink.rssi_signal_dbm());
        put_key(out, "lsnr");
        put_fixed(out, uplink.snr_db(), 1);
        put_key(out, "foff");
        put_int(out, uplink.frequency_offset_hz());
    } else {
        out += "\"FSK\"";
        put_key(out, "datr");
        put_int(out, modulation.fsk().bitrate());
    }
    put_key(out, "rssi");
    put_int16(out, uplink.rssi_channel_dbm());
    put_key(out, "size");
    put_int(out, uplink.payload().size());
    put_key(out, "data");
    out += '"';
    out += support::base64_encode(uplink.payload());
    out += '"';
    if (include_board) {
        put_key(out, "brd");
        put_int(out, uplink.radio());
    }
    out += '}';
    return out;
}

std::string stat_json(const Stat& stat)
{
    const Civil c = civil_from_unix(stat.unix_time_s);
    std::string out = "{";
    put_key(out, "time");
    out += '"';
    put_year(out, c.year);
    out += '-';
    put_two(out, c.month);
    out += '-';
    put_two(out, c.day);
    out += ' ';
    put_two(out, c.hour);
    out += ':';
    put_two(out, c.minute);
    out += ':';
    put_two(out, c.second);
    out += " GMT\"";
    if (stat.latitude && stat.longitude) {
        put_key(out, "lati");
        put_fixed(out, *stat.latitude, 5);
        put_key(out, "long");
        put_fixed(out, *stat.longitude, 5);
        if (stat.altitude_m) {
            put_key(out, "alti");
            put_int(out, *stat.altitude_m);
        }
    }
    put_key(out, "rxnb");
    put_int(out, stat.rxnb);
    put_key(out, "rxok");
    put_int(out, stat.rxok);
    put_key(out, "rxfw");
    put_int(out, stat.rxfw);
    put_key(out, "ackr");
    put_fixed(out, stat.ackr, 1);
    put_key(out, "dwnb");
    put_int(out, stat.dwnb);
    put_key(out, "txnb");
    put_int(out, stat.txnb);
    if (stat.temperature_c) {
        put_key(out, "temp");
        put_fixed(out, *stat.temperature_c, 1);
    }
    out += '}';
    return out;
}

std::vector<std::string> push_data_bodies(const std::vector<std::string>& rxpk_objects,
                                          const std::string& stat_object, size_t max_json,
                                          std::vector<size_t>* rxpk_counts)
{
    std::vector<size_t> counts;
    static constexpr std::string_view kOpen = "{\"rxpk\":[";
    static constexpr std::string_view kStatKey = "\"stat\":";
    std::vector<std::string> bodies;
    const size_t stat_size = stat_object.empty() ? 0 : stat_object.size() + kStatKey.size() + 1;

    std::vector<std::string_view> batch;
    size_t batch_size = 0; // the rxpk and their separating commas
    bool stat_pending = !stat_object.empty();

    auto flush = [&] {
        std::string body(kOpen);
        for (size_t i = 0; i < batch.size(); ++i) {
            if (i > 0) {
                body += ',';
            }
            body += batch[i];
        }
        body += ']';
        if (stat_pending) {
            body += ',';
            body += kStatKey;
            body += stat_object;
            stat_pending = false;
        }
        body += '}';
        bodies.push_back(std::move(body));
        counts.push_back(batch.size());
        batch.clear();
        batch_size = 0;
    };
    // Size of the body holding the current batch plus one rxpk of `size` bytes.
    auto size_with = [&](size_t size) {
        return kOpen.size() + batch_size + (batch.empty() ? 0 : 1) + size + 2 +
               (stat_pending ? stat_size : 0);
    };

    for (const std::string& rxpk : rxpk_objects) {
        if (size_with(rxpk.size()) > max_json) {
            if (!batch.empty()) {
                flush();
            } else if (stat_pending && kOpen.size() + rxpk.size() + 2 <= max_json) {
                // The stat and this rxpk do not fit together: the stat goes alone, first.
                bodies.push_back("{" + std::string(kStatKey) + stat_object + "}");
                counts.push_back(0);
                stat_pending = false;
            }
        }
        batch_size += (batch.empty() ? 0 : 1) + rxpk.size();
        batch.push_back(rxpk);
    }
    if (!batch.empty()) {
        flush();
    } else if (stat_pending) {
        bodies.push_back("{" + std::string(kStatKey) + stat_object + "}");
        counts.push_back(0);
    }
    if (rxpk_counts != nullptr) {
        *rxpk_counts = std::move(counts);
    }
    return bodies;
}

// ---- downstream JSON -----------------------------------------------------------------------

Txpk parse_pull_resp(std::string_view json)
try {
    const JsonObject::Ptr root = parse_object(json);
    const JsonObject& txpk = to_object(need(*root, "txpk", "txpk"), "txpk");
    Txpk out;
    v1::TxRequest& request = out.request;
    auto opt_bool = [&](const char* key, bool fallback) {
        const Var* value = find(txpk, key);
        return value == nullptr ? fallback : to_bool(*value, std::string("txpk.") + key, kTolerant);
    };
    auto opt_uint = [&](const char* key, uint64_t max) -> std::optional<uint64_t> {
        const Var* value = find(txpk, key);
        if (value == nullptr) {
            return std::nullopt;
        }
        return to_uint64(*value, std::string("txpk.") + key, max, kTolerant);
    };

    // Timing: imme > tmst > tmms.
    const Var* imme = find(txpk, "imme");
    const bool immediate = imme != nullptr && to_bool(*imme, "txpk.imme", kTolerant);
    if (immediate) {
        request.mutable_timing()->set_immediate(true);
    } else if (auto tmst = opt_uint("tmst", UINT32_MAX)) {
        request.mutable_timing()->set_count_us(static_cast<uint32_t>(*tmst));
    } else if (auto tmms = opt_uint("tmms", UINT64_MAX / 1000)) {
        request.mutable_timing()->set_gps_time_us(*tmms * 1000);
    } else if (imme != nullptr) {
        fail("txpk.imme: false without tmst or tmms");
    } else {
        fail("txpk.tmst: missing (one of imme, tmst or tmms is required)");
    }

    request.set_frequency_hz(
        mhz_to_hz(to_number(need(txpk, "freq", "txpk.freq"), "txpk.freq"), "txpk.freq"));
    if (auto rfch = opt_uint("rfch", UINT32_MAX)) {
        request.set_rf_chain(static_cast<uint32_t>(*rfch));
    } else {
        out.warnings.push_back("txpk.rfch: missing, using 0");
    }
    if (const Var* powe = find(txpk, "powe")) {
        request.set_power_dbm(static_cast<float>(to_number_in(*powe, "txpk.powe", -100, 100)));
        out.power_given = true;
    }

    const std::string& modu = to_string(need(txpk, "modu", "txpk.modu"), "txpk.modu");
    const Var& datr = need(txpk, "datr", "txpk.datr");
    const auto prea = opt_uint("prea", UINT16_MAX);
    if (support::iequals(modu, "LORA")) {
        auto* lora = request.mutable_modulation()->mutable_lora();
        uint32_t sf = 0, bw = 0;
        if (datr.type() != typeid(std::string) ||
            !support::parse_lora_datr(datr.extract<std::string>(), sf, bw)) {
            fail("txpk.datr: expected \"SF<n>BW<k>\" for LoRa");
        }
        lora->set_spreading_factor(sf);
        lora->set_bandwidth_hz(bw);
        const std::string& codr = to_string(need(txpk, "codr", "txpk.codr"), "txpk.codr");
        v1::CodingRate rate{};
        if (!parse_codr(codr, rate, false)) {
            fail("txpk.codr: expected \"4/5\", \"4/6\", \"4/7\" or \"4/8\" (\"" + codr + "\")");
        }
        lora->set_coding_rate(rate);
        request.set_preamble(prea ? std::max<uint32_t>(6, static_cast<uint32_t>(*prea)) : 8);
    } else if (support::iequals(modu, "FSK")) {
        auto* fsk = request.mutable_modulation()->mutable_fsk();
        uint32_t bitrate = 0;
        if (datr.type() == typeid(std::string)) {
            if (!parse_digits(datr.extract<std::string>(), bitrate)) {
                fail("txpk.datr: expected an FSK bit rate (\"" + datr.extract<std::string>() +
                     "\")");
            }
        } else if (is_number(datr)) {
            bitrate = static_cast<uint32_t>(to_int(datr, "txpk.datr", 0, UINT32_MAX, kTolerant));
        } else {
            fail("txpk.datr: expected an FSK bit rate");
        }
        if (bitrate < 500 || bitrate > 250000) {
            fail("txpk.datr: FSK bit rate " + std::to_string(bitrate) +
                 " out of range [500, 250000]");
        }
        fsk->set_bitrate(bitrate);
        const Var& fdev = need(txpk, "fdev", "txpk.fdev");
        fsk->set_frequency_deviation_hz(
            static_cast<uint32_t>(std::llround(to_number_in(fdev, "txpk.fdev", 1, 1000000))));
        request.set_preamble(prea ? std::max<uint32_t>(3, static_cast<uint32_t>(*prea)) : 5);
    } else {
        fail("txpk.modu: expected \"LORA\" or \"FSK\" (\"" + modu + "\")");
    }

    request.set_invert_iq(opt_bool("ipol", false));
    request.set_crc(!opt_bool("ncrc", false));
    request.set_implicit_header(opt_bool("nhdr", false));

    const std::string& data = to_string(need(txpk, "data", "txpk.data"), "txpk.data");
    std::string payload;
    if (!support::base64_decode(data, payload)) {
        fail("txpk.data: not base64");
    }
    if (payload.size() > kMaxPayload) {
        fail("txpk.data: " + std::to_string(payload.size()) + " bytes (max 255)");
    }
    if (auto size = opt_uint("size", UINT32_MAX)) {
        if (*size != payload.size()) {
            out.warnings.push_back("txpk.size " + std::to_string(*size) + " differs from the " +
                                   std::to_string(payload.size()) + " bytes of data");
        }
    } else {
        out.warnings.push_back("txpk.size: missing");
    }
    request.set_payload(std::move(payload));

    if (auto brd = opt_uint("brd", UINT32_MAX)) {
        out.board = static_cast<uint32_t>(*brd);
    }
    if (auto ant = opt_uint("ant", UINT32_MAX)) {
        out.antenna = static_cast<uint32_t>(*ant);
    }
    return out;
} catch (const json::JsonError& e) {
    throw ParseError(e.what());
}

// ---- TX_ACK --------------------------------------------------------------------------------

const char* tx_ack_error(v1::TxOutcome outcome)
{
    switch (outcome) {
    case v1::OK:
        return "NONE";
    case v1::TOO_LATE:
        return "TOO_LATE";
    case v1::TOO_EARLY:
        return "TOO_EARLY";
    case v1::COLLISION_PACKET:
    case v1::DUTY_CYCLE:
    case v1::CHANNEL_BUSY:
    case v1::DWELL_TIME:
    case v1::QUEUE_FULL:
        return "COLLISION_PACKET";
    case v1::COLLISION_BEACON:
        return "COLLISION_BEACON";
    case v1::TX_FREQ:
        return "TX_FREQ";
    case v1::TX_POWER:
        return "TX_POWER";
    case v1::GPS_UNLOCKED:
        return "GPS_UNLOCKED";
    default: // RADIO_ERROR, CANCELLED, unspecified, unknown
        return "UNKNOWN";
    }
}

std::string tx_ack_json(v1::TxOutcome outcome, std::optional<float> lowered_power_dbm)
{
    if (outcome == v1::OK) {
        if (!lowered_power_dbm || !std::isfinite(*lowered_power_dbm)) {
            return {};
        }
        std::string out = "{\"txpk_ack\":{\"error\":\"NONE\",\"warn\":\"TX_POWER\",\"value\":";
        put_int(out,
                static_cast<int>(std::clamp(std::floor(*lowered_power_dbm), -1000.0f, 1000.0f)));
        out += "}}";
        return out;
    }
    return std::string("{\"txpk_ack\":{\"error\":\"") + tx_ack_error(outcome) + "\"}}";
}

// ---- server side ---------------------------------------------------------------------------

PushData parse_push_data(std::string_view json)
try {
    const JsonObject::Ptr root = parse_object(json);
    PushData out;
    if (const Var* rxpk = find(*root, "rxpk")) {
        const JsonArray& list = to_array(*rxpk, "rxpk");
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string name = index_name("rxpk", i);
            out.uplinks.push_back(
                read_rxpk(to_object(list.get(static_cast<unsigned>(i)), name), name));
        }
    }
    if (const Var* stat = find(*root, "stat")) {
        out.stat = read_stat(to_object(*stat, "stat"));
    }
    return out;
} catch (const json::JsonError& e) {
    throw ParseError(e.what());
}

TxAck parse_tx_ack(std::string_view json)
try {
    TxAck out;
    if (json.empty()) {
        return out;
    }
    const JsonObject::Ptr root = parse_object(json);
    const Var* ack_value = find(*root, "txpk_ack");
    if (ack_value == nullptr) {
        return out;
    }
    const JsonObject& ack = to_object(*ack_value, "txpk_ack");
    if (const Var* error = find(ack, "error")) {
        out.error = to_string(*error, "txpk_ack.error");
        if (out.error.empty()) {
            out.error = "NONE";
        }
    }
    if (const Var* warn = find(ack, "warn")) {
        out.warn = to_string(*warn, "txpk_ack.warn");
    }
    if (const Var* value = find(ack, "value")) {
        if (value->type() == typeid(std::string)) {
            const std::string& text = value->extract<std::string>();
            double number = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
                !std::isfinite(number)) {
                fail("txpk_ack.value: not a number (\"" + text + "\")");
            }
            out.value = number;
        } else {
            out.value = to_number(*value, "txpk_ack.value");
        }
    }
    return out;
} catch (const json::JsonError& e) {
    throw ParseError(e.what());
}

} // namespace forwarder::udp
