#pragma once
// The LoRa Basics Station LNS protocol as pure functions: JSON text <-> structs, no I/O.
// Facts and rule numbers refer to shared/spec/lns.md. Every decoder reports a malformed
// input as `false` plus a one-line reason naming the field; it never throws.
#include "forwarder.pb.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace forwarder::lns {

// --- EUIs (§2.2, §2.3) ------------------------------------------------------------------

// ID6 exactly as the reference station writes it: "b827:ebff:fe61:51cf", "::1", "4::", "80::fd46".
std::string format_id6(uint64_t eui);
// "EF-CD-AB-89-67-45-23-01": upper case, dash-separated, most significant byte first.
std::string format_eui_dashed(uint64_t eui);
// Accepts ID6 (optionally with a lower-case "word-" prefix), dashed or colon 8x2 hex, plain
// hex digits, case-insensitive (rt_readEui rules of §2.3). The whole text must be consumed.
// Like the reference, 0, 1 or 4..7 separators mean "concatenate the hex digits", so a 6-group
// MAC such as "3C:4D:A1:B2:C3:D4" is the 48-bit value 0x3C4DA1B2C3D4 (TTS rejects it).
bool parse_eui(std::string_view text, uint64_t& eui);

// --- Hex byte strings (§2.4) ------------------------------------------------------------

// Upper-case hex without separators.
std::string format_hex(std::string_view bytes);
// Either case, even length, no separators; false (and `bytes` empty) otherwise.
bool parse_hex(std::string_view text, std::string& bytes);

// --- Discovery (§4) -----------------------------------------------------------------------

std::string encode_router_info_request(uint64_t router_eui); // {"router":"<ID6>"}
struct RouterInfo {
    std::string router, muxs, uri, error; // error non-empty: rejected
};
// False (with `error`) only when the text is not a JSON object or `uri` is not a string.
// `out.error` is the server's `error` text ("server error without text" if it sent the key
// with an empty or non-string value). `uri` is not validated here: check it with
// parse_ws_uri(uri, true, ...) (missing -> ""). `router`/`muxs` are informational.
bool decode_router_info(std::string_view json, RouterInfo& out, std::string& error);
// Splits "ws[s]://host:port[/path]"; the port is mandatory. `require_path` for muxs URIs.
// Surrounding whitespace is trimmed; at most 127 characters; scheme case-insensitive; IPv6
// hosts in brackets. Without `require_path` a path is still accepted and returned (the
// reference refuses one in tc.uri; the caller decides).
struct WsUri {
    bool tls = false;
    std::string host; // without brackets for IPv6
    uint16_t port = 0;
    std::string path; // "" or starting with '/'
};
bool parse_ws_uri(std::string_view text, bool require_path, WsUri& out, std::string& error);

// --- Regions and router_config (§8.1) ----------------------------------------------------

enum class Region {
    unknown,
    EU868,
    US915,
    AU915,
    KR920,
    AS923,
    IN865,
    RU864,
    CN470,
    CN779,
    EU433,
    IL915,
    MA869,
    ISM2400
};
// Maps every name servers send (EU863, US902, AS923, AS923-1, AS923JP, IN865, ...).
// Case-insensitive; also the TTS band ids ("EU_863_870", ...). Unknown -> Region::unknown.
// AS923-4 (and IL915) is Region::IL915; the other AS923 sub-bands are Region::AS923.
Region region_from_name(std::string_view name);
const char* region_name(Region region); // the family: "EU868", "US915", "AS923", ..., "unknown"
// EIRP limit used when router_config has no max_eirp (reference region defaults where it has
// them; for the others and for unknown regions a conservative value, 14 dBm if unknown).
double default_max_eirp(Region region);

struct DataRate {
    int sf = -1;    // 7..12 LoRa (5..12 accepted), 0 = FSK 50 kbit/s, < 0 undefined
    int bw_khz = 0; // 125, 250, 500 for LoRa
    bool dnonly = false;
};

struct Beaconing {
    int dr = 0;
    std::array<int, 3> layout{}; // time offset, infodesc offset, beacon length
    std::vector<uint64_t> freqs;
};

// Limits of an LNS-given `bcning` (the core's beacon encoder accepts the same layouts).
constexpr size_t kMaxBeaconFrequencies = 8;
constexpr int kMaxBeaconLength = 32;

