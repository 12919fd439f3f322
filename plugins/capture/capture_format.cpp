#include "capture_format.hpp"

#include "base64.hpp"
#include "json_text.hpp"
#include "lora_text.hpp"

#include <cstdio>

namespace forwarder::capture {

namespace {

const char* coding_rate_text(forwarder::v1::CodingRate rate)
{
    const char* name = support::coding_rate_name(rate);
    return name != nullptr ? name : "";
}

const char* crc_name(forwarder::v1::CrcStatus crc)
{
    switch (crc) {
    case forwarder::v1::CRC_OK:
        return "ok";
    case forwarder::v1::CRC_BAD:
        return "bad";
    case forwarder::v1::CRC_NONE:
        return "none";
    default:
        return "unknown";
    }
}

std::string fixed1(float value)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(value));
    return buf;
}

} // namespace

std::string format_uplink(const forwarder::v1::Uplink& up)
{
    char buf[512];
    std::string line;
    line.reserve(256 + up.payload().size() * 2);
    std::snprintf(buf, sizeof buf,
                  "{\"type\":\"uplink\",\"radio\":%u,\"count_us\":%u,\"freq\":%.6f,", up.radio(),
                  up.count_us(), static_cast<double>(up.frequency_hz()) / 1e6);
    line += buf;
    const auto& mod = up.modulation();
    if (mod.has_lora()) {
        std::snprintf(buf, sizeof buf, "\"modu\":\"LORA\",\"datr\":\"SF%uBW%u\",\"codr\":\"%s\",",
                      mod.lora().spreading_factor(), mod.lora().bandwidth_hz() / 1000,
                      coding_rate_text(mod.lora().coding_rate()));
        line += buf;
    } else if (mod.has_fsk()) {
        std::snprintf(buf, sizeof buf, "\"modu\":\"FSK\",\"datr\":%u,", mod.fsk().bitrate());
        line += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "\"rssi\":%.1f,\"rssis\":%.1f,\"lsnr\":%.1f,\"crc\":\"%s\",\"chan\":%u,"
                  "\"rfch\":%u,",
                  static_cast<double>(up.rssi_channel_dbm()),
                  static_cast<double>(up.rssi_signal_dbm()), static_cast<double>(up.snr_db()),
                  crc_name(up.crc()), up.if_chain(), up.rf_chain());
    line += buf;
    if (up.has_fine_timestamp_ns()) {
        line += "\"ftime\":" + std::to_string(up.fine_timestamp_ns()) + ",";
    }
    if (up.has_gps_time_us()) {
        line += "\"gps_time_us\":" + std::to_string(up.gps_time_us()) + ",";
    }
    line += "\"size\":" + std::to_string(up.payload().size()) + ",\"data\":\"" +
            support::base64_encode(up.payload()) + "\"}";
    return line;
}

std::string format_tx_result(const forwarder::v1::TxResult& r)
{
    // A provisional result (the frame is queued; the final one follows) has its own type.
    return std::string("{\"type\":\"") + (r.admitted() ? "tx_admitted" : "tx_result") +
           "\",\"id\":" + std::to_string(r.id()) + ",\"outcome\":\"" +
           forwarder::v1::TxOutcome_Name(r.outcome()) +
           "\",\"radio\":" + std::to_string(r.radio()) +
           ",\"count_us\":" + std::to_string(r.count_us()) +
           ",\"airtime_us\":" + std::to_string(r.airtime_us()) +
           // Where it went when not as requested: an alternative (RX2), retries (class C).
           (r.frequency_hz() != 0
                ? ",\"freq\":" + std::to_string(static_cast<double>(r.frequency_hz()) / 1e6)
                : std::string()) +
           (r.alternative() != 0 ? ",\"alternative\":" + std::to_string(r.alternative())
                                 : std::string()) +
           (r.retries_used() != 0 ? ",\"retries\":" + std::to_string(r.retries_used())
                                  : std::string()) +
           (r.power_limited() ? ",\"power_limited_dbm\":" + fixed1(r.power_dbm()) : std::string()) +
           ",\"requester\":\"" + support::json_escape(r.requester()) + "\",\"detail\":\"" +
           support::json_escape(r.detail()) + "\"}";
}

std::string format_stats(const forwarder::v1::GatewayStats& s)
{
    std::string line = "{\"type\":\"stats\",\"uptime_s\":" + std::to_string(s.uptime_s()) +
                       ",\"uplinks_received\":" + std::to_string(s.uplinks_received()) +
                       ",\"tx_requests\":" + std::to_string(s.tx_requests()) +
                       ",\"tx_ok\":" + std::to_string(s.tx_ok()) +
                       ",\"tx_rejected\":" + std::to_string(s.tx_rejected()) +
                       ",\"bus_dropped\":" + std::to_string(s.bus_dropped()) + ",\"counters\":{";
    bool first = true;
    for (const auto& c : s.counters()) {
        line += (first ? "\"" : ",\"") + support::json_escape(c.name()) +
                "\":" + std::to_string(c.value());
        first = false;
    }
    return line + "}}";
}

} // namespace forwarder::capture
