#include "messages.hpp"

#include "output.hpp"
#include "regions.hpp"

#include <Poco/String.h>

#include <cmath>
#include <cstdio>
#include <limits>

namespace lns_sim {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

constexpr uint64_t kCounterMask = 0xFFFFFFFFFFFFULL; // xtime bits 47..0
constexpr const char* kDevEui = "01-01-01-01-01-01-01-01";

Object::Ptr object_field(const Object& object, const std::string& key)
{
    const Var value = field(object, key);
    if (!value.isEmpty() && value.type() == typeid(Object::Ptr)) {
        return value.extract<Object::Ptr>();
    }
    return nullptr;
}

std::string hex_le32(uint32_t value)
{
    char text[9];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x", value & 0xFF, (value >> 8) & 0xFF,
                  (value >> 16) & 0xFF, (value >> 24) & 0xFF);
    return text;
}

std::string hex_le16(uint32_t value)
{
    char text[5];
    std::snprintf(text, sizeof text, "%02x%02x", value & 0xFF, (value >> 8) & 0xFF);
    return text;
}

std::string mhz(int64_t hz)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.3f MHz", static_cast<double>(hz) / 1e6);
    return text;
}

std::string window_text(const char* name, int dr, int64_t freq)
{
    return std::string(name) + " " + mhz(freq) + " DR" + std::to_string(dr);
}

// A small fixed LoRaWAN downlink: unconfirmed data down to the uplink's DevAddr (MHDR 0x60,
// FCtrl 0, FCnt = diid, no FPort, MIC aabbccdd), or a 17-byte join-accept-like frame for jreq.
std::string downlink_pdu(const Object& up, const std::string& msgtype, int64_t diid)
{
    if (msgtype == "jreq") {
        return "20"
               "00112233445566778899aabbccddeeff";
    }
    const auto devaddr = static_cast<uint32_t>(int_field(up, "DevAddr").value_or(0));
    return "60" + hex_le32(devaddr) + "00" + hex_le16(static_cast<uint32_t>(diid) & 0xFFFF) +
           "aabbccdd";
}

std::string number_text(const Var& value)
{
    return value.isEmpty() ? std::string("?") : to_json(value);
}

} // namespace

Var field(const Object& object, const std::string& key)
{
    if (object.has(key)) {
        return object.get(key);
    }
    for (const auto& [name, value] : object) {
        if (Poco::icompare(name, key) == 0) {
            return value;
        }
    }
    return Var();
}

std::optional<int64_t> int_field(const Object& object, const std::string& key)
{
    const Var value = field(object, key);
    try {
        if (value.isEmpty() || value.isString() || value.isBoolean()) {
            return std::nullopt;
        }
        if (value.isInteger()) {
            if (value.isSigned()) {
                return value.convert<Poco::Int64>();
            }
            const auto unsigned_value = value.convert<Poco::UInt64>();
            if (unsigned_value > static_cast<Poco::UInt64>(std::numeric_limits<int64_t>::max())) {
                return std::nullopt;
            }
            return static_cast<int64_t>(unsigned_value);
        }
        if (value.isNumeric()) {
            const double number = value.convert<double>();
            if (std::isfinite(number) && std::trunc(number) == number && std::fabs(number) < 9e18) {
                return static_cast<int64_t>(number);
            }
        }
    } catch (const Poco::Exception&) {
    }
    return std::nullopt;
}

std::optional<std::string> string_field(const Object& object, const std::string& key)
{
    const Var value = field(object, key);
    if (!value.isEmpty() && value.isString()) {
        return value.convert<std::string>();
    }
    return std::nullopt;
}

int64_t gps_micros(double unix_seconds)
{
    return gps_from_unix_us(static_cast<int64_t>(std::llround(unix_seconds * 1e6)));
}

int64_t gps_from_unix_us(int64_t unix_us)
{
    return unix_us - 315964800LL * 1000000 + 18LL * 1000000;
}

int64_t next_ping_slot_gps_us(int64_t gps_us, int64_t after_us)
{
    constexpr int64_t kPeriod = 128'000'000;
    constexpr int64_t kReserved = 2'120'000;
    constexpr int64_t kSlot = 30'000;
    constexpr int64_t kLastSlot = 4095;
    const int64_t t = gps_us + after_us;
    int64_t period = t / kPeriod;
    const int64_t offset = t - period * kPeriod;
    int64_t slot = offset <= kReserved ? 0 : (offset - kReserved + kSlot - 1) / kSlot;
    if (slot > kLastSlot) {
        ++period; // in the beacon guard: the first slot of the next period
        slot = 0;
    }
    return period * kPeriod + kReserved + slot * kSlot;
}

