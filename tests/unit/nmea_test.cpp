#include "nmea.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace forwarder::core;

namespace {

// "$<body>*HH" with the checksum computed here, independently of the parser.
std::string sentence(const std::string& body)
{
    unsigned sum = 0;
    for (char c : body)
        sum ^= static_cast<unsigned char>(c);
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02X", sum);
    return "$" + body + "*" + hex;
}

NmeaRmc parse_rmc(const std::string& line)
{
    NmeaSentence s;
    std::string error;
    EXPECT_TRUE(parse_nmea(line, s, error)) << line << ": " << error;
    EXPECT_TRUE(std::holds_alternative<NmeaRmc>(s)) << line;
    return std::holds_alternative<NmeaRmc>(s) ? std::get<NmeaRmc>(s) : NmeaRmc{};
}

NmeaGga parse_gga(const std::string& line)
{
    NmeaSentence s;
    std::string error;
    EXPECT_TRUE(parse_nmea(line, s, error)) << line << ": " << error;
    EXPECT_TRUE(std::holds_alternative<NmeaGga>(s)) << line;
    return std::holds_alternative<NmeaGga>(s) ? std::get<NmeaGga>(s) : NmeaGga{};
}

std::string rejection(const std::string& line)
{
    NmeaSentence s;
    std::string error;
    EXPECT_FALSE(parse_nmea(line, s, error)) << line;
    EXPECT_FALSE(error.empty()) << line;
    return error;
}

} // namespace

TEST(GpsTime, UtcToGps)
{
    EXPECT_EQ(kGpsEpochUnixSeconds, 315964800);
    EXPECT_EQ(kGpsUtcLeapSeconds, 18);
    EXPECT_EQ(utc_to_gps_seconds(1700000000), 1384035218u);
    EXPECT_EQ(utc_to_gps_seconds(kGpsEpochUnixSeconds), 18u);
    EXPECT_EQ(utc_to_gps_seconds(kGpsEpochUnixSeconds - 18), 0u);
    EXPECT_EQ(utc_to_gps_seconds(0), 0u); // before the GPS epoch
    // 2017-01-01T00:00:00Z, the instant the 18 s offset took effect.
    EXPECT_EQ(utc_to_gps_seconds(1483228800), 1483228800u - 315964800u + 18u);
}

TEST(GpsTime, DaysSinceUnixEpoch)
{
    EXPECT_EQ(days_since_unix_epoch(1970, 1, 1), 0);
    EXPECT_EQ(days_since_unix_epoch(1969, 12, 31), -1);
    EXPECT_EQ(days_since_unix_epoch(1980, 1, 6) * 86400, kGpsEpochUnixSeconds);
    EXPECT_EQ(days_since_unix_epoch(2000, 3, 1) - days_since_unix_epoch(2000, 2, 28), 2);
    EXPECT_EQ(days_since_unix_epoch(2100, 3, 1) - days_since_unix_epoch(2100, 2, 28), 1);
    EXPECT_EQ(days_since_unix_epoch(2026, 11, 30) * 86400 + 12 * 3600, 1796040000);
}

TEST(Nmea, Checksum)
{
    EXPECT_EQ(nmea_checksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),
              0x6A);
    EXPECT_EQ(nmea_checksum(""), 0);
}

TEST(Nmea, ClassicRmc)
{
    // The textbook example sentence, checksum 6A.
    const NmeaRmc rmc =
        parse_rmc("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n");
    EXPECT_EQ(rmc.talker, "GP");
    EXPECT_TRUE(rmc.active);
    ASSERT_TRUE(rmc.time);
    EXPECT_EQ(rmc.time->hour, 12);
    EXPECT_EQ(rmc.time->minute, 35);
    EXPECT_EQ(rmc.time->second, 19);
    EXPECT_EQ(rmc.time->microsecond, 0u);
    ASSERT_TRUE(rmc.date);
    EXPECT_EQ(rmc.date->year, 1994);
    EXPECT_EQ(rmc.date->month, 3);
    EXPECT_EQ(rmc.date->day, 23);
    ASSERT_TRUE(rmc.unix_seconds);
    EXPECT_EQ(*rmc.unix_seconds, 764426119);
    ASSERT_TRUE(rmc.latitude && rmc.longitude);
    EXPECT_NEAR(*rmc.latitude, 48.0 + 7.038 / 60.0, 1e-9);
    EXPECT_NEAR(*rmc.longitude, 11.0 + 31.0 / 60.0, 1e-9);
}

