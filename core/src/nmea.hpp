#pragma once
// NMEA 0183 sentences from a GNSS receiver (timing.md §9): framing and checksum, plus the two
// sentences the forwarder needs, RMC (UTC time and date, validity, position) and GGA (fix
// quality, satellites, position, altitude). Pure: no I/O, no clock.
//
// Accepted talkers for RMC/GGA: GP (GPS), GN (multi-GNSS), GL (GLONASS), GA (Galileo),
// BD and GB (BeiDou). Other sentence types with a correct checksum parse as NmeaOther.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "clock.hpp"

namespace forwarder::core {

// GPS epoch, leap seconds and utc_to_gps_seconds(): clock.hpp.

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31).
int64_t days_since_unix_epoch(int year, int month, int day);

struct NmeaTime {
    int hour = 0;   // 0..23
    int minute = 0; // 0..59
    int second = 0; // 0..59 (a leap second "60" is rejected)
    uint32_t microsecond = 0;
};

struct NmeaDate {
    int year = 0; // four digits: two-digit years 80..99 are 19xx, 00..79 are 20xx
    int month = 0;
    int day = 0;
};

// $--RMC: recommended minimum data.
struct NmeaRmc {
    std::string talker; // "GP", "GN", ...
    // Status 'A' (and, when present, an NMEA 2.3 mode indicator other than 'N').
    bool active = false;
    std::optional<NmeaTime> time;
    std::optional<NmeaDate> date;
    // Unix seconds of the UTC second the report belongs to (sub-second part dropped); set
    // when both time and date are present.
    std::optional<int64_t> unix_seconds;
    std::optional<double> latitude;  // degrees, south negative
    std::optional<double> longitude; // degrees, west negative
};

// $--GGA: fix data.
struct NmeaGga {
    std::string talker;
    std::optional<NmeaTime> time;
    int fix_quality = 0; // 0 = no fix, 1 = GPS, 2 = DGPS, 4/5 = RTK, 6 = dead reckoning, ...
    int satellites = 0;  // in use
    std::optional<double> hdop;
    std::optional<double> latitude;   // degrees, south negative
    std::optional<double> longitude;  // degrees, west negative
    std::optional<double> altitude_m; // above mean sea level
};

// A well-formed sentence of a type not decoded here (GSV, GSA, TXT, proprietary $P...).
struct NmeaOther {
    std::string talker; // "P" for proprietary sentences
    std::string type;   // e.g. "GSV", or the rest of a proprietary address
};

using NmeaSentence = std::variant<NmeaRmc, NmeaGga, NmeaOther>;

// XOR of every character of `body` (the text between '$' and '*').
uint8_t nmea_checksum(std::string_view body);

// Parses one sentence, "$<address>,<fields>*<hh>" with optional trailing CR/LF. Returns false
// and sets `error` (e.g. "checksum mismatch: computed 6A, sentence says 6B") for garbage, a
// missing or wrong checksum, an RMC/GGA from an unsupported talker, or malformed fields.
bool parse_nmea(std::string_view line, NmeaSentence& out, std::string& error);

} // namespace forwarder::core