Downlink build_dnmsg(const Options& options, const Object& up, int64_t diid, int64_t now_us)
{
    const double now = static_cast<double>(now_us) / 1e6;
    Downlink result;
    const RegionPlan& plan = *options.plan;
    const std::string msgtype = string_field(up, "msgtype").value_or("");
    const auto dr = int_field(up, "DR");
    const auto freq = int_field(up, "Freq");
    const Object::Ptr upinfo = object_field(up, "upinfo");
    const auto xtime = upinfo ? int_field(*upinfo, "xtime") : std::nullopt;
    const int64_t rctx = upinfo ? int_field(*upinfo, "rctx").value_or(0) : 0;
    const DownlinkMode mode = options.downlink;

    if (mode != DownlinkMode::ClassC && mode != DownlinkMode::ClassB && !xtime) {
        result.error = "uplink without upinfo.xtime";
    }
    std::optional<Window> rx1;
    if (mode == DownlinkMode::Rx1 || mode == DownlinkMode::Rx1Rx2 || mode == DownlinkMode::Tts) {
        if (!dr || !freq) {
            result.error = "uplink without DR or Freq";
        } else if (!(rx1 = rx1_window(plan, static_cast<int>(*dr), static_cast<uint32_t>(*freq),
                                      options.rx1_dr_offset))) {
            result.error = "uplink DR " + std::to_string(*dr) + " / Freq " + std::to_string(*freq) +
                           " has no RX1 window in " + std::string(plan.name);
        }
    }
    if (!result.error.empty()) {
        result.pretty = "no downlink for " + msgtype + ": " + result.error;
        return result;
    }
    const int64_t up_xtime = xtime.value_or(0);

    Object::Ptr dn = new_object();
    dn->set("msgtype", "dnmsg");
    dn->set("DevEui", kDevEui);
    dn->set("dC", mode == DownlinkMode::ClassC ? 2 : mode == DownlinkMode::ClassB ? 1 : 0);
    dn->set("diid", diid);
    dn->set("pdu", downlink_pdu(up, msgtype, diid));
    dn->set("priority", 1);
    const std::string prefix = "downlink diid " + std::to_string(diid) + " ";
    switch (mode) {
    case DownlinkMode::None:
        return result;
    case DownlinkMode::Rx1:
        dn->set("RxDelay", 1);
        dn->set("RX1DR", rx1->dr);
        dn->set("RX1Freq", rx1->freq);
        dn->set("xtime", up_xtime);
        dn->set("rctx", rctx);
        result.pretty = prefix + window_text("RX1", rx1->dr, rx1->freq) + " at xtime+1s";
        break;
    case DownlinkMode::Rx2:
        dn->set("RxDelay", 1);
        dn->set("RX2DR", plan.rx2_dr);
        dn->set("RX2Freq", plan.rx2_freq);
        dn->set("xtime", up_xtime);
        dn->set("rctx", rctx);
        result.pretty = prefix + window_text("RX2", plan.rx2_dr, plan.rx2_freq) + " at xtime+2s";
        break;
    case DownlinkMode::Rx1Rx2:
        dn->set("RxDelay", 1);
        dn->set("RX1DR", rx1->dr);
        dn->set("RX1Freq", rx1->freq);
        dn->set("RX2DR", plan.rx2_dr);
        dn->set("RX2Freq", plan.rx2_freq);
        dn->set("xtime", up_xtime);
        dn->set("rctx", rctx);
        result.pretty = prefix + window_text("RX1", rx1->dr, rx1->freq) + " at xtime+1s, " +
                        window_text("RX2", plan.rx2_dr, plan.rx2_freq) + " at xtime+2s";
        break;
    case DownlinkMode::ClassC:
        dn->set("RX2DR", plan.rx2_dr);
        dn->set("RX2Freq", plan.rx2_freq);
        dn->set("rctx", rctx);
        result.pretty =
            prefix + "class C " + window_text("RX2", plan.rx2_dr, plan.rx2_freq) + " now";
        break;
    case DownlinkMode::ClassB: {
        // As ChirpStack: DR, Freq, gpstime, and the uplink's xtime/rctx as context. The ping
        // slot is computed from the uplink's gpstime (a GPS gateway) or from GPS now.
        const int64_t up_gps = upinfo ? int_field(*upinfo, "gpstime").value_or(0) : 0;
        const int64_t base = up_gps > 0 ? up_gps : gps_from_unix_us(now_us);
        const int64_t gpstime = next_ping_slot_gps_us(base, 3'000'000);
        const auto epoch = static_cast<uint64_t>(gpstime / 128'000'000);
        const auto devaddr = static_cast<uint32_t>(int_field(up, "DevAddr").value_or(0));
        // US915/AU915 hop the ping slot channel by (DevAddr + beacon epoch) mod 8 (RP002).
        const uint32_t freq = plan.beacon_freqs.empty()
                                  ? plan.rx2_freq
                                  : plan.beacon_freqs[(devaddr + epoch) % plan.beacon_freqs.size()];
        dn->set("DR", plan.beacon_dr);
        dn->set("Freq", freq);
        dn->set("gpstime", gpstime);
        if (xtime) {
            dn->set("xtime", up_xtime);
        }
        dn->set("rctx", rctx);
        char text[64];
        std::snprintf(text, sizeof text, " at gpstime %lld (+%.3f s)",
                      static_cast<long long>(gpstime), static_cast<double>(gpstime - base) / 1e6);
        result.pretty = prefix + "class B " + window_text("ping slot", plan.beacon_dr, freq) + text;
        break;
    }
    case DownlinkMode::Tts: {
        // TTS keeps the session bits of the uplink and writes (target - 1 s) into bits 47..0,
        // target = uplink + RxDelay (lns.md §3.2).
        const auto counter = static_cast<uint64_t>(up_xtime);
        const uint64_t target = (counter & kCounterMask) + 1000000;
        const uint64_t tx = (counter & ~kCounterMask) | ((target - 1000000) & kCounterMask);
        dn->set("rctx", rctx);
        dn->set("MuxTime", now);
        dn->set("RxDelay", 1);
        dn->set("RX1DR", rx1->dr);
        dn->set("RX1Freq", rx1->freq);
        dn->set("xtime", static_cast<Poco::Int64>(tx));
        result.pretty = prefix + window_text("RX1", rx1->dr, rx1->freq) + " at xtime+1s (TTS)";
        break;
    }
    }
    if (mode != DownlinkMode::Tts) {
        dn->set("MuxTime", now);
    }
    result.message = dn;
    return result;
}

