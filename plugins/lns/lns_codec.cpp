// The LoRa Basics Station LNS protocol codec (shared/spec/lns.md). Parsing goes through
// Poco::JSON (integers stay exact Int64/UInt64); output is written by hand so that key
// spelling, order and number formats are exactly the reference's.
#include "lns_codec.hpp"
#include "text.hpp"

#include "json_read.hpp"
#include "json_text.hpp"
#include "lora_frame.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>

namespace forwarder::lns {
namespace {

using support::dev_addr_matches_net_id;
using support::FrameKind;
using support::hex_value;
using support::iequals;
using support::LoraFrame;
using support::parse_lora_frame;

using Poco::Dynamic::Var;
using JsonObject = Poco::JSON::Object;
using JsonArray = Poco::JSON::Array;

namespace json = support::json;
using json::index_name;
using json::is_int_type;
using json::is_number;
using json::parse_object;
using json::to_array;
using json::to_number;
using json::to_object;
using json::to_string;

// Internal error flow: thrown by the readers below and the shared ones, caught at the API
// boundary.
using Failure = json::JsonError;
using json::fail;

// ---- output ---------------------------------------------------------------------------

void put_int(std::string& out, int64_t value)
{
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void put_uint(std::string& out, uint64_t value)
{
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

// "%.6f", locale-independent; non-finite values are written as 0.
void put_fixed6(std::string& out, double value)
{
    if (!std::isfinite(value)) {
        value = 0;
    }
    char buffer[400];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 6);
    if (result.ec != std::errc{}) {
        out += "0.000000";
        return;
    }
    out.append(buffer, result.ptr);
}

// Shortest representation of the value as a float: 9 -> "9", -2.25 -> "-2.25".
void put_short(std::string& out, double value)
{
    const float narrowed = static_cast<float>(value);
    if (!std::isfinite(narrowed)) {
        out += '0';
        return;
    }
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, narrowed);
    out.append(buffer, result.ptr);
}

void put_rounded_int(std::string& out, double value)
{
    if (!std::isfinite(value)) {
        value = 0;
    }
    value = std::clamp(value, -1e9, 1e9);
    put_int(out, std::llround(value));
}

void put_hex(std::string& out, std::string_view bytes)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0x0F];
    }
}

void put_eui(std::string& out, uint64_t eui)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    for (int i = 7; i >= 0; --i) {
        const unsigned byte = static_cast<unsigned>((eui >> (8 * i)) & 0xFF);
        out += kDigits[byte >> 4];
        out += kDigits[byte & 0x0F];
        if (i > 0) {
            out += '-';
        }
    }
}

void put_string(std::string& out, std::string_view text)
{
    out += '"';
    out += support::json_escape(text);
    out += '"';
}

// ---- input ----------------------------------------------------------------------------

// The shared readers (json_read.hpp) as this codec takes them: a key falls back to a
// case-insensitive match, a whole-number float counts as an integer (and 0 / 1 as a boolean),
// errors are detailed ("negative (-1)").
constexpr json::Rules kRules{.tolerant = true, .detailed_errors = true};

const Var* find(const JsonObject& object, std::string_view key)
{
    return json::find(object, key, json::Keys::fold_case);
}

const Var& need(const JsonObject& object, std::string_view key, std::string_view name = {})
{
    return json::need(object, key, name, json::Keys::fold_case);
}

int64_t to_int(const Var& value, const std::string& name, int64_t min, int64_t max)
{
    return json::to_int(value, name, min, max, kRules);
}

uint64_t to_uint(const Var& value, const std::string& name,
                 uint64_t max = std::numeric_limits<uint64_t>::max())
{
    return json::to_uint64(value, name, max, kRules);
}

bool to_bool(const Var& value, const std::string& name)
{
    return json::to_bool(value, name, kRules);
}

bool has_exact_key(const JsonObject& object, const std::string& key)
{
    return object.has(key);
}

uint64_t to_eui(const Var& value, const std::string& name)
{
    if (value.type() == typeid(std::string)) {
        uint64_t eui = 0;
        if (!parse_eui(value.extract<std::string>(), eui)) {
            fail(name + ": not an EUI (\"" + value.extract<std::string>() + "\")");
        }
        return eui;
    }
    if (is_int_type(value)) {
        return to_uint(value, name);
    }
    fail(name + ": not an EUI (string or integer)");
}

std::string to_hex_bytes(const Var& value, const std::string& name, size_t max_bytes)
{
    const std::string& text = to_string(value, name);
    if (text.size() % 2 != 0) {
        fail(name + ": odd number of hex digits");
    }
    if (text.size() / 2 > max_bytes) {
        fail(name + ": " + std::to_string(text.size() / 2) + " bytes (max " +
             std::to_string(max_bytes) + ")");
    }
    std::string bytes;
    if (!parse_hex(text, bytes)) {
        fail(name + ": not a hex string");
    }
    return bytes;
}

// ---- router_config --------------------------------------------------------------------

DataRate read_data_rate(const Var& value, const std::string& name)
{
    const JsonArray& entry = to_array(value, name);
    if (entry.size() < 2 || entry.size() > 3) {
        fail(name + ": expected [sf, bw_kHz, dnonly]");
    }
    DataRate rate;
    const int64_t sf = to_int(entry.get(0), name + "[0]", -1000, 1000);
    const int64_t bw = to_int(entry.get(1), name + "[1]", -1000000, 1000000);
    const bool dnonly = entry.size() > 2 && to_bool(entry.get(2), name + "[2]");
    if (sf < 0) {
        return rate; // undefined (CS / reference test LNS write [-1,0,0])
    }
    if (sf == 0) {
        rate.sf = 0; // FSK 50 kbit/s; TTS also writes undefined DRs as [0,0,0]
        rate.dnonly = dnonly;
        return rate;
    }
    if (sf < 5 || sf > 12) {
        fail(name + ": spreading factor " + std::to_string(sf) + " (5..12, 0 FSK, <0 undefined)");
    }
    if (bw != 125 && bw != 250 && bw != 500) {
        fail(name + ": bandwidth " + std::to_string(bw) + " kHz (125, 250 or 500)");
    }
    rate.sf = static_cast<int>(sf);
    rate.bw_khz = static_cast<int>(bw);
    rate.dnonly = dnonly;
    return rate;
}

struct ChainPlace {
    uint32_t rf_chain = 0;
    uint64_t frequency_hz = 0;
};

// The `radio`/`rf_chain` and `if`/`freq` of a chain. nullopt (with a warning) when the entry
// lacks them (they would come from local configuration) or names a disabled radio.
std::optional<ChainPlace> place_chain(const JsonObject& chain, const std::string& name,
                                      const std::vector<uint64_t>& radio_centres,
                                      std::vector<std::string>& warnings)
{
    const Var* radio = find(chain, "radio");
    std::string radio_key = "radio";
    if (radio == nullptr) {
        radio = find(chain, "rf_chain");
        radio_key = "rf_chain";
    }
    const Var* offset = find(chain, "if");
    std::string offset_key = "if";
    if (offset == nullptr) {
        offset = find(chain, "freq");
        offset_key = "freq";
    }
    if (radio == nullptr || offset == nullptr) {
        warnings.push_back(name + ": enabled without radio/if (needs local configuration); " +
                           "no channel configured");
        return std::nullopt;
    }
    const int64_t rf = to_int(*radio, name + "." + radio_key, 0, 7);
    int64_t freq = to_int(*offset, name + "." + offset_key, -1000000000000, 1000000000000);
    if (static_cast<size_t>(rf) >= radio_centres.size() || radio_centres[rf] == 0) {
        warnings.push_back(name + ": radio " + std::to_string(rf) +
                           " is not enabled; no channel configured");
        return std::nullopt;
    }
    // `freq` is an alias of `if`; a value above 100 MHz can only be an absolute frequency.
    if (offset_key == "freq" && freq >= 100000000) {
        return ChainPlace{static_cast<uint32_t>(rf), static_cast<uint64_t>(freq)};
    }
    freq += static_cast<int64_t>(radio_centres[rf]);
    if (freq <= 0) {
        fail(name + ": channel frequency " + std::to_string(freq) + " Hz");
    }
    return ChainPlace{static_cast<uint32_t>(rf), static_cast<uint64_t>(freq)};
}