TEST(Nmea, ClassicGga)
{
    const NmeaGga gga =
        parse_gga("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47");
    EXPECT_EQ(gga.talker, "GP");
    ASSERT_TRUE(gga.time);
    EXPECT_EQ(gga.time->hour, 12);
    EXPECT_EQ(gga.fix_quality, 1);
    EXPECT_EQ(gga.satellites, 8);
    ASSERT_TRUE(gga.hdop);
    EXPECT_DOUBLE_EQ(*gga.hdop, 0.9);
    ASSERT_TRUE(gga.latitude && gga.longitude && gga.altitude_m);
    EXPECT_NEAR(*gga.latitude, 48.1173, 1e-9);
    EXPECT_NEAR(*gga.longitude, 11.516666666, 1e-8);
    EXPECT_DOUBLE_EQ(*gga.altitude_m, 545.4);
}

TEST(Nmea, SouthernAndWesternHemispheres)
{
    const NmeaGga gga =
        parse_gga("$GLGGA,120000.00,3352.12800,S,07037.50000,W,2,12,0.8,-12.5,M,30.1,M,,*67");
    EXPECT_EQ(gga.talker, "GL");
    EXPECT_EQ(gga.fix_quality, 2);
    EXPECT_EQ(gga.satellites, 12);
    ASSERT_TRUE(gga.latitude && gga.longitude && gga.altitude_m);
    EXPECT_NEAR(*gga.latitude, -(33.0 + 52.128 / 60.0), 1e-9);
    EXPECT_NEAR(*gga.longitude, -(70.0 + 37.5 / 60.0), 1e-9);
    EXPECT_DOUBLE_EQ(*gga.altitude_m, -12.5);

    const NmeaRmc rmc =
        parse_rmc(sentence("GARMC,010203.50,A,0030.000,S,17959.400,W,0.0,0.0,150626,,,D"));
    EXPECT_EQ(rmc.talker, "GA");
    ASSERT_TRUE(rmc.latitude && rmc.longitude);
    EXPECT_NEAR(*rmc.latitude, -0.5, 1e-12);
    EXPECT_NEAR(*rmc.longitude, -179.99, 1e-9);
    ASSERT_TRUE(rmc.time);
    EXPECT_EQ(rmc.time->microsecond, 500000u);
}

