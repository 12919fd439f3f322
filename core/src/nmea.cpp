#include "nmea.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <vector>

namespace forwarder::core {

namespace {

// NMEA 0183 caps a sentence at 82 characters; some receivers exceed it, so allow headroom.
constexpr size_t kMaxSentenceLength = 200;

constexpr std::array<std::string_view, 6> kTalkers = {"GP", "GN", "GL", "GA", "BD", "GB"};

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s)
{
    for (char c : s) {
        if (!is_digit(c))
            return false;
    }
    return !s.empty();
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

std::string quoted(std::string_view s)
{
    // Built by appending: `"'" + std::string(s)` trips GCC 12's -Wrestrict false positive at -O3.
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out.append(s);
    out += '\'';
    return out;
}

// Two decimal digits at s[pos].
int two_digits(std::string_view s, size_t pos)
{
    return (s[pos] - '0') * 10 + (s[pos + 1] - '0');
}

bool parse_int(std::string_view s, int& out)
{
    if (!all_digits(s))
        return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

// A plain decimal number ("-12.5", "545.4"); no exponent, no leading '+'.
bool parse_decimal(std::string_view s, double& out)
{
    if (s.empty())
        return false;
    for (char c : s) {
        if (!is_digit(c) && c != '.' && c != '-')
            return false;
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::fixed);
    return ec == std::errc() && ptr == s.data() + s.size();
}

bool is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m)
{
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

// "hhmmss" or "hhmmss.f..." (any number of fraction digits; kept to the microsecond).
bool parse_time(std::string_view s, std::optional<NmeaTime>& out, std::string& error)
{
    out.reset();
    if (s.empty())
        return true;
    std::string_view whole = s.substr(0, 6);
    std::string_view fraction;
    if (s.size() > 6) {
        if (s[6] != '.' || !all_digits(s.substr(7))) {
            error = "bad time " + quoted(s);
            return false;
        }
        fraction = s.substr(7);
    }
    if (whole.size() != 6 || !all_digits(whole)) {
        error = "bad time " + quoted(s);
        return false;
    }
    NmeaTime t;
    t.hour = two_digits(whole, 0);
    t.minute = two_digits(whole, 2);
    t.second = two_digits(whole, 4);
    if (t.hour > 23 || t.minute > 59 || t.second > 60) {
        error = "time out of range " + quoted(s);
        return false;
    }
    if (t.second == 60) {
        error = "leap second " + quoted(s) + " is not representable";
        return false;
    }
    uint32_t scale = 100000;
    for (size_t i = 0; i < fraction.size() && i < 6; ++i, scale /= 10)
        t.microsecond += static_cast<uint32_t>(fraction[i] - '0') * scale;
    out = t;
    return true;
}

// "ddmmyy".
bool parse_date(std::string_view s, std::optional<NmeaDate>& out, std::string& error)
{
    out.reset();
    if (s.empty())
        return true;
    if (s.size() != 6 || !all_digits(s)) {
        error = "bad date " + quoted(s);
        return false;
    }
    NmeaDate d;
    d.day = two_digits(s, 0);
    d.month = two_digits(s, 2);
    const int yy = two_digits(s, 4);
    d.year = yy < 80 ? 2000 + yy : 1900 + yy;
    if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > days_in_month(d.year, d.month)) {
        error = "date out of range " + quoted(s);
        return false;
    }
    out = d;
    return true;
}

// "ddmm.mmmm" + N/S or "dddmm.mmmm" + E/W; both empty means "no position".
bool parse_coordinate(std::string_view value, std::string_view hemisphere, bool latitude,
                      std::optional<double>& out, std::string& error)
{
    out.reset();
    const char* what = latitude ? "latitude" : "longitude";
    if (value.empty())
        return true;
    const size_t dot = value.find('.');
    const std::string_view integer = value.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
    const size_t max_degree_digits = latitude ? 2 : 3;
    if (integer.size() < 3 || integer.size() > max_degree_digits + 2 || !all_digits(integer) ||
        (dot != std::string_view::npos && !all_digits(fraction))) {
        error = std::string("bad ") + what + " " + quoted(value);
        return false;
    }
    int degrees = 0;
    double minutes = 0;
    if (!parse_int(integer.substr(0, integer.size() - 2), degrees) ||
        !parse_decimal(value.substr(integer.size() - 2), minutes) || minutes >= 60.0) {
        error = std::string("bad ") + what + " " + quoted(value);
        return false;
    }
    double result = degrees + minutes / 60.0;
    if (result > (latitude ? 90.0 : 180.0)) {
        error = std::string(what) + " out of range " + quoted(value);
        return false;
    }
    const char positive = latitude ? 'N' : 'E';
    const char negative = latitude ? 'S' : 'W';
    if (hemisphere.size() != 1 || (hemisphere[0] != positive && hemisphere[0] != negative)) {
        error = std::string("bad ") + what + " hemisphere " + quoted(hemisphere);
        return false;
    }
    out = hemisphere[0] == negative ? -result : result;
    return true;
}

bool parse_optional_decimal(std::string_view s, const char* what, std::optional<double>& out,
                            std::string& error)
{
    out.reset();
    if (s.empty())
        return true;
    double v = 0;
    if (!parse_decimal(s, v)) {
        error = std::string("bad ") + what + " " + quoted(s);
        return false;
    }
    out = v;
    return true;
}

std::vector<std::string_view> split_fields(std::string_view body)
{
    std::vector<std::string_view> fields;
    size_t start = 0;
    for (;;) {
        const size_t comma = body.find(',', start);
        if (comma == std::string_view::npos) {
            fields.push_back(body.substr(start));
            return fields;
        }
        fields.push_back(body.substr(start, comma - start));
        start = comma + 1;
    }
}

// $--RMC,hhmmss.ss,A,llll.ll,a,yyyyy.yy,a,x.x,x.x,ddmmyy,x.x,a[,m[,s]]*hh
bool parse_rmc(const std::vector<std::string_view>& f, NmeaRmc& rmc, std::string& error)
{
    if (f.size() < 12) {
        error = "expected at least 11 fields, got " + std::to_string(f.size() - 1);
        return false;
    }
    if (!parse_time(f[1], rmc.time, error) || !parse_date(f[9], rmc.date, error) ||
        !parse_coordinate(f[3], f[4], true, rmc.latitude, error) ||
        !parse_coordinate(f[5], f[6], false, rmc.longitude, error))
        return false;
    if (f[2] == "A") {
        rmc.active = true;
    } else if (f[2] == "V" || f[2].empty()) {
        rmc.active = false;
    } else {
        error = "bad status " + quoted(f[2]);
        return false;
    }
    if (f.size() > 12 && f[12] == "N") // NMEA 2.3 mode indicator: data not valid
        rmc.active = false;
    if (rmc.time && rmc.date) {
        const NmeaTime& t = *rmc.time;
        rmc.unix_seconds =
            days_since_unix_epoch(rmc.date->year, rmc.date->month, rmc.date->day) * 86400 +
            t.hour * 3600 + t.minute * 60 + t.second;
    }
    return true;
}

// $--GGA,hhmmss.ss,llll.ll,a,yyyyy.yy,a,q,nn,h.h,a.a,M,g.g,M,age,sid*hh
bool parse_gga(const std::vector<std::string_view>& f, NmeaGga& gga, std::string& error)
{
    if (f.size() < 15) {
        error = "expected at least 14 fields, got " + std::to_string(f.size() - 1);
        return false;
    }
    if (!parse_time(f[1], gga.time, error) ||
        !parse_coordinate(f[2], f[3], true, gga.latitude, error) ||
        !parse_coordinate(f[4], f[5], false, gga.longitude, error) ||
        !parse_optional_decimal(f[8], "hdop", gga.hdop, error) ||
        !parse_optional_decimal(f[9], "altitude", gga.altitude_m, error))
        return false;
    if (!f[6].empty() && (f[6].size() != 1 || !parse_int(f[6], gga.fix_quality))) {
        error = "bad fix quality " + quoted(f[6]);
        return false;
    }
    if (!f[7].empty() && (f[7].size() > 2 || !parse_int(f[7], gga.satellites))) {
        error = "bad satellite count " + quoted(f[7]);
        return false;
    }
    return true;
}

} // namespace

int64_t days_since_unix_epoch(int year, int month, int day)
{
    // Count in 400-year cycles of years that start on March 1st, so the leap day is the last
    // day of its year; 719468 = days from 0000-03-01 to 1970-01-01.
    const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
    const int64_t cycle = (y >= 0 ? y : y - 399) / 400;
    const int64_t year_of_cycle = y - cycle * 400;                          // 0..399
    const int64_t month_from_march = (month + 9) % 12;                      // Mar = 0 .. Feb = 11
    const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // 0..365
    const int64_t day_of_cycle =
        year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
    return cycle * 146097 + day_of_cycle - 719468;
}

uint8_t nmea_checksum(std::string_view body)
{
    uint8_t sum = 0;
    for (char c : body)
        sum ^= static_cast<uint8_t>(c);
    return sum;
}

bool parse_nmea(std::string_view line, NmeaSentence& out, std::string& error)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' '))
        line.remove_suffix(1);
    if (line.empty()) {
        error = "empty line";
        return false;
    }
    if (line.front() != '$') {
        error = "does not start with '$'";
        return false;
    }
    if (line.size() > kMaxSentenceLength) {
        error = "longer than " + std::to_string(kMaxSentenceLength) + " characters";
        return false;
    }
    const size_t star = line.find('*');
    if (star == std::string_view::npos) {
        error = "missing checksum";
        return false;
    }
    if (line.size() != star + 3) {
        error = "checksum must be two hex digits at the end";
        return false;
    }
    const std::string_view body = line.substr(1, star - 1);
    for (size_t i = 0; i < body.size(); ++i) {
        const auto c = static_cast<unsigned char>(body[i]);
        if (c < 0x20 || c > 0x7e || c == '$' || c == '!') {
            char buf[64];
            std::snprintf(buf, sizeof buf, "invalid character 0x%02X at offset %zu", c, i + 1);
            error = buf;
            return false;
        }
    }
    const int hi = hex_value(line[star + 1]);
    const int lo = hex_value(line[star + 2]);
    if (hi < 0 || lo < 0) {
        error = "checksum must be two hex digits at the end";
        return false;
    }
    const uint8_t given = static_cast<uint8_t>(hi * 16 + lo);
    const uint8_t computed = nmea_checksum(body);
    if (given != computed) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "checksum mismatch: computed %02X, sentence says %02X",
                      computed, given);
        error = buf;
        return false;
    }

    const std::vector<std::string_view> fields = split_fields(body);
    const std::string_view address = fields[0];
    if (!address.empty() && address[0] == 'P') {
        out = NmeaOther{"P", std::string(address.substr(1))};
        return true;
    }
    bool address_ok = address.size() == 5;
    for (char c : address)
        address_ok = address_ok && ((c >= 'A' && c <= 'Z') || is_digit(c));
    if (!address_ok) {
        error = "malformed address " + quoted(address);
        return false;
    }
    const std::string_view talker = address.substr(0, 2);
    const std::string_view type = address.substr(2);
    if (type != "RMC" && type != "GGA") {
        out = NmeaOther{std::string(talker), std::string(type)};
        return true;
    }
    bool talker_ok = false;
    for (std::string_view t : kTalkers)
        talker_ok = talker_ok || t == talker;
    if (!talker_ok) {
        error = "unsupported talker " + quoted(talker) + " for " + std::string(type);
        return false;
    }
    std::string detail;
    if (type == "RMC") {
        NmeaRmc rmc;
        rmc.talker = std::string(talker);
        if (!parse_rmc(fields, rmc, detail)) {
            error = std::string(address) + ": " + detail;
            return false;
        }
        out = std::move(rmc);
    } else {
        NmeaGga gga;
        gga.talker = std::string(talker);
        if (!parse_gga(fields, gga, detail)) {
            error = std::string(address) + ": " + detail;
            return false;
        }
        out = std::move(gga);
    }
    return true;
}

} // namespace forwarder::core