bool chain_enabled(const JsonObject& chain, const std::string& name)
{
    const Var* enable = find(chain, "enable");
    return enable != nullptr && to_bool(*enable, name + ".enable");
}

// The "fast LoRa" data rate of the table (lowest uplink LoRa DR wider than 125 kHz).
const DataRate* fast_lora_dr(const RouterConfig& config)
{
    for (const DataRate& rate : config.drs) {
        if (rate.sf >= 5 && rate.bw_khz > 125 && !rate.dnonly) {
            return &rate;
        }
    }
    return nullptr;
}

forwarder::v1::RadioConfig read_radio_entry(const JsonObject& entry, size_t index,
                                            const std::string& name, RouterConfig& config)
{
    forwarder::v1::RadioConfig radio;
    radio.set_radio(static_cast<uint32_t>(index));

    // rf chains: radio_0, radio_1 (positional; 0 = disabled)
    std::vector<uint64_t> centres;
    std::vector<bool> tx_flags;
    for (int n = 0; n < 2; ++n) {
        const std::string key = "radio_" + std::to_string(n);
        const std::string path = name + "." + key;
        const Var* value = find(entry, key);
        uint64_t centre = 0;
        bool tx = (n == 0);
        if (value != nullptr) {
            const JsonObject& chain = to_object(*value, path);
            const Var* enable = find(chain, "enable");
            const Var* freq = find(chain, "freq");
            const bool enabled = enable != nullptr && to_bool(*enable, path + ".enable");
            const uint64_t hz = freq != nullptr ? to_uint(*freq, path + ".freq", 10000000000) : 0;
            if (const Var* tx_enable = find(chain, "tx_enable")) {
                tx = to_bool(*tx_enable, path + ".tx_enable");
            }
            if (enabled && hz == 0) {
                config.warnings.push_back(path + ": enabled without freq (needs local " +
                                          "configuration); treated as disabled");
            } else if (enabled) {
                centre = hz;
            } else if (enable == nullptr) {
                config.warnings.push_back(path + ": no enable flag; treated as disabled");
            }
        }
        centres.push_back(centre);
        tx_flags.push_back(tx);
    }
    size_t last = centres.size();
    while (last > 0 && centres[last - 1] == 0) {
        --last;
    }
    for (size_t n = 0; n < last; ++n) {
        auto* chain = radio.add_rf_chains();
        chain->set_center_frequency_hz(centres[n]);
        chain->set_tx_enabled(centres[n] != 0 && tx_flags[n]);
    }

    for (int n = 0; n < 8; ++n) {
        const std::string key = "chan_multiSF_" + std::to_string(n);
        const Var* value = find(entry, key);
        if (value == nullptr) {
            continue;
        }
        const std::string path = name + "." + key;
        const JsonObject& chain = to_object(*value, path);
        if (!chain_enabled(chain, path)) {
            continue;
        }
        if (auto place = place_chain(chain, path, centres, config.warnings)) {
            auto* channel = radio.add_multi_sf_channels();
            channel->set_frequency_hz(place->frequency_hz);
            channel->set_rf_chain(place->rf_chain);
            channel->set_bandwidth_hz(125000);
            channel->set_min_spreading_factor(7);
            channel->set_max_spreading_factor(12);
        }
    }

    if (const Var* value = find(entry, "chan_Lora_std")) {
        const std::string path = name + ".chan_Lora_std";
        const JsonObject& chain = to_object(*value, path);
        if (chain_enabled(chain, path)) {
            int64_t bandwidth = 0;
            int64_t sf = 0;
            if (const Var* bw = find(chain, "bandwidth")) {
                bandwidth = to_int(*bw, path + ".bandwidth", 0, 1000000);
                if (bandwidth != 125000 && bandwidth != 250000 && bandwidth != 500000) {
                    fail(path + ".bandwidth: " + std::to_string(bandwidth) +
                         " Hz (125000, 250000 or 500000)");
                }
            }
            if (const Var* s = find(chain, "spread_factor")) {
                sf = to_int(*s, path + ".spread_factor", 5, 12);
            }
            std::optional<ChainPlace> place = place_chain(chain, path, centres, config.warnings);
            if (place && (bandwidth == 0 || sf == 0)) {
                const DataRate* fast = fast_lora_dr(config);
                if (fast == nullptr) {
                    config.warnings.push_back(path +
                                              ": no bandwidth/spread_factor and no fast LoRa DR " +
                                              "in DRs; no channel configured");
                    place.reset();
                } else {
                    if (bandwidth == 0) {
                        bandwidth = fast->bw_khz * 1000;
                    }
                    if (sf == 0) {
                        sf = fast->sf;
                    }
                    config.warnings.push_back(
                        path + ": bandwidth/spread_factor missing, using SF" + std::to_string(sf) +
                        "BW" + std::to_string(bandwidth / 1000) + " from the DR table");
                }
            }
            if (place) {
                auto* channel = radio.mutable_std_channel();
                channel->set_frequency_hz(place->frequency_hz);
                channel->set_rf_chain(place->rf_chain);
                channel->set_bandwidth_hz(static_cast<uint32_t>(bandwidth));
                channel->set_min_spreading_factor(static_cast<uint32_t>(sf));
                channel->set_max_spreading_factor(static_cast<uint32_t>(sf));
            }
        }
    }

    if (const Var* value = find(entry, "chan_FSK")) {
        const std::string path = name + ".chan_FSK";
        const JsonObject& chain = to_object(*value, path);
        if (chain_enabled(chain, path)) {
            uint64_t bitrate = 50000;
            uint64_t bandwidth = 125000;
            if (const Var* v = find(chain, "datarate")) {
                bitrate = to_uint(*v, path + ".datarate", 1000000);
            }
            if (const Var* v = find(chain, "bandwidth")) {
                bandwidth = to_uint(*v, path + ".bandwidth", 1000000);
            }
            if (auto place = place_chain(chain, path, centres, config.warnings)) {
                auto* channel = radio.mutable_fsk_channel();
                channel->set_frequency_hz(place->frequency_hz);
                channel->set_rf_chain(place->rf_chain);
                channel->set_bitrate(static_cast<uint32_t>(bitrate));
                channel->set_bandwidth_hz(static_cast<uint32_t>(bandwidth));
            }
        }
    }

    radio.set_tx_frequency_min_hz(config.freq_min);
    radio.set_tx_frequency_max_hz(config.freq_max);
    return radio; // max EIRP, region and beaconing: finish_radios()
}