struct RouterConfig {
    std::string region_text; // as sent
    Region region = Region::unknown;
    // The canonical name of the band, as RadioConfig.region carries it (the names of the
    // core's region table, core/support/region.hpp): "EU868", "US915", "AU915", "KR920",
    // "AS923-1".."AS923-4", "IL915" (sent as such), "IN865", "RU864", "CN470", and "CN779",
    // "EU433", "MA869", "ISM2400"; "" when the region is unknown. A plain "AS923" (TTS, CS
    // send it for every AS923 group) is resolved to its group from the channel plan (default
    // channels 923.2/921.4/916.6/917.3 MHz), AS923-1 with a warning when the plan does not
    // tell.
    std::string region_canonical;
    // null, absent and [] all mean "no filter" (nullopt).
    std::optional<std::vector<uint32_t>> net_ids;                        // nullopt = accept all
    std::optional<std::vector<std::pair<uint64_t, uint64_t>>> join_euis; // inclusive ranges
    std::string hwspec;
    uint64_t freq_min = 0, freq_max = 0;
    std::array<DataRate, 16> drs{};
    std::optional<double> max_eirp;
    // Class B beaconing (`bcning`), only when valid: a LoRa DR defined in `drs`, a layout the
    // LoRaWAN beacon format allows (time_off >= 1, infodesc_off == time_off + 6,
    // infodesc_off + 9 <= length <= 32) and 1..8 non-zero frequencies. An invalid or
    // malformed `bcning` gives a warning and no beaconing (the rest of the message is used).
    // When set, every RadioConfig in `radios` carries it as `beaconing`.
    std::optional<Beaconing> beaconing;
    // One per sx1301_conf entry, `radio` = entry index. Channel plan: rf chains, multi-SF,
    // std and FSK channels with absolute frequencies; tx range and max EIRP filled in.
    // Disabled chains are skipped; rf_chains[i] is radio_i up to the last enabled radio (a
    // disabled radio below it stays as a placeholder with centre 0). max_eirp_dbm is
    // max_eirp, or default_max_eirp(region) when absent; region is region_canonical.
    std::vector<forwarder::v1::RadioConfig> radios;
    bool json_join_eui_key = false; // the server wrote "JoinEUI" (informational, §12)
    // Things that were accepted but not (fully) used, for the log: unknown region, a chain
    // enabled without radio/IF (e.g. CS `chan_FSK` with only `enable`: needs local config),
    // chan_Lora_std parameters taken from the DR table, an unusable bcning, ...
    std::vector<std::string> warnings;
};

// Data rate index for an uplink's modulation: the lowest index whose (sf, bw) matches (FSK:
// the lowest index with sf 0), skipping dnonly entries. -1 if none.
int find_uplink_dr(const RouterConfig& config, const forwarder::v1::Modulation& modulation);
// The modulation of DR `dr` for a downlink; false if undefined.
bool dr_modulation(const RouterConfig& config, int dr, forwarder::v1::Modulation& out);

// --- Uplinks (§7.2 - §7.5) ---------------------------------------------------------------

struct UplinkMeta {
    int dr = 0;
    uint64_t freq_hz = 0;
    double ref_time = 0; // RefTime (0 = no MuxTime seen)
    uint32_t rctx = 0;
    uint64_t xtime = 0;   // never 0 (rule 3)
    uint64_t gpstime = 0; // 0 = unknown
    int64_t fts = -1;     // fine timestamp ns, -1 = none
    double rssi = 0;      // printed as an integer
    double snr = 0;
    double rxtime = 0; // UTC seconds
};

// Encodes one received frame as jreq / rejoin / updf / propdf (and dndf / jacc when
// `forward_heard_downlinks`), applying the NetID and JoinEUI filters of `config`.
// Returns false with `why` when the frame is dropped (too short, bad MHDR, filtered, xtime 0,
// dr outside 0..15...). The NetID filter compares the NwkID of the DevAddr's own type
// (LoRaWAN NetID types 0..7, see lora_frame.hpp), not the reference's 7-bit rule; rejoin
// type 1 is filtered by JoinEui, types 0/2 by the NetID they carry.
bool encode_uplink(std::string_view phy_payload, const UplinkMeta& meta, const RouterConfig& config,
                   bool forward_heard_downlinks, std::string& json, std::string& why);