Object::Ptr build_timesync_reply(const Var& txtime, int64_t now_us)
{
    Object::Ptr reply = new_object();
    reply->set("msgtype", "timesync");
    reply->set("txtime", txtime);
    reply->set("gpstime", gps_from_unix_us(now_us));
    reply->set("MuxTime", static_cast<double>(now_us) / 1e6);
    return reply;
}

Object::Ptr build_xtime_transfer(const Object& up, int64_t now_us)
{
    const Object::Ptr upinfo = object_field(up, "upinfo");
    const auto xtime = upinfo ? int_field(*upinfo, "xtime") : std::nullopt;
    if (!xtime) {
        return nullptr;
    }
    Object::Ptr transfer = new_object();
    transfer->set("msgtype", "timesync");
    transfer->set("xtime", *xtime);
    transfer->set("gpstime", gps_from_unix_us(now_us));
    return transfer;
}

Object::Ptr build_time_transfer(double now)
{
    Object::Ptr transfer = new_object();
    transfer->set("msgtype", "timesync");
    transfer->set("gpstime", 0);
    transfer->set("MuxTime", now);
    return transfer;
}

std::string describe_received(const Object& message)
{
    const std::string msgtype = string_field(message, "msgtype").value_or("");
    const Object::Ptr upinfo = object_field(message, "upinfo");
    const auto dr = int_field(message, "DR");
    const auto freq = int_field(message, "Freq");
    std::string radio;
    if (dr) {
        radio += " DR" + std::to_string(*dr);
    }
    if (freq) {
        radio += " " + mhz(*freq);
    }
    if (upinfo) {
        radio += " rssi " + number_text(field(*upinfo, "rssi"));
    }
    char text[160];
    if (msgtype == "updf") {
        std::snprintf(text, sizeof text, "uplink updf DevAddr %08X FCnt %lld",
                      static_cast<uint32_t>(int_field(message, "DevAddr").value_or(0)),
                      static_cast<long long>(int_field(message, "FCnt").value_or(-1)));
        return text + radio;
    }
    if (msgtype == "jreq") {
        return "uplink jreq DevEui " + string_field(message, "DevEui").value_or("?") + " JoinEui " +
               string_field(message, "JoinEui").value_or("?") + radio;
    }
    if (msgtype == "propdf") {
        return "uplink propdf" + radio;
    }
    if (msgtype == "dntxed") {
        std::snprintf(text, sizeof text, "dntxed diid %lld",
                      static_cast<long long>(int_field(message, "diid").value_or(-1)));
        std::string line = text + radio;
        if (const auto xtime = int_field(message, "xtime")) {
            std::snprintf(text, sizeof text, " xtime 0x%llx",
                          static_cast<unsigned long long>(*xtime));
            line += text;
        }
        return line;
    }
    if (msgtype == "version") {
        return "version station " + string_field(message, "station").value_or("?") + " model " +
               string_field(message, "model").value_or("?") + " protocol " +
               number_text(field(message, "protocol")) + " features '" +
               string_field(message, "features").value_or("") + "'";
    }
    if (msgtype == "timesync") {
        return "timesync request txtime " + number_text(field(message, "txtime"));
    }
    std::string json = to_json(Var(Object::Ptr(new Object(message))));
    if (json.size() > 200) {
        json = json.substr(0, 200) + "...";
    }
    return "message " + (msgtype.empty() ? std::string("(no msgtype)") : msgtype) + " " + json;
}

} // namespace lns_sim