// The AS923 sub-band of a plain "AS923" from its default channels (RP002: AS923-1 923.2/923.4,
// AS923-2 921.4/921.6, AS923-3 916.6/916.8, AS923-4 917.3/917.5 MHz); nullptr if none is
// in the channel plan. The sub-band with most of its default channels wins, AS923-1 on a tie.
const char* as923_sub_band(const RouterConfig& config)
{
    struct SubBand {
        const char* name;
        uint64_t first, second;
    };
    static constexpr SubBand kSubBands[] = {{"AS923-1", 923200000, 923400000},
                                            {"AS923-2", 921400000, 921600000},
                                            {"AS923-3", 916600000, 916800000},
                                            {"AS923-4", 917300000, 917500000}};
    std::vector<uint64_t> freqs;
    for (const auto& radio : config.radios) {
        for (const auto& channel : radio.multi_sf_channels()) {
            freqs.push_back(channel.frequency_hz());
        }
        if (radio.has_std_channel()) {
            freqs.push_back(radio.std_channel().frequency_hz());
        }
    }
    auto has = [&](uint64_t f) { return std::find(freqs.begin(), freqs.end(), f) != freqs.end(); };
    const char* best = nullptr;
    int best_score = 0;
    for (const SubBand& band : kSubBands) {
        const int score = (has(band.first) ? 1 : 0) + (has(band.second) ? 1 : 0);
        if (score > best_score) {
            best = band.name;
            best_score = score;
        }
    }
    return best;
}

// RouterConfig::region_canonical: the name the core's region table knows.
void resolve_region(RouterConfig& config)
{
    const std::string& text = config.region_text;
    switch (config.region) {
    case Region::unknown:
        config.region_canonical.clear();
        return;
    case Region::IL915:
        // The reference station's Israel region, or AS923 group 4 by name.
        config.region_canonical = iequals(text, "IL915") ? "IL915" : "AS923-4";
        return;
    case Region::AS923:
        break;
    default:
        config.region_canonical = region_name(config.region);
        return;
    }
    if (iequals(text, "AS923-1") || iequals(text, "AS923JP")) {
        config.region_canonical = "AS923-1";
    } else if (iequals(text, "AS923-2") || iequals(text, "AS_923_2")) {
        config.region_canonical = "AS923-2";
    } else if (iequals(text, "AS923-3") || iequals(text, "AS_923_3")) {
        config.region_canonical = "AS923-3";
    } else if (const char* band = as923_sub_band(config)) {
        config.region_canonical = band; // "AS923" as TTS and CS send it for every group
    } else {
        config.region_canonical = "AS923-1";
        config.warnings.push_back("region \"" + text +
                                  "\": no AS923 default channel (923.2, 921.4, 916.6 or 917.3 "
                                  "MHz) in the channel plan; assuming AS923-1");
    }
}

// The `bcning` object as sent; Failure for a malformed one.
Beaconing read_beaconing(const JsonObject& beacon)
{
    Beaconing beaconing;
    beaconing.dr = static_cast<int>(to_int(need(beacon, "DR", "bcning.DR"), "bcning.DR", 0, 15));
    const JsonArray& layout = to_array(need(beacon, "layout", "bcning.layout"), "bcning.layout");
    if (layout.size() != 3) {
        fail("bcning.layout: expected [time_off, infodesc_off, bcn_len]");
    }
    for (size_t i = 0; i < 3; ++i) {
        beaconing.layout[i] =
            static_cast<int>(to_int(layout.get(i), index_name("bcning.layout", i), 0, 255));
    }
    const JsonArray& freqs = to_array(need(beacon, "freqs", "bcning.freqs"), "bcning.freqs");
    for (size_t i = 0; i < freqs.size(); ++i) {
        beaconing.freqs.push_back(
            to_uint(freqs.get(i), index_name("bcning.freqs", i), 10000000000));
    }
    return beaconing;
}

// Why a well-formed `bcning` cannot be used ("" if it can).
std::string beaconing_problem(const RouterConfig& config, const Beaconing& b,
                              forwarder::v1::Modulation& modulation)
{
    if (!dr_modulation(config, b.dr, modulation) || !modulation.has_lora()) {
        return "bcning.DR: DR" + std::to_string(b.dr) + " is not a LoRa data rate of DRs";
    }
    const int time = b.layout[0], infodesc = b.layout[1], length = b.layout[2];
    if (time < 1 || infodesc != time + 6 || length < infodesc + 9 || length > kMaxBeaconLength) {
        return "bcning.layout: [" + std::to_string(time) + "," + std::to_string(infodesc) + "," +
               std::to_string(length) + "] is not a LoRaWAN beacon layout";
    }
    if (b.freqs.empty() || b.freqs.size() > kMaxBeaconFrequencies) {
        return "bcning.freqs: " + std::to_string(b.freqs.size()) + " frequencies (expected 1.." +
               std::to_string(kMaxBeaconFrequencies) + ")";
    }
    if (std::find(b.freqs.begin(), b.freqs.end(), uint64_t{0}) != b.freqs.end()) {
        return "bcning.freqs: frequency 0";
    }
    return "";
}

// What every radio entry shares: region, power limit, beaconing.
void finish_radios(RouterConfig& config)
{
    resolve_region(config);
    std::optional<forwarder::v1::Beaconing> beaconing;
    if (config.beaconing) {
        forwarder::v1::Modulation modulation;
        const std::string problem = beaconing_problem(config, *config.beaconing, modulation);
        if (!problem.empty()) {
            config.warnings.push_back(problem + "; no beaconing");
            config.beaconing.reset();
        } else {
            const Beaconing& b = *config.beaconing;
            beaconing.emplace();
            *beaconing->mutable_modulation() = modulation;
            for (uint64_t f : b.freqs) {
                beaconing->add_frequencies_hz(f);
            }
            beaconing->set_time_offset(static_cast<uint32_t>(b.layout[0]));
            beaconing->set_infodesc_offset(static_cast<uint32_t>(b.layout[1]));
            beaconing->set_length(static_cast<uint32_t>(b.layout[2]));
        }
    }
    for (auto& radio : config.radios) {
        radio.set_max_eirp_dbm(
            static_cast<float>(config.max_eirp.value_or(default_max_eirp(config.region))));
        radio.set_region(config.region_canonical);
        if (beaconing) {
            *radio.mutable_beaconing() = *beaconing;
        }
    }
}

