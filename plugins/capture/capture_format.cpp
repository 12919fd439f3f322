#include "capture_format.hpp"

#include <Poco/Base64Encoder.h>

#include <cstdio>
#include <sstream>

namespace forwarder::capture {

using forwarder::v1::CodingRate;

std::string json_escape(const std::string& text)
{
    std::string out;
    out.reserve(text.size() + 2);
    for (unsigned char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    return out;
}

std::string base64(const std::string& bytes)
{
    std::ostringstream out;
    Poco::Base64Encoder enc(out);
    enc.rdbuf()->setLineLength(0);
    enc.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    enc.close();
    return out.str();
}

namespace {

const char* coding_rate(CodingRate cr)
{
    switch (cr) {
    case forwarder::v1::CR_4_5:
        return "4/5";
    case forwarder::v1::CR_4_6:
        return "4/6";
    case forwarder::v1::CR_4_7:
        return "4/7";
    case forwarder::v1::CR_4_8:
        return "4/8";
    case forwarder::v1::CR_OFF:
        return "OFF";
    default:
        return "";
    }
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
                      coding_rate(mod.lora().coding_rate()));
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
            base64(up.payload()) + "\"}";
    return line;
}

std::string format_tx_result(const forwarder::v1::TxResult& r)
{
    return "{\"type\":\"tx_result\",\"id\":" + std::to_string(r.id()) + ",\"outcome\":\"" +
           forwarder::v1::TxOutcome_Name(r.outcome()) +
           "\",\"radio\":" + std::to_string(r.radio()) +
           ",\"count_us\":" + std::to_string(r.count_us()) +
           ",\"airtime_us\":" + std::to_string(r.airtime_us()) + ",\"requester\":\"" +
           json_escape(r.requester()) + "\",\"detail\":\"" + json_escape(r.detail()) + "\"}";
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
        line += (first ? "\"" : ",\"") + json_escape(c.name()) + "\":" + std::to_string(c.value());
        first = false;
    }
    return line + "}}";
}

} // namespace forwarder::capture