TEST(Nmea, DatesAcrossMidnightAndYearEnd)
{
    const NmeaRmc before =
        parse_rmc("$GNRMC,235959.00,A,3352.12800,S,15112.55800,E,0.012,,311226,,,A*76");
    const NmeaRmc after =
        parse_rmc("$GNRMC,000000.00,A,3352.12800,S,15112.55800,E,0.012,,010127,,,A*77");
    ASSERT_TRUE(before.unix_seconds && after.unix_seconds);
    EXPECT_EQ(*before.unix_seconds, 1798761599); // 2026-12-31T23:59:59Z
    EXPECT_EQ(*after.unix_seconds, 1798761600);  // 2027-01-01T00:00:00Z
    EXPECT_EQ(utc_to_gps_seconds(*after.unix_seconds),
              utc_to_gps_seconds(*before.unix_seconds) + 1);
    EXPECT_EQ(after.date->year, 2027);

    // Leap day, and the end of February in a common year.
    const NmeaRmc leap = parse_rmc(sentence("GPRMC,120000,A,,,,,,,290224,,"));
    ASSERT_TRUE(leap.unix_seconds);
    EXPECT_EQ(*leap.unix_seconds, 1709208000);
    const NmeaRmc march = parse_rmc(sentence("GPRMC,000000,A,,,,,,,010324,,"));
    EXPECT_EQ(*march.unix_seconds - *leap.unix_seconds, 12 * 3600);
    const NmeaRmc feb28 = parse_rmc(sentence("GPRMC,235959,A,,,,,,,280225,,"));
    const NmeaRmc mar1 = parse_rmc(sentence("GPRMC,000000,A,,,,,,,010325,,"));
    EXPECT_EQ(*mar1.unix_seconds - *feb28.unix_seconds, 1);
    // Two-digit year pivot: 99 is 1999, 00 is 2000.
    EXPECT_EQ(parse_rmc(sentence("GPRMC,000000,A,,,,,,,311299,,")).date->year, 1999);
    EXPECT_EQ(parse_rmc(sentence("GPRMC,000000,A,,,,,,,010100,,")).date->year, 2000);
}

TEST(Nmea, VoidStatus)
{
    const NmeaRmc rmc = parse_rmc("$GPRMC,120000.00,V,,,,,,,301126,,,N*79");
    EXPECT_FALSE(rmc.active);
    EXPECT_FALSE(rmc.latitude);
    EXPECT_FALSE(rmc.longitude);
    ASSERT_TRUE(rmc.unix_seconds); // time and date are still reported
    EXPECT_EQ(*rmc.unix_seconds, 1796040000);

    // Status A but NMEA 2.3 mode indicator N (data not valid).
    EXPECT_FALSE(parse_rmc(sentence("GPRMC,120000,A,,,,,,,301126,,,N")).active);
    EXPECT_TRUE(parse_rmc(sentence("GPRMC,120000,A,,,,,,,301126,,,A")).active);
    // No time yet: nothing to convert.
    const NmeaRmc empty = parse_rmc(sentence("GPRMC,,V,,,,,,,,,,N"));
    EXPECT_FALSE(empty.time);
    EXPECT_FALSE(empty.date);
    EXPECT_FALSE(empty.unix_seconds);
}

TEST(Nmea, GgaWithoutFix)
{
    const NmeaGga gga = parse_gga(sentence("GNGGA,120000.00,,,,,0,00,99.99,,,,,,"));
    EXPECT_EQ(gga.fix_quality, 0);
    EXPECT_EQ(gga.satellites, 0);
    EXPECT_FALSE(gga.latitude);
    EXPECT_FALSE(gga.altitude_m);
}

TEST(Nmea, AllTalkers)
{
    for (const char* talker : {"GP", "GN", "GL", "GA", "BD", "GB"}) {
        const std::string body = std::string(talker) + "RMC,120000,A,,,,,,,301126,,";
        EXPECT_EQ(parse_rmc(sentence(body)).talker, talker);
    }
    EXPECT_NE(rejection(sentence("XXRMC,120000,A,,,,,,,301126,,")).find("talker"),
              std::string::npos);
}

TEST(Nmea, OtherSentences)
{
    NmeaSentence s;
    std::string error;
    ASSERT_TRUE(parse_nmea(sentence("GPGSV,3,1,11,10,63,137,17,07,61,098,15,05,59,290,20,08,54,"
                                    "157,30"),
                           s, error))
        << error;
    ASSERT_TRUE(std::holds_alternative<NmeaOther>(s));
    EXPECT_EQ(std::get<NmeaOther>(s).talker, "GP");
    EXPECT_EQ(std::get<NmeaOther>(s).type, "GSV");
    ASSERT_TRUE(parse_nmea(sentence("PUBX,04,073731.00,091202,113851.00,1196,15D,1930035,-2660."
                                    "664,43,"),
                           s, error))
        << error;
    ASSERT_TRUE(std::holds_alternative<NmeaOther>(s));
    EXPECT_EQ(std::get<NmeaOther>(s).talker, "P");
    EXPECT_EQ(std::get<NmeaOther>(s).type, "UBX");
}