RouterConfig read_router_config(const JsonObject& object)
{
    RouterConfig config;
    if (const Var* value = find(object, "region")) {
        config.region_text = to_string(*value, "region");
    }
    config.region = region_from_name(config.region_text);
    if (config.region == Region::unknown) {
        config.warnings.push_back("region \"" + config.region_text +
                                  "\" unknown: TX limited to freq_range with a conservative " +
                                  "power limit");
    }
    config.hwspec = to_string(need(object, "hwspec"), "hwspec");

    if (const Var* value = find(object, "NetID")) {
        const JsonArray& list = to_array(*value, "NetID");
        std::vector<uint32_t> ids;
        for (size_t i = 0; i < list.size(); ++i) {
            ids.push_back(
                static_cast<uint32_t>(to_uint(list.get(i), index_name("NetID", i), 0xFFFFFF)));
        }
        if (!ids.empty()) { // [] is treated like null: no filter
            config.net_ids = std::move(ids);
        }
    }

    config.json_join_eui_key =
        has_exact_key(object, "JoinEUI") && !has_exact_key(object, "JoinEui");
    if (const Var* value = find(object, "JoinEui")) {
        const JsonArray& list = to_array(*value, "JoinEui");
        std::vector<std::pair<uint64_t, uint64_t>> ranges;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string name = index_name("JoinEui", i);
            const JsonArray& range = to_array(list.get(i), name);
            if (range.size() != 2) {
                fail(name + ": expected [low, high]");
            }
            const uint64_t low = to_eui(range.get(0), name + "[0]");
            const uint64_t high = to_eui(range.get(1), name + "[1]");
            if (low > high) {
                fail(name + ": low bound above high bound");
            }
            ranges.emplace_back(low, high);
        }
        if (!ranges.empty()) { // [] is treated like null: no filter
            config.join_euis = std::move(ranges);
        }
    }

    if (const Var* value = find(object, "freq_range")) {
        const JsonArray& range = to_array(*value, "freq_range");
        if (range.size() != 2) {
            fail("freq_range: expected [min, max]");
        }
        config.freq_min = to_uint(range.get(0), "freq_range[0]", 10000000000);
        config.freq_max = to_uint(range.get(1), "freq_range[1]", 10000000000);
        if (config.freq_min > config.freq_max) {
            fail("freq_range: min above max");
        }
    }

    if (const Var* value = find(object, "DRs")) {
        const JsonArray& table = to_array(*value, "DRs");
        if (table.size() > config.drs.size()) {
            fail("DRs: " + std::to_string(table.size()) + " entries (max 16)");
        }
        for (size_t i = 0; i < table.size(); ++i) {
            config.drs[i] = read_data_rate(table.get(i), index_name("DRs", i));
        }
    }

    if (const Var* value = find(object, "max_eirp")) {
        config.max_eirp = to_number(*value, "max_eirp");
    }

    if (const Var* value = find(object, "bcning")) {
        // A bad bcning costs the beacons, not the whole configuration.
        try {
            config.beaconing = read_beaconing(to_object(*value, "bcning"));
        } catch (const Failure& failure) {
            config.warnings.push_back(std::string(failure.what()) + "; no beaconing");
        }
    }

    static constexpr const char* kConfKeys[] = {"sx1301_conf", "SX1301_conf", "sx1302_conf",
                                                "SX1302_conf", "radio_conf"};
    const Var* conf = nullptr;
    std::string conf_key;
    for (const char* key : kConfKeys) {
        if ((conf = find(object, key)) != nullptr) {
            conf_key = key;
            break;
        }
    }
    if (conf == nullptr) {
        fail("sx1301_conf: missing");
    }
    const JsonArray& entries = to_array(*conf, conf_key);
    if (entries.size() == 0) {
        fail(conf_key + ": empty");
    }

    // hwspec "sx1301/N": N must equal the number of entries.
    const size_t slash = config.hwspec.find('/');
    size_t count = 0;
    bool hwspec_ok = slash != std::string::npos && slash > 0 && slash + 1 < config.hwspec.size();
    if (hwspec_ok) {
        const char* first = config.hwspec.data() + slash + 1;
        const char* last = config.hwspec.data() + config.hwspec.size();
        const auto result = std::from_chars(first, last, count);
        hwspec_ok = result.ec == std::errc{} && result.ptr == last && count > 0;
    }
    if (!hwspec_ok) {
        fail("hwspec: \"" + config.hwspec + "\" (expected \"sx1301/N\")");
    }
    if (count != entries.size()) {
        fail("hwspec: \"" + config.hwspec + "\" does not match " + std::to_string(entries.size()) +
             " " + conf_key + " entries");
    }
    for (size_t i = 0; i < entries.size(); ++i) {
        const std::string name = index_name(conf_key, i);
        config.radios.push_back(read_radio_entry(to_object(entries.get(i), name), i, name, config));
    }
    finish_radios(config);
    return config;
}

// ---- downlinks ------------------------------------------------------------------------

std::optional<Window> read_window(const JsonObject& object, const char* dr_key,
                                  const char* freq_key, bool zero_freq_means_none)
{
    const Var* dr = find(object, dr_key);
    const Var* freq = find(object, freq_key);
    if (dr == nullptr && freq == nullptr) {
        return std::nullopt;
    }
    if (dr == nullptr) {
        fail(std::string(dr_key) + ": missing (" + freq_key + " given)");
    }
    if (freq == nullptr) {
        fail(std::string(freq_key) + ": missing (" + dr_key + " given)");
    }
    Window window;
    window.dr = static_cast<int>(to_int(*dr, dr_key, 0, 15));
    window.freq_hz = to_uint(*freq, freq_key, 10000000000);
    if (window.freq_hz == 0) {
        if (zero_freq_means_none) {
            return std::nullopt;
        }
        fail(std::string(freq_key) + ": 0");
    }
    return window;
}

std::optional<uint64_t> read_gps_time(const JsonObject& object)
{
    if (const Var* gpstime = find(object, "gpstime")) {
        return to_uint(*gpstime, "gpstime", static_cast<uint64_t>(INT64_MAX));
    }
    if (const Var* ontime = find(object, "ontime")) {
        const double seconds = to_number(*ontime, "ontime");
        if (seconds < 0 || seconds > 9.0e12) {
            fail("ontime: out of range");
        }
        return static_cast<uint64_t>(std::llround(seconds * 1e6));
    }
    return std::nullopt;
}

// Fields shared by dnmsg, dnframe and dnsched entries.
void read_downlink_common(const JsonObject& object, Downlink& out, bool diid_required)
{
    const Var* diid = find(object, "diid");
    const char* diid_key = "diid";
    if (diid == nullptr) {
        diid = find(object, "seqno");
        diid_key = "seqno";
    }
    if (diid != nullptr) {
        out.diid = to_int(*diid, diid_key, INT64_MIN, INT64_MAX);
    } else if (diid_required) {
        fail("diid: missing");
    }
    out.pdu = to_hex_bytes(need(object, "pdu"), "pdu", 255);
    if (out.pdu.empty()) {
        fail("pdu: empty");
    }
    if (const Var* v = find(object, "priority")) {
        out.priority = static_cast<uint32_t>(to_int(*v, "priority", 0, 255));
    }
    if (const Var* v = find(object, "rctx")) {
        out.rctx = static_cast<uint32_t>(to_uint(*v, "rctx", UINT32_MAX));
    }
    if (const Var* v = find(object, "preamble")) {
        out.preamble = static_cast<uint32_t>(to_uint(*v, "preamble", 65535));
    }
    if (const Var* v = find(object, "addcrc")) {
        out.addcrc = to_bool(*v, "addcrc");
    }
    if (const Var* v = find(object, "xtime")) {
        out.xtime = to_uint(*v, "xtime", static_cast<uint64_t>(INT64_MAX));
    }
}

