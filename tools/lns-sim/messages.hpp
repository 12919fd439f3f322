// Messages the simulated LNS reads and writes on the traffic connection (lns.md §7, §8), and the
// short --pretty descriptions of them.
#pragma once

#include "options.hpp"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <optional>
#include <string>

namespace lns_sim {

// Field of `object` by exact key, else by case-insensitive key; empty Var if absent.
Poco::Dynamic::Var field(const Poco::JSON::Object& object, const std::string& key);

// An integer field (JSON integer, or a float with an integral value that fits); nullopt if absent
// or not an integer.
std::optional<int64_t> int_field(const Poco::JSON::Object& object, const std::string& key);

// A string field; nullopt if absent or not a string.
std::optional<std::string> string_field(const Poco::JSON::Object& object, const std::string& key);

// GPS time in microseconds for a Unix time in seconds or microseconds (GPS − UTC = 18 s):
// unix_us - 315964800 s + 18 s.
int64_t gps_micros(double unix_seconds);
int64_t gps_from_unix_us(int64_t unix_us);

// Class B: the first ping slot starting at least `after_us` after `gps_us`. Ping slots open
// at k·128 s + 2.12 s (BEACON_RESERVED) + n·30 ms, n = 0..4095 (timing.md §8.1).
int64_t next_ping_slot_gps_us(int64_t gps_us, int64_t after_us);

struct Downlink {
    Poco::JSON::Object::Ptr message; // null if no downlink could be built
    std::string pretty;              // --pretty line (or why nothing was sent)
    std::string error;               // non-empty if no downlink was built
};

// The dnmsg answering the uplink `up` (updf or jreq) in options.downlink mode; `now_us` =
// Unix µs now.
Downlink build_dnmsg(const Options& options, const Poco::JSON::Object& up, int64_t diid,
                     int64_t now_us);

// {"msgtype":"timesync","txtime":<echo>,"gpstime":<GPS µs now>,"MuxTime":<UTC s now>}.
Poco::JSON::Object::Ptr build_timesync_reply(const Poco::Dynamic::Var& txtime, int64_t now_us);

// ChirpStack's time transfer after an uplink, shape 4: {"msgtype":"timesync","xtime":<the
// uplink's xtime>,"gpstime":<GPS µs now>}; null if the uplink has no upinfo.xtime.
Poco::JSON::Object::Ptr build_xtime_transfer(const Poco::JSON::Object& up, int64_t now_us);

// TTS time transfer, shape 3: {"msgtype":"timesync","gpstime":0,"MuxTime":now}.
Poco::JSON::Object::Ptr build_time_transfer(double now);

// --pretty line for a message received from the gateway.
std::string describe_received(const Poco::JSON::Object& message);

} // namespace lns_sim