TEST(Nmea, BadChecksum)
{
    const std::string error =
        rejection("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6B");
    EXPECT_NE(error.find("checksum mismatch"), std::string::npos) << error;
    // One flipped digit in the payload.
    rejection("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230395,003.1,W*6A");
    // Lower-case hex is accepted.
    parse_rmc("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6a");
    EXPECT_NE(rejection("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6")
                  .find("two hex digits"),
              std::string::npos);
    EXPECT_NE(rejection("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*G1")
                  .find("two hex digits"),
              std::string::npos);
    EXPECT_NE(rejection("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W")
                  .find("missing checksum"),
              std::string::npos);
}

TEST(Nmea, Garbage)
{
    rejection("");
    rejection("\r\n");
    EXPECT_NE(rejection("GPRMC,123519,A*00").find("'$'"), std::string::npos);
    rejection("$");
    rejection("$*00");
    rejection(std::string("$GP\x01RMC*") + "00");
    rejection(std::string("$\xff\xfe\x80garbage") + "*00");
    rejection("$" + std::string(300, 'A') + "*00");
    EXPECT_NE(rejection(sentence("GP-RMC,1")).find("address"), std::string::npos);
    rejection(sentence("G"));
}

TEST(Nmea, MissingFields)
{
    EXPECT_NE(rejection(sentence("GPRMC,123519,A,4807.038,N")).find("fields"), std::string::npos);
    EXPECT_NE(
        rejection(sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M")).find("fields"),
        std::string::npos);
    rejection(sentence("GPRMC"));
    rejection(sentence("GPGGA"));
}

TEST(Nmea, MalformedFields)
{
    // Latitude without hemisphere, wrong hemisphere letter, bad digits, minutes >= 60.
    EXPECT_NE(
        rejection(sentence("GPRMC,123519,A,4807.038,,01131.000,E,,,230394,,")).find("hemisphere"),
        std::string::npos);
    rejection(sentence("GPRMC,123519,A,4807.038,E,01131.000,E,,,230394,,"));
    rejection(sentence("GPRMC,123519,A,48x7.038,N,01131.000,E,,,230394,,"));
    rejection(sentence("GPRMC,123519,A,4867.038,N,01131.000,E,,,230394,,"));
    rejection(sentence("GPRMC,123519,A,9107.038,N,01131.000,E,,,230394,,"));
    rejection(sentence("GPRMC,123519,A,4807.038,N,18131.000,E,,,230394,,"));
    // Times and dates out of range; leap second.
    rejection(sentence("GPRMC,243519,A,,,,,,,230394,,"));
    rejection(sentence("GPRMC,126019,A,,,,,,,230394,,"));
    EXPECT_NE(rejection(sentence("GPRMC,235960,A,,,,,,,311216,,")).find("leap"), std::string::npos);
    rejection(sentence("GPRMC,12351,A,,,,,,,230394,,"));
    rejection(sentence("GPRMC,123519.,A,,,,,,,230394,,"));
    rejection(sentence("GPRMC,123519,A,,,,,,,300223,,")); // 30 February
    rejection(sentence("GPRMC,123519,A,,,,,,,290223,,")); // 2023 is not a leap year
    rejection(sentence("GPRMC,123519,A,,,,,,,231394,,"));
    rejection(sentence("GPRMC,123519,X,,,,,,,230394,,"));
    // GGA quality, satellites, altitude.
    rejection(sentence("GPGGA,123519,4807.038,N,01131.000,E,Q,08,0.9,545.4,M,46.9,M,,"));
    rejection(sentence("GPGGA,123519,4807.038,N,01131.000,E,1,-8,0.9,545.4,M,46.9,M,,"));
    rejection(sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,5e2,M,46.9,M,,"));
}