Downlink read_dnmsg(const JsonObject& object)
{
    Downlink out;
    out.msgtype = "dnmsg";
    out.dev_eui = to_eui(need(object, "DevEui"), "DevEui");
    out.device_class = static_cast<int>(to_int(need(object, "dC"), "dC", 0, 2));
    read_downlink_common(object, out, true);
    out.gpstime = read_gps_time(object);
    out.rx_delay_s = 1;
    if (const Var* v = find(object, "RxDelay")) {
        out.rx_delay_s = static_cast<int>(to_int(*v, "RxDelay", 0, 15));
        if (out.rx_delay_s == 0) {
            out.rx_delay_s = 1;
        }
    }
    out.rx1 = read_window(object, "RX1DR", "RX1Freq", false);
    out.rx2 = read_window(object, "RX2DR", "RX2Freq", true);
    if (!out.rx1) {
        out.rx1 = read_window(object, "DR", "Freq", false);
        if (out.rx1) {
            out.rx_delay_s = 0; // `xtime` is the absolute TX time
        }
    }
    if (!out.rx1 && !out.rx2) {
        fail("no window: needs RX1DR/RX1Freq, DR/Freq or RX2DR/RX2Freq");
    }
    switch (out.device_class) {
    case 0:
        if (!out.xtime) {
            fail("xtime: missing (dC 0)");
        }
        break;
    case 1:
        if (!out.gpstime || *out.gpstime == 0) {
            fail("gpstime: missing (dC 1)");
        }
        if (!out.rx1) {
            fail("DR/Freq: missing (dC 1)");
        }
        break;
    default:
        if (!out.rx2 && !out.xtime) {
            fail("RX2DR/RX2Freq or xtime: missing (dC 2)");
        }
        break;
    }
    return out;
}

Downlink read_dnframe(const JsonObject& object)
{
    Downlink out;
    out.msgtype = "dnframe";
    out.dev_eui = to_eui(need(object, "DevEui"), "DevEui");
    read_downlink_common(object, out, true);
    out.rx1 = read_window(object, "DR", "Freq", false);
    if (!out.rx1) {
        fail("DR/Freq: missing");
    }
    out.rx_delay_s = 0;
    if (!out.xtime) {
        fail("xtime: missing");
    }
    if (const Var* v = find(object, "asap")) {
        out.asap = to_bool(*v, "asap");
    }
    out.device_class = out.asap ? 2 : 0;
    return out;
}

DownlinkSchedule read_dnsched(const JsonObject& object)
{
    DownlinkSchedule schedule;
    const JsonArray& entries = to_array(need(object, "schedule"), "schedule");
    for (size_t i = 0; i < entries.size(); ++i) {
        const std::string name = index_name("schedule", i);
        try {
            const JsonObject& entry = to_object(entries.get(i), name);
            Downlink out;
            out.msgtype = "dnsched";
            read_downlink_common(entry, out, false);
            out.rx1 = read_window(entry, "DR", "Freq", false);
            if (!out.rx1) {
                fail("DR/Freq: missing");
            }
            out.rx_delay_s = 0;
            const bool has_gps = find(entry, "gpstime") != nullptr;
            const bool has_ontime = find(entry, "ontime") != nullptr;
            const int times = (has_gps ? 1 : 0) + (has_ontime ? 1 : 0) + (out.xtime ? 1 : 0);
            if (times != 1) {
                fail("needs exactly one of ontime, gpstime, xtime");
            }
            out.gpstime = read_gps_time(entry);
            out.device_class = out.xtime ? 0 : 1;
            schedule.entries.push_back(std::move(out));
        } catch (const Failure& failure) {
            if (std::string_view(failure.what()).rfind(name, 0) == 0) {
                throw;
            }
            fail(name + "." + failure.what());
        }
    }
    return schedule;
}

// ---- timesync and the rest ------------------------------------------------------------

TimeSync read_timesync(const JsonObject& object)
{
    TimeSync sync;
    if (const Var* v = find(object, "txtime")) {
        if (v->type() == typeid(double)) {
            // TTS echoes txtime as a float; compare it with what was sent.
            const double d = to_number(*v, "txtime");
            if (d < 0 || d > 9.0e18) {
                fail("txtime: out of range");
            }
            sync.txtime_us = std::llround(d);
        } else {
            sync.txtime_us = to_int(*v, "txtime", 0, INT64_MAX);
        }
    }
    if (const Var* v = find(object, "gpstime")) {
        const int64_t gpstime = to_int(*v, "gpstime", INT64_MIN, INT64_MAX);
        if (gpstime < 0) {
            fail("gpstime: negative (" + std::to_string(gpstime) + ")");
        }
        if (gpstime != 0) {
            sync.gpstime_us = gpstime;
        }
    }
    if (const Var* v = find(object, "xtime")) {
        const uint64_t xtime = to_uint(*v, "xtime", static_cast<uint64_t>(INT64_MAX));
        if (xtime != 0) {
            sync.xtime = xtime;
        }
    }
    return sync;
}

RunCmd read_runcmd(const JsonObject& object)
{
    RunCmd command;
    command.command = to_string(need(object, "command"), "command");
    if (const Var* v = find(object, "arguments")) {
        const JsonArray& list = to_array(*v, "arguments");
        if (list.size() > 64) {
            fail("arguments: more than 64");
        }
        for (size_t i = 0; i < list.size(); ++i) {
            command.arguments.push_back(to_string(list.get(i), index_name("arguments", i)));
        }
    }
    return command;
}

void put_common_uplink(std::string& out, const UplinkMeta& meta)
{
    out += ",\"RefTime\":";
    put_fixed6(out, meta.ref_time);
    out += ",\"DR\":";
    put_int(out, meta.dr);
    out += ",\"Freq\":";
    put_uint(out, meta.freq_hz);
    out += ",\"upinfo\":{\"rctx\":";
    put_uint(out, meta.rctx);
    out += ",\"xtime\":";
    put_uint(out, meta.xtime);
    out += ",\"gpstime\":";
    put_uint(out, meta.gpstime);
    out += ",\"fts\":";
    put_int(out, meta.fts < 0 ? -1 : meta.fts);
    out += ",\"rssi\":";
    put_rounded_int(out, meta.rssi);
    out += ",\"snr\":";
    put_short(out, meta.snr);
    out += ",\"rxtime\":";
    put_fixed6(out, meta.rxtime);
    out += "}}";
}

void put_data_frame(std::string& out, const char* msgtype, const LoraFrame& frame)
{
    out += "{\"msgtype\":\"";
    out += msgtype;
    out += "\",\"MHdr\":";
    put_uint(out, frame.mhdr);
    out += ",\"DevAddr\":";
    put_int(out, static_cast<int32_t>(frame.dev_addr));
    out += ",\"FCtrl\":";
    put_uint(out, frame.fctrl);
    out += ",\"FCnt\":";
    put_uint(out, frame.fcnt);
    out += ",\"FOpts\":\"";
    put_hex(out, frame.fopts);
    out += "\",\"FPort\":";
    put_int(out, frame.fport);
    out += ",\"FRMPayload\":\"";
    put_hex(out, frame.frm_payload);
    out += "\",\"MIC\":";
    put_int(out, static_cast<int32_t>(frame.mic));
}

void put_whole_frame(std::string& out, const char* msgtype, std::string_view phy, bool mhdr)
{
    out += "{\"msgtype\":\"";
    out += msgtype;
    out += '"';
    if (mhdr) {
        out += ",\"MHdr\":";
        put_uint(out, static_cast<uint8_t>(phy[0]));
    }
    out += ",\"FRMPayload\":\"";
    put_hex(out, phy);
    out += '"';
}

bool net_id_accepts(const RouterConfig& config, uint32_t dev_addr)
{
    if (!config.net_ids) {
        return true;
    }
    return std::any_of(config.net_ids->begin(), config.net_ids->end(),
                       [&](uint32_t id) { return dev_addr_matches_net_id(dev_addr, id); });
}