// --- Gateway -> LNS messages ---------------------------------------------------------------

struct VersionInfo {
    std::string station;  // e.g. "forwarder 0.1.0"
    std::string firmware; // "" -> null
    std::string package;  // "" -> null
    std::string model;
    std::string features; // space-separated, e.g. "prod"
};
std::string encode_version(const VersionInfo& info);

struct TxReport { // what was actually transmitted, for dntxed (§7.6)
    int64_t diid = 0;
    uint64_t dev_eui = 0;
    int dr = 0;
    uint64_t freq_hz = 0;
    uint32_t rctx = 0;
    uint64_t xtime = 0;
    double txtime = 0; // gateway monotonic seconds
    uint64_t gpstime = 0;
};
std::string encode_dntxed(const TxReport& report);
std::string encode_timesync_request(int64_t txtime_us); // integer µs (rule 2)
std::string encode_getxtime_reply(double mux_time, double ustime, double utc_time,
                                  const std::vector<uint64_t>& xtimes);

// --- LNS -> gateway messages ---------------------------------------------------------------

struct Window {
    int dr = 0;
    uint64_t freq_hz = 0;
};

// A dnmsg, a dnframe, or one entry of a dnsched.
// dnframe: rx1 = DR/Freq, rx_delay_s 0, device_class 2 if `asap` else 0.
// dnsched entry: dev_eui 0 (no dntxed), rx1 = DR/Freq, rx_delay_s 0, device_class 1 for an
// ontime/gpstime entry, 0 for an xtime entry.
struct Downlink {
    std::string msgtype;  // "dnmsg", "dnframe" or "dnsched"
    uint64_t dev_eui = 0; // 0 suppresses dntxed
    int device_class = 0; // dC: 0 A, 1 B, 2 C
    int64_t diid = 0;
    std::string pdu;           // bytes (decoded from hex)
    int rx_delay_s = 1;        // 0 is mapped to 1; 0 when `xtime` is the absolute TX time
    std::optional<Window> rx1; // RX1DR/RX1Freq (or DR/Freq)
    std::optional<Window> rx2; // RX2DR/RX2Freq; RX2Freq 0 = no RX2
    std::optional<uint64_t> xtime;
    std::optional<uint32_t> rctx;
    std::optional<uint64_t> gpstime; // class B absolute GPS µs (ontime converted)
    uint32_t priority = 0;
    uint32_t preamble = 0; // 0 = default
    bool addcrc = false;
    bool asap = false; // dnframe "asap"
};

struct DownlinkSchedule {
    std::vector<Downlink> entries;
};

struct TimeSync {                      // all four shapes (§8.5)
    std::optional<int64_t> txtime_us;  // a float echo (TTS) is rounded to the nearest µs
    std::optional<int64_t> gpstime_us; // 0 on the wire ("nothing", shape 3) -> nullopt
    std::optional<uint64_t> xtime;     // 0 on the wire -> nullopt
};

struct GetXtime {};

struct RunCmd {
    std::string command;
    std::vector<std::string> arguments;
};

struct ServerError {
    std::string text;
};

struct Ignored { // unknown msgtype
    std::string msgtype;
};

using Message = std::variant<RouterConfig, Downlink, DownlinkSchedule, TimeSync, GetXtime, RunCmd,
                             ServerError, Ignored>;

struct Decoded {
    Message message;
    std::optional<double> mux_time; // MuxTime, if the message carried one (§3.4)
};

// Decodes one text frame. False (with a one-line `error` "<msgtype>: <field>: <problem>") for
// invalid JSON, a missing msgtype, or a malformed known message; unknown fields are
// ignored; unknown msgtypes give Ignored. Integers are exact 64-bit (rule 1); an integral
// float (up to 2^53) is accepted where an integer is required, a fractional one is not.
// Keys: exact spelling first, then a case-insensitive match; null counts as absent.
// dnmsg checks beyond presence: RX1/RX2 pairs complete, at least one window, dC 0 needs
// xtime, dC 1 needs gpstime and an RX1/DR window, dC 2 needs RX2 or xtime. DR lookups and
// frequency-range checks happen in the caller.
bool decode_message(std::string_view json, Decoded& out, std::string& error);

} // namespace forwarder::lns
