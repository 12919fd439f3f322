#include "region.hpp"

#include "text.hpp"

#include <utility>

namespace forwarder::support {

namespace {

// Judgement calls where the sources disagree (see region.hpp for the source list):
//
// * TX range: both ends inclusive (centre frequencies), like router_config's freq_range.
//   A single-band region's one SubBand therefore ends at tx_max_hz + 1 (max is exclusive);
//   multi-band regions use the regulatory band edges.
// * EU868: sub-bands exactly as timing.md §5.1 (ETSI EN 300 220 per Concentratord), powers
//   "EIRP as coded" (ERP + 2 dB), so P allows 29 dBm and the region maximum is 29 dBm. Two
//   entries are labelled "P" as in that table. Default EIRP 16 dBm, 27 dBm in 869.4-869.65 MHz
//   (BS), which also sets the beacon power on 869.525 MHz.
// * US915: default EIRP 26 dBm (BS), maximum 30 dBm (RP). No duty cycle. dwell_time_us = 0:
//   the FCC 400 ms dwell applies to frequency-hopping (125 kHz uplink) use; the gateway sends
//   only 500 kHz downlinks (digital modulation, no dwell limit) and RP002 has no
//   TxParamSetupReq dwell switch for US915, so there is nothing to enforce.
// * AU915: dwell_time_us = 400000 because RP002 defines the TxParamSetupReq switch; devices
//   start with the uplink limit on (uplink_dwell_time_default), but the downlink limit is off
//   (500 kHz downlinks), so dwell_time_default = false.
// * AS923-1..4: group offsets 0, -1.8, -6.6, -5.9 MHz (RP002). Down- and uplink dwell 400 ms
//   on by default (RP002). Max/default EIRP 16 dBm (RP002; BS uses 13 dBm for AS923-1).
//   AS923-1 follows BS's Japan model: LBT required at -80 dBm with a 5 ms scan (ARIB STD-T108,
//   max 4 s per transmission) and a 10 % per-channel duty cycle. AS923-2/-3 have no duty cycle
//   (country-specific, no common rule). AS923-4 is Israel only: 1 % like BS's IL915.
//   "AS923" (what TTS and ChirpStack send for every AS923 group) and "AS923JP" name AS923-1,
//   whose 915-928 MHz TX range contains the ranges of groups 2-4; a caller that knows the
//   group from freq_range/channels should pick that group's entry.
// * KR920: LBT -65 dBm, 5 ms scan (RP; BS uses -67 dBm, timing.md §7). Korean rules accept LBT
//   or a 2 % duty cycle, and limit one transmission after a scan to 4 s; BS applies both LBT
//   and 2 % per channel. We model 2 % per channel and mark it replaceable by LBT
//   (Lbt::replaces_duty_cycle), because SX1302 builds may not have LBT. EIRP: RP's 14 dBm is the
//   end-device default; RP001-1.0.2's KR920 table allows gateways 23 dBm, which is also BS's
//   default, so default = max = 23 dBm.
// * IN865: default/max EIRP 30 dBm (RP002-1.0.3; RP002-1.0.5 lowers the device default to
//   29.2 dBm). Beacon on 866.55 MHz (RP; TTS uses 866.5 MHz).
// * RU864: 864-870 MHz with the duty cycles of GKRCh decision 18-46-03-1 annex 12 (2018):
//   864-865 MHz 0.1 %, 866-868 MHz 1 %, 868.7-869.2 MHz 10 % (100 mW ERP; the default channels,
//   RX2 and the beacon are here). 865-866 and 868-868.7 MHz are not in that list and 869.2-870 MHz
//   has no 10 % allowance there: 1 % (RP002 marks the default channels "< 1 %"). No 10 % at
//   869.4-869.65 MHz (EU rule, not found in the Russian decision). Max EIRP 16 dBm (RP) in every
//   band, below the regulatory 25/100 mW ERP.
// * CN470: the legacy CN470-510 plan of RP001-1.0.2/1.0.3 (what "CN470" meant before RP002
//   split it into 20/26 MHz plans A/B with other RX2 and beacon frequencies): DR0-5, RX2
//   505.3 MHz DR0, beacon DR2 hopping over 508.3 + 0.2 n MHz (n = 0..7), 19.15 dBm.
// * IL915: BS's region (14 dBm, 20 dBm in 916.2-916.4 MHz, 1 %) on 915-917 MHz, extended to
//   920 MHz because TTS with reference region names sends "IL915" for its AS923-4 plan
//   (lns.md §8.1), which lives in 917-920 MHz. DRs, dwell, RX2 and beacon are AS923-4's; the
//   917-920 MHz part allows AS923-4's 16 dBm. AS923-4 stays a separate entry with its own name.
// * LR-FHSS data rates (EU868 DR8-11, US915 DR5-6, AU915 DR7) are left undefined: a gateway
//   does not transmit them.

constexpr uint32_t kDwell400ms = 400000;

constexpr DataRate lora(uint32_t spreading_factor, uint32_t bandwidth_hz, bool uplink = true)
{
    DataRate rate;
    rate.kind = DataRate::Kind::lora;
    rate.spreading_factor = spreading_factor;
    rate.bandwidth_hz = bandwidth_hz;
    rate.uplink = uplink;
    return rate;
}

constexpr DataRate fsk50()
{
    DataRate rate;
    rate.kind = DataRate::Kind::fsk;
    rate.bitrate = 50000;
    return rate;
}

// DR0-5: SF12..SF7 at 125 kHz (RP: EU868, AS923, KR920, IN865, RU864, CN470, AU915).
std::array<DataRate, 16> sf12_to_sf7_125()
{
    std::array<DataRate, 16> rates{};
    for (uint32_t dr = 0; dr < 6; ++dr) {
        rates[dr] = lora(12 - dr, 125000);
    }
    return rates;
}

// EU868, AS923, RU864 (RP): DR0-5, DR6 SF7/250 kHz, DR7 FSK 50 kbps.
std::array<DataRate, 16> eu_like_rates()
{
    auto rates = sf12_to_sf7_125();
    rates[6] = lora(7, 250000);
    rates[7] = fsk50();
    return rates;
}

// US915, AU915 (RP): DR8-13 = SF12..SF7 at 500 kHz, downlink only.
void add_downlink_500k(std::array<DataRate, 16>& rates)
{
    for (uint32_t dr = 8; dr <= 13; ++dr) {
        rates[dr] = lora(12 - (dr - 8), 500000, false);
    }
}

// n frequencies first, first + step, ... (beacon hopping sets).
std::vector<uint64_t> frequency_set(uint64_t first_hz, uint64_t step_hz, unsigned n)
{
    std::vector<uint64_t> out;
    for (unsigned i = 0; i < n; ++i) {
        out.push_back(first_hz + i * step_hz);
    }
    return out;
}

// The one band of a single-band region: its whole TX range (tx_max_hz included).
SubBand whole_band(uint64_t tx_min_hz, uint64_t tx_max_hz, double duty_cycle, float max_eirp_dbm)
{
    return SubBand{"all", tx_min_hz, tx_max_hz + 1, duty_cycle, max_eirp_dbm};
}

Region make_eu868()
{
    Region r;
    r.name = "EU868";
    r.aliases = {"EU863", "EU_863_870"};
    r.data_rates = eu_like_rates();
    r.tx_min_hz = 863'000'000;
    r.tx_max_hz = 870'000'000;
    r.default_eirp_dbm = 16;                                  // RP, BS
    r.default_eirp_ranges = {{869'400'000, 869'650'000, 27}}; // BS txpow2
    r.max_eirp_dbm = 29;                                      // ETSI P as coded
    r.duty_cycle_scope = DutyCycleScope::sub_band;
    r.sub_bands = {
        {"K", 863'000'000, 865'000'000, 0.001, 16}, {"L", 865'000'000, 868'000'000, 0.01, 16},
        {"M", 868'000'000, 868'600'000, 0.01, 16},  {"N", 868'700'000, 869'200'000, 0.001, 16},
        {"P", 869'400'000, 869'650'000, 0.1, 29},   {"P", 869'700'000, 870'000'000, 1.0, 9},
        {"Q", 869'700'000, 870'000'000, 0.01, 16},
    };
    r.rx2_frequency_hz = 869'525'000;
    r.rx2_data_rate = 0;
    r.beacon = {3, {869'525'000}, 27};
    return r;
}

Region make_us915()
{
    Region r;
    r.name = "US915";
    r.aliases = {"US902", "US_902_928"};
    r.data_rates[0] = lora(10, 125000);
    r.data_rates[1] = lora(9, 125000);
    r.data_rates[2] = lora(8, 125000);
    r.data_rates[3] = lora(7, 125000);
    r.data_rates[4] = lora(8, 500000);
    add_downlink_500k(r.data_rates);
    r.tx_min_hz = 923'300'000; // downlink channels 923.3 + 0.6 n MHz, n = 0..7
    r.tx_max_hz = 927'500'000;
    r.default_eirp_dbm = 26; // BS
    r.max_eirp_dbm = 30;     // RP
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 1.0, r.max_eirp_dbm)};
    r.rx2_frequency_hz = 923'300'000;
    r.rx2_data_rate = 8;
    r.beacon = {8, frequency_set(923'300'000, 600'000, 8), 26};
    return r;
}

Region make_au915()
{
    Region r;
    r.name = "AU915";
    r.aliases = {"AU_915_928"};
    r.data_rates = sf12_to_sf7_125();
    r.data_rates[6] = lora(8, 500000);
    add_downlink_500k(r.data_rates);
    r.tx_min_hz = 923'300'000; // downlink channels 923.3 + 0.6 n MHz, n = 0..7
    r.tx_max_hz = 927'500'000;
    r.default_eirp_dbm = 30; // BS
    r.max_eirp_dbm = 30;     // RP
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 1.0, r.max_eirp_dbm)};
    r.dwell_time_us = kDwell400ms;
    r.dwell_time_default = false;
    r.uplink_dwell_time_default = true;
    r.rx2_frequency_hz = 923'300'000;
    r.rx2_data_rate = 8;
    r.beacon = {8, frequency_set(923'300'000, 600'000, 8), 30};
    return r;
}

// AS923 group with its RP002 frequency offset; duty cycle and LBT are set by the caller.
Region make_as923(std::string_view name, std::vector<std::string_view> aliases, int64_t offset_hz,
                  uint64_t tx_min_hz, uint64_t tx_max_hz)
{
    Region r;
    r.name = name;
    r.aliases = std::move(aliases);
    r.data_rates = eu_like_rates();
    r.tx_min_hz = tx_min_hz;
    r.tx_max_hz = tx_max_hz;
    r.default_eirp_dbm = 16;
    r.max_eirp_dbm = 16;
    r.sub_bands = {whole_band(tx_min_hz, tx_max_hz, 1.0, r.max_eirp_dbm)};
    r.dwell_time_us = kDwell400ms;
    r.dwell_time_default = true;
    r.uplink_dwell_time_default = true;
    r.rx2_frequency_hz = static_cast<uint64_t>(923'200'000 + offset_hz);
    r.rx2_data_rate = 2;
    r.beacon = {3, {static_cast<uint64_t>(923'400'000 + offset_hz)}, r.default_eirp_dbm};
    return r;
}

Region make_as923_1()
{
    Region r = make_as923("AS923-1", {"AS923", "AS923JP", "AS_923"}, 0, 915'000'000, 928'000'000);
    r.duty_cycle_scope = DutyCycleScope::channel; // BS: 10 % per downlink channel
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 0.1, r.max_eirp_dbm)};
    r.lbt = {true, -80, 5000, 4'000'000, false}; // BS threshold; ARIB STD-T108 5 ms / 4 s
    return r;
}