bool join_eui_accepts(const RouterConfig& config, uint64_t join_eui)
{
    if (!config.join_euis) {
        return true;
    }
    return std::any_of(config.join_euis->begin(), config.join_euis->end(),
                       [&](const auto& r) { return join_eui >= r.first && join_eui <= r.second; });
}

std::string hex32(uint32_t value)
{
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string text = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) {
        text += kDigits[(value >> shift) & 0xF];
    }
    return text;
}

bool encode_uplink_impl(std::string_view phy, const UplinkMeta& meta, const RouterConfig& config,
                        bool forward_heard_downlinks, std::string& json, std::string& why)
{
    LoraFrame frame;
    if (!parse_lora_frame(phy, frame, why)) {
        return false;
    }
    if (meta.xtime == 0) {
        why = "xtime 0 is never sent";
        return false;
    }
    if (meta.dr < 0 || meta.dr > 15) {
        why = "no data rate index (" + std::to_string(meta.dr) + ")";
        return false;
    }
    json.reserve(160 + 2 * phy.size());
    switch (frame.kind) {
    case FrameKind::join_request:
        if (!join_eui_accepts(config, frame.join_eui)) {
            why = "JoinEui " + format_eui_dashed(frame.join_eui) + " filtered by router_config";
            return false;
        }
        json += "{\"msgtype\":\"jreq\",\"MHdr\":";
        put_uint(json, frame.mhdr);
        json += ",\"JoinEui\":\"";
        put_eui(json, frame.join_eui);
        json += "\",\"DevEui\":\"";
        put_eui(json, frame.dev_eui);
        json += "\",\"DevNonce\":";
        put_uint(json, frame.dev_nonce);
        json += ",\"MIC\":";
        put_int(json, static_cast<int32_t>(frame.mic));
        break;
    case FrameKind::rejoin:
        if (frame.rejoin_type == 1 && !join_eui_accepts(config, frame.join_eui)) {
            why = "rejoin JoinEui " + format_eui_dashed(frame.join_eui) +
                  " filtered by router_config";
            return false;
        }
        if (frame.rejoin_type != 1 && config.net_ids &&
            std::find(config.net_ids->begin(), config.net_ids->end(), frame.net_id) ==
                config.net_ids->end()) {
            why = "rejoin NetID " + std::to_string(frame.net_id) + " filtered by router_config";
            return false;
        }
        put_whole_frame(json, "rejoin", phy, true);
        break;
    case FrameKind::data_up:
    case FrameKind::data_down:
        if (frame.kind == FrameKind::data_down && !forward_heard_downlinks) {
            why = "downlink heard on air (dndf) not forwarded";
            return false;
        }
        if (!net_id_accepts(config, frame.dev_addr)) {
            why = "DevAddr " + hex32(frame.dev_addr) + " filtered by NetID";
            return false;
        }
        put_data_frame(json, frame.kind == FrameKind::data_up ? "updf" : "dndf", frame);
        break;
    case FrameKind::join_accept:
        if (!forward_heard_downlinks) {
            why = "join accept heard on air (jacc) not forwarded";
            return false;
        }
        put_whole_frame(json, "jacc", phy, false);
        break;
    case FrameKind::proprietary:
        put_whole_frame(json, "propdf", phy, false);
        break;
    }
    put_common_uplink(json, meta);
    return true;
}

struct RegionName {
    const char* name;
    Region region;
};

constexpr RegionName kRegionNames[] = {
    {"EU868", Region::EU868},      {"EU863", Region::EU868},      {"EU_863_870", Region::EU868},
    {"US915", Region::US915},      {"US902", Region::US915},      {"US_902_928", Region::US915},
    {"AU915", Region::AU915},      {"AU_915_928", Region::AU915}, {"KR920", Region::KR920},
    {"KR_920_923", Region::KR920}, {"AS923", Region::AS923},      {"AS923-1", Region::AS923},
    {"AS923JP", Region::AS923},    {"AS923-2", Region::AS923},    {"AS923-3", Region::AS923},
    {"AS_923", Region::AS923},     {"AS_923_2", Region::AS923},   {"AS_923_3", Region::AS923},
    {"AS923-4", Region::IL915},    {"AS_923_4", Region::IL915},   {"IL915", Region::IL915},
    {"IN865", Region::IN865},      {"IN_865_867", Region::IN865}, {"RU864", Region::RU864},
    {"RU_864_870", Region::RU864}, {"CN470", Region::CN470},      {"CN_470_510", Region::CN470},
    {"CN779", Region::CN779},      {"CN_779_787", Region::CN779}, {"EU433", Region::EU433},
    {"EU_433", Region::EU433},     {"MA869", Region::MA869},      {"MA_869_870", Region::MA869},
    {"ISM2400", Region::ISM2400},  {"ISM_2400", Region::ISM2400},
};

} // namespace

// ---- EUIs -----------------------------------------------------------------------------

std::string format_id6(uint64_t eui)
{
    const unsigned g0 = static_cast<unsigned>((eui >> 48) & 0xFFFF);
    const unsigned g1 = static_cast<unsigned>((eui >> 32) & 0xFFFF);
    const unsigned g2 = static_cast<unsigned>((eui >> 16) & 0xFFFF);
    const unsigned g3 = static_cast<unsigned>(eui & 0xFFFF);
    auto hex = [](unsigned group) {
        char buffer[8];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, group, 16);
        return std::string(buffer, result.ptr);
    };
    if (g0 == 0 && g1 == 0 && g2 == 0) {
        return "::" + hex(g3);
    }
    if (g0 == 0 && g1 == 0) {
        return "::" + hex(g2) + ":" + hex(g3);
    }
    if (g2 == 0 && g3 == 0 && g1 == 0) {
        return hex(g0) + "::";
    }
    if (g2 == 0 && g3 == 0) {
        return hex(g0) + ":" + hex(g1) + "::";
    }
    if (g1 == 0 && g2 == 0) {
        return hex(g0) + "::" + hex(g3);
    }
    return hex(g0) + ":" + hex(g1) + ":" + hex(g2) + ":" + hex(g3);
}

std::string format_eui_dashed(uint64_t eui)
{
    std::string text;
    text.reserve(23);
    put_eui(text, eui);
    return text;
}

