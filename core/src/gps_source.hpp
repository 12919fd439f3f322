#pragma once
// Where GPS time and position come from (timing.md §9): gpsd, an NMEA receiver on a tty, or
// the host clock. Each source owns one thread and reports a GpsFix per GPS second; the owner
// pairs it with the PPS edge its radio latched (GpsClock) and keeps the position for `stat`
// and beacons.
//
// Kinds:
//   * "gpsd"   - libgps client of gpsd at host:port. One fix per TPV report with mode >= 2 (2D
//                or 3D fix) and a time. Reconnects with backoff (1 s doubling to 30 s).
//   * "nmea"   - a receiver on a serial tty (raw, `baud`, 8N1). One fix per RMC with status
//                'A'; the position comes from RMC and the altitude from a recent GGA with a
//                fix. Reopens with the same backoff after an error or hangup.
//   * "system" - the host's UTC clock taken as GPS time (UTC + 18 s), one fix right after each
//                UTC second boundary, without position. Only as good as the host's NTP sync
//                (typically ms, never µs), and unrelated to any PPS edge: for demos and tests.
//
// Reports arrive at most once per GPS second (a later report for the same second is dropped)
// and are delivered, like log lines, on the source's thread. No callback runs after stop()
// returns. stop() takes at most ~400 ms provided callbacks return promptly: a thread stuck in
// a blocking libgps call (DNS lookup, TCP connect) is detached, silenced, and ends on its own.
// A callback may call stop() on its own source (the thread ends when the callback returns);
// start() from a callback is ignored.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace forwarder::core {

struct GpsFix {
    // GPS second (integer seconds since the GPS epoch) that began at the most recent PPS edge
    // before this report, i.e. the receiver's time of the report rounded down.
    std::optional<uint64_t> gps_second;
    uint64_t received_mono_us = 0; // host CLOCK_MONOTONIC (µs) when the report was read
    std::optional<double> latitude, longitude; // degrees, south/west negative
    std::optional<double> altitude_m;          // above mean sea level (HAE if gpsd has no MSL)
};

class GpsSource {
public:
    virtual ~GpsSource();
    virtual void start() = 0; // starts the thread; no-op while running
    virtual void stop() = 0;  // returns within 500 ms; start() may be called again afterwards
    virtual std::string describe() const = 0; // e.g. "gpsd 127.0.0.1:2947"
};

using GpsCallback = std::function<void(const GpsFix&)>;
// `level` uses the LogLevel numbering: 0 trace, 1 debug, 2 info, 3 warn, 4 error.
using GpsLogCallback = std::function<void(int level, const std::string&)>;

struct GpsSourceConfig {
    std::string kind;   // "gpsd", "nmea", "system"
    std::string device; // nmea: tty path
    uint32_t baud = 9600;
    std::string host = "127.0.0.1"; // gpsd
    uint16_t port = 2947;           // gpsd
};

// nullptr (after logging an error) for an unknown kind, an nmea source without a device or
// with an unsupported baud rate. `log` may be empty.
std::unique_ptr<GpsSource> make_gps_source(const GpsSourceConfig& config, GpsCallback callback,
                                           GpsLogCallback log);

} // namespace forwarder::core