Region make_as923_4()
{
    Region r = make_as923("AS923-4", {"AS_923_4"}, -5'900'000, 917'000'000, 920'000'000);
    r.duty_cycle_scope = DutyCycleScope::sub_band; // Israel: 1 % as BS's IL915
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 0.01, r.max_eirp_dbm)};
    return r;
}

Region make_kr920()
{
    Region r;
    r.name = "KR920";
    r.aliases = {"KR_920_923"};
    r.data_rates = sf12_to_sf7_125();
    r.tx_min_hz = 920'900'000;
    r.tx_max_hz = 923'300'000;
    r.default_eirp_dbm = 23; // BS; RP001-1.0.2 gateway limit
    r.max_eirp_dbm = 23;
    r.duty_cycle_scope = DutyCycleScope::channel; // BS: 2 % per downlink channel
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 0.02, r.max_eirp_dbm)};
    r.lbt = {true, -65, 5000, 4'000'000, true}; // RP threshold and scan; Korean 4 s limit
    r.rx2_frequency_hz = 921'900'000;
    r.rx2_data_rate = 0;
    r.beacon = {3, {923'100'000}, 23};
    return r;
}

Region make_in865()
{
    Region r;
    r.name = "IN865";
    r.aliases = {"IN_865_867"};
    r.data_rates = sf12_to_sf7_125(); // DR6 RFU
    r.data_rates[7] = fsk50();
    r.tx_min_hz = 865'000'000;
    r.tx_max_hz = 867'000'000;
    r.default_eirp_dbm = 30;
    r.max_eirp_dbm = 30;
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 1.0, r.max_eirp_dbm)};
    r.rx2_frequency_hz = 866'550'000;
    r.rx2_data_rate = 2;
    r.beacon = {4, {866'550'000}, 30};
    return r;
}