namespace {

// ID6 groups separated by single colons ("" -> no groups). False on an empty or long group.
bool id6_groups(std::string_view text, std::vector<uint16_t>& groups)
{
    if (text.empty()) {
        return true;
    }
    size_t start = 0;
    while (true) {
        const size_t end = std::min(text.find(':', start), text.size());
        const std::string_view group = text.substr(start, end - start);
        if (group.empty() || group.size() > 4) {
            return false;
        }
        unsigned value = 0;
        for (char c : group) {
            value = value * 16 + static_cast<unsigned>(hex_value(c));
        }
        groups.push_back(static_cast<uint16_t>(value));
        if (end == text.size()) {
            return true;
        }
        start = end + 1;
    }
}

bool parse_eui_impl(std::string_view text, uint64_t& eui)
{
    // Optional lower-case "word-" prefix, only in front of an ID6 ("router-", "muxs-").
    const size_t dash = text.find('-');
    if (dash != std::string_view::npos && dash > 0) {
        const std::string_view word = text.substr(0, dash);
        const std::string_view rest = text.substr(dash + 1);
        const bool lower_word =
            std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
        const auto colons = std::count(rest.begin(), rest.end(), ':');
        if (lower_word && rest.find('-') == std::string_view::npos &&
            (colons == 2 || colons == 3)) {
            text = rest;
        }
    }
    size_t digits = 0, dashes = 0, colons = 0;
    for (char c : text) {
        if (hex_value(c) >= 0) {
            ++digits;
        } else if (c == '-') {
            ++dashes;
        } else if (c == ':') {
            ++colons;
        } else {
            return false;
        }
    }
    if (digits == 0 || digits > 16 || (dashes > 0 && colons > 0) || dashes > 7 || colons > 7) {
        return false;
    }
    if (colons == 2 || colons == 3) {
        std::vector<uint16_t> high, low;
        const size_t gap = text.find("::");
        if (gap != std::string_view::npos) {
            if (!id6_groups(text.substr(0, gap), high) || !id6_groups(text.substr(gap + 2), low) ||
                high.size() + low.size() > 3) {
                return false;
            }
        } else if (!id6_groups(text, low)) {
            return false;
        }
        uint64_t value = 0;
        for (size_t i = 0; i < high.size(); ++i) {
            value |= static_cast<uint64_t>(high[i]) << (16 * (3 - i));
        }
        for (size_t i = 0; i < low.size(); ++i) {
            value |= static_cast<uint64_t>(low[low.size() - 1 - i]) << (16 * i);
        }
        eui = value;
        return true;
    }
    uint64_t value = 0;
    for (char c : text) {
        const int v = hex_value(c);
        if (v >= 0) {
            value = (value << 4) | static_cast<uint64_t>(v);
        }
    }
    eui = value;
    return true;
}

} // namespace

bool parse_eui(std::string_view text, uint64_t& eui)
{
    try {
        uint64_t value = 0;
        if (!parse_eui_impl(text, value)) {
            return false;
        }
        eui = value;
        return true;
    } catch (...) {
        return false;
    }
}

std::string format_hex(std::string_view bytes)
{
    std::string text;
    text.reserve(bytes.size() * 2);
    put_hex(text, bytes);
    return text;
}

bool parse_hex(std::string_view text, std::string& bytes)
{
    bytes.clear();
    if (text.size() % 2 != 0) {
        return false;
    }
    bytes.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        const int high = hex_value(text[i]);
        const int low = hex_value(text[i + 1]);
        if (high < 0 || low < 0) {
            bytes.clear();
            return false;
        }
        bytes.push_back(static_cast<char>((high << 4) | low));
    }
    return true;
}

// ---- discovery ------------------------------------------------------------------------

std::string encode_router_info_request(uint64_t router_eui)
{
    return "{\"router\":\"" + format_id6(router_eui) + "\"}";
}

bool decode_router_info(std::string_view json, RouterInfo& out, std::string& error)
{
    out = RouterInfo{};
    try {
        const JsonObject::Ptr object = parse_object(json);
        auto informational = [&](const char* key, std::string& field) {
            const Var* value = find(*object, key);
            if (value != nullptr && value->type() == typeid(std::string)) {
                field = value->extract<std::string>();
            }
        };
        informational("router", out.router);
        informational("muxs", out.muxs);
        if (const Var* value = find(*object, "uri")) {
            out.uri = to_string(*value, "uri");
        }
        if (const Var* value = find(*object, "error")) {
            out.error = value->type() == typeid(std::string) ? value->extract<std::string>() : "";
            if (out.error.empty()) {
                out.error = "server error without text";
            }
        }
        return true;
    } catch (const Failure& failure) {
        error = std::string("router-info: ") + failure.what();
    } catch (const std::exception& e) {
        error = std::string("router-info: ") + e.what();
    } catch (...) {
        error = "router-info: internal error";
    }
    return false;
}

bool parse_ws_uri(std::string_view text, bool require_path, WsUri& out, std::string& error)
{
    try {
        auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
        while (!text.empty() && space(text.back())) {
            text.remove_suffix(1);
        }
        while (!text.empty() && space(text.front())) {
            text.remove_prefix(1);
        }
        if (text.size() > 127) {
            error = "longer than 127 characters";
            return false;
        }
        WsUri uri;
        const size_t colon = text.find("://");
        if (colon == std::string_view::npos) {
            error = "no ws:// or wss:// scheme";
            return false;
        }
        const std::string_view scheme = text.substr(0, colon);
        if (iequals(scheme, "wss")) {
            uri.tls = true;
        } else if (!iequals(scheme, "ws")) {
            error = "scheme \"" + std::string(scheme) + "\" (ws or wss)";
            return false;
        }
        std::string_view rest = text.substr(colon + 3);
        const size_t slash = rest.find('/');
        const std::string_view authority = rest.substr(0, slash);
        const std::string_view path =
            slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        std::string_view host, port;
        if (!authority.empty() && authority.front() == '[') {
            const size_t close = authority.find(']');
            if (close == std::string_view::npos) {
                error = "unterminated [IPv6] host";
                return false;
            }
            host = authority.substr(1, close - 1);
            const std::string_view after = authority.substr(close + 1);
            if (after.empty() || after.front() != ':') {
                error = "port missing";
                return false;
            }
            port = after.substr(1);
            for (char c : host) {
                if (!(hex_value(c) >= 0 || c == ':' || c == '.')) {
                    error = "invalid IPv6 host";
                    return false;
                }
            }
        } else {
            const size_t port_colon = authority.rfind(':');
            if (port_colon == std::string_view::npos) {
                error = "port missing";
                return false;
            }
            host = authority.substr(0, port_colon);
            port = authority.substr(port_colon + 1);
            for (char c : host) {
                const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
                if (!ok) {
                    error = "invalid character in host";
                    return false;
                }
            }
        }
        if (host.empty()) {
            error = "host missing";
            return false;
        }
        unsigned value = 0;
        const auto result = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || result.ec != std::errc{} || result.ptr != port.data() + port.size() ||
            value == 0 || value > 65535) {
            error = "invalid port \"" + std::string(port) + "\"";
            return false;
        }
        for (char c : path) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
                error = "invalid character in path";
                return false;
            }
        }
        if (require_path && path.empty()) {
            error = "path missing";
            return false;
        }
        uri.host = std::string(host);
        uri.port = static_cast<uint16_t>(value);
        uri.path = std::string(path);
        out = std::move(uri);
        return true;
    } catch (...) {
        error = "internal error";
        return false;
    }
}

// ---- regions and data rates -----------------------------------------------------------

Region region_from_name(std::string_view name)
{
    for (const RegionName& entry : kRegionNames) {
        if (iequals(name, entry.name)) {
            return entry.region;
        }
    }
    return Region::unknown;
}

const char* region_name(Region region)
{
    switch (region) {
    case Region::EU868:
        return "EU868";
    case Region::US915:
        return "US915";
    case Region::AU915:
        return "AU915";
    case Region::KR920:
        return "KR920";
    case Region::AS923:
        return "AS923";
    case Region::IN865:
        return "IN865";
    case Region::RU864:
        return "RU864";
    case Region::CN470:
        return "CN470";
    case Region::CN779:
        return "CN779";
    case Region::EU433:
        return "EU433";
    case Region::IL915:
        return "IL915";
    case Region::MA869:
        return "MA869";
    case Region::ISM2400:
        return "ISM2400";
    case Region::unknown:
        break;
    }
    return "unknown";
}

