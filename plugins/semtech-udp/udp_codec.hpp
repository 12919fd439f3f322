#pragma once
// The Semtech UDP packet forwarder protocol (GWMP, version 2) as pure functions: datagrams and
// JSON text <-> structs, no I/O. Facts and rule numbers refer to shared/spec/semtech-udp.md.
//
// Encoders follow §9.4 (strict types, the sx1302 forwarder's key order and number formats).
// Decoders throw ParseError, whose message names the offending field ("txpk.datr: ...",
// "rxpk[1].rssi: ..."). The gateway-side decoder (parse_pull_resp) is tolerant (§9.5); the
// server-side decoders (parse_push_data, parse_tx_ack) are as strict as TTS and ChirpStack.
#include "forwarder.pb.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::udp {

constexpr uint8_t kProtocolVersion = 2;

// GPS time runs ahead of UTC by this many seconds (since 2017-01-01).
constexpr int64_t kGpsUtcLeapSeconds = 18;
// 1980-01-06T00:00:00Z, the GPS epoch, as Unix time.
constexpr int64_t kGpsEpochUnixSeconds = 315964800;

// Largest LoRa / FSK payload.
constexpr size_t kMaxPayload = 255;

// Thrown by the decoders; the message names the field.
class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// --- Binary framing (§2) -------------------------------------------------------------------

enum class PacketType : uint8_t {
    push_data = 0,
    push_ack = 1,
    pull_data = 2,
    pull_resp = 3,
    pull_ack = 4,
    tx_ack = 5
};

struct Header {
    uint8_t version = kProtocolVersion;
    uint16_t token = 0;
    PacketType type = PacketType::push_data;
};

// nullopt when shorter than 4 bytes, version not 1 or 2, or type > 5. Token is bytes 1..2 as a
// big-endian uint16 (echoed verbatim anyway).
std::optional<Header> parse_header(std::string_view datagram);

// Length of the binary header before the JSON body: 12 for PUSH_DATA / PULL_DATA / TX_ACK
// (they carry the EUI), 4 for the others.
size_t header_size(PacketType type);

// Gateway -> server packets. EUI big-endian on the wire.
std::string encode_push_data(uint16_t token, uint64_t eui, std::string_view json);
std::string encode_pull_data(uint16_t token, uint64_t eui);
// `json` empty = the 12-byte success ack.
std::string encode_tx_ack(uint16_t token, uint64_t eui, std::string_view json);

// Server -> gateway packets (for our test servers and tools).
std::string encode_ack(PacketType type, uint16_t token, uint8_t version = kProtocolVersion);
std::string encode_pull_resp(uint16_t token, std::string_view json);

// EUI (bytes 4..11) of a PUSH_DATA / PULL_DATA / TX_ACK. nullopt if the datagram is shorter
// than 12 bytes, its header does not parse, or it is of another type (those carry no EUI).
std::optional<uint64_t> packet_eui(std::string_view datagram);

// --- Upstream JSON (§3) --------------------------------------------------------------------

// One "rxpk" object, keys in the sx1302 forwarder's order: jver, tmst, time, tmms, ftime, chan,
// rfch, freq, mid, stat, modu, datr, codr, rssis, lsnr, foff, rssi, size, data, then "brd"
// (= uplink.radio) when include_board.
// * tmst = count_us; time and tmms only with gps_time_us (time = UTC, RFC 3339 with 6 fraction
//   digits and "Z", GPS minus kGpsUtcLeapSeconds; omitted beyond year 9999); tmms = GPS ms.
// * ftime only with fine_timestamp_ns. freq in MHz with 6 decimals (exact).
// * stat 1 / -1 / 0 for CRC_OK / CRC_BAD / CRC_NONE; unspecified counts as "no CRC" (0).
// * LoRa: modu "LORA", datr "SF7BW125", codr (omitted when unspecified), rssis, lsnr (one
//   decimal) and foff. FSK: modu "FSK", datr = bit rate as a number, none of those four.
// * rssi / rssis rounded and clamped to int16; non-finite floats count as 0.
// * data: padded base64.
// An uplink without modulation (a caller bug) throws std::invalid_argument naming the field.
std::string rxpk_json(const forwarder::v1::Uplink& uplink, bool include_board);

struct Stat {
    int64_t unix_time_s = 0;                   // -> "time":"YYYY-MM-DD hh:mm:ss GMT"
    std::optional<double> latitude, longitude; // 5 decimals; both or neither are emitted
    std::optional<int32_t> altitude_m;         // emitted only together with the position
    uint32_t rxnb = 0, rxok = 0, rxfw = 0;
    double ackr = 0; // percent, one decimal
    uint32_t dwnb = 0, txnb = 0;
    std::optional<double> temperature_c; // "temp", one decimal
};
// The "stat" object, keys in the reference order: time, lati, long, alti, rxnb, rxok, rxfw,
// ackr, dwnb, txnb, temp.
std::string stat_json(const Stat& stat);