Region make_ru864()
{
    Region r;
    r.name = "RU864";
    r.aliases = {"RU_864_870"};
    r.data_rates = eu_like_rates();
    r.tx_min_hz = 864'000'000;
    r.tx_max_hz = 870'000'000;
    r.default_eirp_dbm = 16;
    r.max_eirp_dbm = 16;
    r.duty_cycle_scope = DutyCycleScope::sub_band;
    r.sub_bands = {
        {"864-865", 864'000'000, 865'000'000, 0.001, 16},
        {"865-868.7", 865'000'000, 868'700'000, 0.01, 16},
        {"868.7-869.2", 868'700'000, 869'200'000, 0.1, 16},
        {"869.2-870", 869'200'000, 870'000'000, 0.01, 16},
    };
    r.rx2_frequency_hz = 869'100'000;
    r.rx2_data_rate = 0;
    r.beacon = {3, {869'100'000}, 16};
    return r;
}

Region make_cn470()
{
    Region r;
    r.name = "CN470";
    r.aliases = {"CN_470_510"};
    r.data_rates = sf12_to_sf7_125();
    r.tx_min_hz = 470'000'000;
    r.tx_max_hz = 510'000'000;
    r.default_eirp_dbm = 19.15f;
    r.max_eirp_dbm = 19.15f;
    r.sub_bands = {whole_band(r.tx_min_hz, r.tx_max_hz, 1.0, r.max_eirp_dbm)};
    r.rx2_frequency_hz = 505'300'000;
    r.rx2_data_rate = 0;
    r.beacon = {2, frequency_set(508'300'000, 200'000, 8), 19.15f};
    return r;
}

Region make_il915()
{
    Region r = make_as923("IL915", {}, -5'900'000, 915'000'000, 920'000'000);
    r.default_eirp_dbm = 14;                                  // BS
    r.default_eirp_ranges = {{916'200'000, 916'400'000, 20}}; // BS txpow2
    r.max_eirp_dbm = 20;
    r.duty_cycle_scope = DutyCycleScope::sub_band; // BS: 1 %
    r.sub_bands = {
        {"915-916.2", 915'000'000, 916'200'000, 0.01, 14},
        {"916.2-916.4", 916'200'000, 916'400'000, 0.01, 20},
        {"916.4-917", 916'400'000, 917'000'000, 0.01, 14},
        {"917-920", 917'000'000, 920'000'001, 0.01, 16}, // AS923-4's band and EIRP
    };
    r.beacon.power_dbm = 14;
    return r;
}

const std::vector<Region>& region_table()
{
    static const std::vector<Region> table = {
        make_eu868(),
        make_us915(),
        make_au915(),
        make_as923_1(),
        make_as923("AS923-2", {"AS_923_2"}, -1'800'000, 920'000'000, 923'000'000),
        make_as923("AS923-3", {"AS_923_3"}, -6'600'000, 915'000'000, 921'000'000),
        make_as923_4(),
        make_kr920(),
        make_in865(),
        make_ru864(),
        make_cn470(),
        make_il915(),
    };
    return table;
}

// Case-insensitive, '_' equal to '-'.
bool same_name(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        char x = ascii_lower(a[i]);
        char y = ascii_lower(b[i]);
        x = x == '_' ? '-' : x;
        y = y == '_' ? '-' : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

} // namespace

const std::vector<const Region*>& all_regions()
{
    static const std::vector<const Region*> regions = [] {
        std::vector<const Region*> out;
        for (const Region& region : region_table()) {
            out.push_back(&region);
        }
        return out;
    }();
    return regions;
}

const Region* find_region(std::string_view name)
{
    if (name.empty()) {
        return nullptr;
    }
    for (const Region* region : all_regions()) {
        if (same_name(region->name, name)) {
            return region;
        }
        for (std::string_view alias : region->aliases) {
            if (same_name(alias, name)) {
                return region;
            }
        }
    }
    return nullptr;
}

std::string region_names()
{
    std::string out;
    for (const Region* region : all_regions()) {
        if (!out.empty()) {
            out += ", ";
        }
        out += region->name;
        if (!region->aliases.empty()) {
            out += " (";
            for (size_t i = 0; i < region->aliases.size(); ++i) {
                if (i > 0) {
                    out += ", ";
                }
                out += region->aliases[i];
            }
            out += ")";
        }
    }
    return out;
}

const SubBand* find_sub_band(const Region& region, uint64_t freq_hz, float eirp_dbm)
{
    const SubBand* first = nullptr;
    for (const SubBand& band : region.sub_bands) {
        if (freq_hz < band.min_hz || freq_hz >= band.max_hz) {
            continue;
        }
        if (band.max_eirp_dbm >= eirp_dbm) {
            return &band;
        }
        if (first == nullptr) {
            first = &band;
        }
    }
    return first;
}

const DataRate* data_rate(const Region& region, uint32_t dr)
{
    if (dr >= region.data_rates.size() || !region.data_rates[dr].defined()) {
        return nullptr;
    }
    return &region.data_rates[dr];
}

bool in_tx_range(const Region& region, uint64_t freq_hz)
{
    return freq_hz >= region.tx_min_hz && freq_hz <= region.tx_max_hz;
}

float default_eirp_at(const Region& region, uint64_t freq_hz)
{
    for (const EirpRange& range : region.default_eirp_ranges) {
        if (freq_hz >= range.min_hz && freq_hz < range.max_hz) {
            return range.eirp_dbm;
        }
    }
    return region.default_eirp_dbm;
}

uint64_t beacon_frequency(const Region& region, uint64_t beacon_time_s)
{
    const auto& freqs = region.beacon.frequencies_hz;
    if (freqs.empty()) {
        return 0;
    }
    return freqs[(beacon_time_s / 128) % freqs.size()];
}

} // namespace forwarder::support