double default_max_eirp(Region region)
{
    // Reference defaults where it has them (EU868, US915, AU915, KR920, IL915); the others are
    // conservative values at or below the regional limits, 14 dBm when the region is unknown.
    switch (region) {
    case Region::EU868:
        return 16;
    case Region::US915:
        return 26;
    case Region::AU915:
        return 30;
    case Region::KR920:
        return 23;
    case Region::AS923:
        return 16;
    case Region::IN865:
        return 30;
    case Region::RU864:
        return 16;
    case Region::CN470:
        return 19;
    case Region::IL915:
        return 14;
    default:
        return 14;
    }
}

int find_uplink_dr(const RouterConfig& config, const forwarder::v1::Modulation& modulation)
{
    try {
        for (size_t i = 0; i < config.drs.size(); ++i) {
            const DataRate& rate = config.drs[i];
            if (rate.dnonly) {
                continue;
            }
            if (modulation.has_lora()) {
                if (rate.sf >= 5 &&
                    static_cast<uint32_t>(rate.sf) == modulation.lora().spreading_factor() &&
                    static_cast<uint32_t>(rate.bw_khz) * 1000 == modulation.lora().bandwidth_hz()) {
                    return static_cast<int>(i);
                }
            } else if (modulation.has_fsk()) {
                if (rate.sf == 0) {
                    return static_cast<int>(i);
                }
            }
        }
    } catch (...) {
    }
    return -1;
}

bool dr_modulation(const RouterConfig& config, int dr, forwarder::v1::Modulation& out)
{
    try {
        if (dr < 0 || dr >= static_cast<int>(config.drs.size())) {
            return false;
        }
        const DataRate& rate = config.drs[dr];
        if (rate.sf >= 5) {
            out.Clear();
            auto* lora = out.mutable_lora();
            lora->set_spreading_factor(static_cast<uint32_t>(rate.sf));
            lora->set_bandwidth_hz(static_cast<uint32_t>(rate.bw_khz) * 1000);
            lora->set_coding_rate(forwarder::v1::CR_4_5);
            return true;
        }
        if (rate.sf == 0) {
            out.Clear();
            auto* fsk = out.mutable_fsk();
            fsk->set_bitrate(50000);
            fsk->set_frequency_deviation_hz(25000);
            return true;
        }
    } catch (...) {
    }
    return false;
}

// ---- uplinks --------------------------------------------------------------------------

bool encode_uplink(std::string_view phy_payload, const UplinkMeta& meta, const RouterConfig& config,
                   bool forward_heard_downlinks, std::string& json, std::string& why)
{
    json.clear();
    why.clear();
    try {
        if (encode_uplink_impl(phy_payload, meta, config, forward_heard_downlinks, json, why)) {
            return true;
        }
    } catch (...) {
        why = "internal error";
    }
    json.clear();
    return false;
}

// ---- gateway -> LNS -------------------------------------------------------------------

std::string encode_version(const VersionInfo& info)
{
    try {
        std::string out = "{\"msgtype\":\"version\",\"station\":";
        put_string(out, info.station);
        out += ",\"firmware\":";
        if (info.firmware.empty()) {
            out += "null";
        } else {
            put_string(out, info.firmware);
        }
        out += ",\"package\":";
        if (info.package.empty()) {
            out += "null";
        } else {
            put_string(out, info.package);
        }
        out += ",\"model\":";
        put_string(out, info.model);
        out += ",\"protocol\":2,\"features\":";
        put_string(out, info.features);
        out += '}';
        return out;
    } catch (...) {
        return {};
    }
}

std::string encode_dntxed(const TxReport& report)
{
    try {
        std::string out = "{\"msgtype\":\"dntxed\",\"seqno\":";
        put_int(out, report.diid);
        out += ",\"diid\":";
        put_int(out, report.diid);
        out += ",\"DR\":";
        put_int(out, report.dr);
        out += ",\"Freq\":";
        put_uint(out, report.freq_hz);
        out += ",\"DevEui\":\"";
        put_eui(out, report.dev_eui);
        out += "\",\"rctx\":";
        put_uint(out, report.rctx);
        out += ",\"xtime\":";
        put_uint(out, report.xtime);
        out += ",\"txtime\":";
        put_fixed6(out, report.txtime);
        out += ",\"gpstime\":";
        put_uint(out, report.gpstime);
        out += '}';
        return out;
    } catch (...) {
        return {};
    }
}

std::string encode_timesync_request(int64_t txtime_us)
{
    try {
        std::string out = "{\"msgtype\":\"timesync\",\"txtime\":";
        put_int(out, txtime_us);
        out += '}';
        return out;
    } catch (...) {
        return {};
    }
}

std::string encode_getxtime_reply(double mux_time, double ustime, double utc_time,
                                  const std::vector<uint64_t>& xtimes)
{
    try {
        std::string out = "{\"msgtype\":\"getxtime\",\"MuxTime\":";
        put_fixed6(out, mux_time);
        out += ",\"ustime\":";
        put_fixed6(out, ustime);
        out += ",\"UTCtime\":";
        put_fixed6(out, utc_time);
        out += ",\"xtimes\":[";
        for (size_t i = 0; i < xtimes.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            put_uint(out, xtimes[i]);
        }
        out += "]}";
        return out;
    } catch (...) {
        return {};
    }
}

// ---- LNS -> gateway -------------------------------------------------------------------

bool decode_message(std::string_view json, Decoded& out, std::string& error)
{
    std::string msgtype;
    try {
        const JsonObject::Ptr object = parse_object(json);
        const Var* type = find(*object, "msgtype");
        if (type == nullptr) {
            fail("msgtype: missing");
        }
        msgtype = to_string(*type, "msgtype");

        Decoded decoded;
        if (msgtype == "router_config") {
            decoded.message = read_router_config(*object);
        } else if (msgtype == "dnmsg") {
            decoded.message = read_dnmsg(*object);
        } else if (msgtype == "dnframe") {
            decoded.message = read_dnframe(*object);
        } else if (msgtype == "dnsched") {
            decoded.message = read_dnsched(*object);
        } else if (msgtype == "timesync") {
            decoded.message = read_timesync(*object);
        } else if (msgtype == "getxtime") {
            decoded.message = GetXtime{};
        } else if (msgtype == "runcmd") {
            decoded.message = read_runcmd(*object);
        } else if (msgtype == "error") {
            ServerError server_error;
            if (const Var* text = find(*object, "error")) {
                server_error.text = to_string(*text, "error");
            }
            decoded.message = std::move(server_error);
        } else {
            decoded.message = Ignored{msgtype};
        }

        if (const Var* mux = find(*object, "MuxTime")) {
            if (std::holds_alternative<Ignored>(decoded.message)) {
                if (is_number(*mux)) { // best effort: never fail an unknown message
                    decoded.mux_time = to_number(*mux, "MuxTime");
                }
            } else {
                decoded.mux_time = to_number(*mux, "MuxTime");
            }
        }
        out = std::move(decoded);
        return true;
    } catch (const Failure& failure) {
        error = msgtype.empty() ? std::string(failure.what()) : msgtype + ": " + failure.what();
    } catch (const std::exception& e) {
        error = (msgtype.empty() ? std::string() : msgtype + ": ") + "internal error: " + e.what();
    } catch (...) {
        error = (msgtype.empty() ? std::string() : msgtype + ": ") + "internal error";
    }
    return false;
}

} // namespace forwarder::lns