// PUSH_DATA bodies {"rxpk":[...],"stat":{...}}. The rxpk list is split so that each body stays
// <= max_json bytes; a single rxpk that is too large on its own still gets its own body. The stat
// goes in the first body: together with the first rxpk(s) when they fit, otherwise alone. Empty
// vector only if both are empty. rxpk order is kept. `rxpk_counts`, if given, receives how many
// rxpk each body holds.
std::vector<std::string> push_data_bodies(const std::vector<std::string>& rxpk_objects,
                                          const std::string& stat_object, size_t max_json = 1400,
                                          std::vector<size_t>* rxpk_counts = nullptr);

// --- Downstream JSON (§4) ------------------------------------------------------------------

struct Txpk {
    // payload, frequency_hz, modulation, power_dbm, invert_iq, preamble (resolved), crc,
    // implicit_header, rf_chain, timing. id, radio and priority are left 0 for the caller.
    forwarder::v1::TxRequest request;
    std::optional<uint32_t> board;   // brd
    std::optional<uint32_t> antenna; // ant
    bool power_given = false;        // powe present (absent: power_dbm 0, spec §4)
    std::vector<std::string> warnings;
};

// A PULL_RESP body {"txpk":{...}} -> Txpk. Tolerant per §9.5:
// * timing: imme (true) > tmst > tmms; one of them is required, "imme":false alone is an error.
// * freq (MHz, rounded to the nearest Hz), modu (case-insensitive LORA / FSK), datr (string or
//   number), data (base64, padding optional, at most 255 bytes) are required; LoRa needs codr
//   (aliases 2/3 -> 4/6, 1/2 and 2/4 -> 4/8), FSK needs fdev (Hz).
// * rfch missing -> 0 with a warning. size missing -> warning only (the data length is
//   authoritative); size different from the data length -> warning.
// * prea: defaults LoRa 8 / FSK 5, raised to the minimum LoRa 6 / FSK 3.
// * ncrc true -> crc false; ipol -> invert_iq; nhdr -> implicit_header; powe -> power_dbm.
// * booleans may also be written 0 / 1; integers may be written as integral floats.
// * brd / ant accepted; unknown keys ignored.
Txpk parse_pull_resp(std::string_view json);

// --- TX_ACK (§5, §9.1, §9.6) ---------------------------------------------------------------

// The GWMP error code for a scheduler verdict: OK -> "NONE"; DUTY_CYCLE, CHANNEL_BUSY,
// DWELL_TIME, QUEUE_FULL -> "COLLISION_PACKET"; RADIO_ERROR, CANCELLED, unspecified (and any
// unknown value) -> "UNKNOWN"; the others keep their name.
const char* tx_ack_error(forwarder::v1::TxOutcome outcome);

// TX_ACK body: "" for plain success; {"txpk_ack":{"error":"NONE","warn":"TX_POWER","value":N}}
// for success with lowered power (N = the power used, rounded down); otherwise
// {"txpk_ack":{"error":"<CODE>"}}. A non-finite lowered power counts as not given.
std::string tx_ack_json(forwarder::v1::TxOutcome outcome, std::optional<float> lowered_power_dbm);

// --- Server-side decoding (test servers, tools, fuzzer) ------------------------------------

struct PushData {
    std::vector<forwarder::v1::Uplink> uplinks;
    std::optional<Stat> stat;
};
// A PUSH_DATA body -> its rxpk as Uplinks and its stat, typed strictly like TTS / ChirpStack
// (§3): integer keys must be JSON integers in their type's range (a fractional rssi fails),
// size <= 255, stat.time exactly "YYYY-MM-DD hh:mm:ss GMT" (or UTC), modu exactly "LORA" or
// "FSK", base64 with padding. Required: rxpk tmst, freq, modu, datr, data; stat rxnb, rxok,
// rxfw, ackr, dwnb, txnb. radio = brd, count_us = tmst, gps_time_us = tmms * 1000 (to the µs
// from "time" when that agrees with tmms to the ms), crc from stat (other values = no CRC).
// lati / long / ackr must be in range ([-90, 90], [-180, 180], [0, 100]).
PushData parse_push_data(std::string_view json);

struct TxAck {
    std::string error = "NONE";
    std::string warn;
    std::optional<double> value;
};
// A TX_ACK body -> (error, "NONE" when the body, txpk_ack or error is empty/absent; warn; value,
// a number or a numeric string).
TxAck parse_tx_ack(std::string_view json);

} // namespace forwarder::udp
