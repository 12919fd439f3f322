#pragma once
// LoRaWAN regional parameters a gateway needs to transmit: data-rate tables, TX frequency range,
// power, duty-cycle bands, dwell time, Listen Before Talk, RX2 and class B beacon defaults.
// Pure data; standard library only.
//
// Sources (each value in region.cpp names the one it follows):
//   RP     LoRaWAN Regional Parameters RP002-1.0.x (data rates, RX2, beacon, default max EIRP,
//          AS923 group offsets, dwell-time defaults, KR920 LBT); RP001-1.0.2/1.0.3 for the
//          legacy CN470-510 plan and for the KR920 gateway EIRP table.
//   ETSI   ETSI EN 300 220 sub-bands as in timing.md §5.1 (Concentratord's model; its power
//          column is "EIRP as coded", i.e. ERP + 2 dB).
//   BS     LoRa Basics Station 2.0.6 per-region TX defaults, duty-cycle and LBT models
//          (lns.md §8.1, timing.md §5.2 and §7).
//   names  region names servers send in router_config (lns.md §8.1 region table) and
//          The Things Stack band ids (EU_863_870, ...).
// Where these disagree, region.cpp says which one was followed and why.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::support {

struct DataRate {
    enum class Kind { undefined, lora, fsk };
    Kind kind = Kind::undefined;
    uint32_t spreading_factor = 0; // LoRa
    uint32_t bandwidth_hz = 0;     // LoRa
    uint32_t bitrate = 0;          // FSK (50000)
    bool uplink = true;            // usable for uplinks (false: downlink-only, e.g. US915 DR8-13)

    bool defined() const { return kind != Kind::undefined; }
};

// A frequency range with its own regulatory limits (ETSI sub-band, or the whole band).
// Names are labels for messages, not keys: EU868 has two entries labelled "P" (timing.md §5.1),
// so duty-cycle accounting must key on the entry (its address), not on the name.
struct SubBand {
    std::string_view name;   // "K", "L", "M", "N", "P", "Q" for EU868; "all" when one band
    uint64_t min_hz = 0;     // inclusive
    uint64_t max_hz = 0;     // exclusive
    double duty_cycle = 1.0; // fraction of time allowed on air (0.01 = 1 %); 1.0 = no limit
    float max_eirp_dbm = 0;
};

enum class DutyCycleScope {
    none,
    sub_band,
    channel
}; // channel: the limit applies per TX frequency

struct Lbt {
    bool required = false;
    float threshold_dbm = 0;   // channel busy above this RSSI
    uint32_t scan_time_us = 0; // 128 or 5000
    // Longest single transmission after one clear scan (0 = no LBT-specific limit).
    uint32_t max_tx_time_us = 0;
    // The regulation accepts LBT instead of the duty-cycle limit (Korea: LBT or 2 %), so a
    // scheduler whose radio performs the scan may skip the duty-cycle check.
    bool replaces_duty_cycle = false;
};

struct BeaconPlan {
    uint32_t data_rate = 0;               // DR index in data_rates
    std::vector<uint64_t> frequencies_hz; // one, or several hopped by floor(beacon_time/128) mod n
    float power_dbm = 0;                  // EIRP
};

// A frequency range whose default EIRP differs from Region::default_eirp_dbm (the reference
// station's "txpow2", e.g. 27 dBm in EU868 869.4-869.65 MHz).
struct EirpRange {
    uint64_t min_hz = 0; // inclusive
    uint64_t max_hz = 0; // exclusive
    float eirp_dbm = 0;
};

struct Region {
    // canonical: "EU868", "US915", "AU915", "AS923-1", "AS923-2", "AS923-3", "AS923-4",
    // "KR920", "IN865", "RU864", "CN470", "IL915"
    std::string_view name;
    std::vector<std::string_view> aliases; // every other name servers send for it
    std::array<DataRate, 16> data_rates;   // index = DR
    // Allowed TX (centre) frequencies, both ends inclusive like router_config's freq_range.
    uint64_t tx_min_hz = 0, tx_max_hz = 0;
    float default_eirp_dbm = 0; // EIRP used when the server gives none (see default_eirp_at)
    std::vector<EirpRange> default_eirp_ranges; // exceptions to default_eirp_dbm by frequency
    float max_eirp_dbm = 0;                     // regulatory maximum anywhere in the region
    DutyCycleScope duty_cycle_scope = DutyCycleScope::none;
    // sub_band scope: the bands; channel scope: one entry covering the band with the
    // per-channel ratio; none: one "all" band with 1.0. Every TX frequency the region allows
    // lies in at least one entry (single-band regions end at tx_max_hz + 1, max being exclusive).
    std::vector<SubBand> sub_bands;
    uint32_t dwell_time_us = 0; // 400000 where the RP defines a dwell-time switch, else 0
    // Downlink (i.e. gateway TX) dwell limit on unless the server/config turns it off.
    bool dwell_time_default = false;
    // Devices start with the uplink dwell limit on (TxParamSetupReq turns it off). Informative:
    // the gateway does not transmit uplinks.
    bool uplink_dwell_time_default = false;
    Lbt lbt;
    uint64_t rx2_frequency_hz = 0;
    uint32_t rx2_data_rate = 0;
    BeaconPlan beacon;
};

// Case-insensitive; canonical name or any alias; '_' and '-' are interchangeable
// ("as923_1" finds AS923-1). nullptr if unknown.
const Region* find_region(std::string_view name);
const std::vector<const Region*>& all_regions();
// "EU868 (EU863, EU_863_870), US915 (US902, US_902_928), ..." for error messages.
std::string region_names();

// The sub-band a TX at freq_hz falls in: the first band containing the frequency (min inclusive,
// max exclusive) whose max_eirp_dbm >= eirp_dbm; if none allows that EIRP, the first that
// contains the frequency; nullptr if outside all bands.
const SubBand* find_sub_band(const Region& region, uint64_t freq_hz, float eirp_dbm);

// nullptr if undefined or out of range.
const DataRate* data_rate(const Region& region, uint32_t dr);

// tx_min_hz <= freq_hz <= tx_max_hz.
bool in_tx_range(const Region& region, uint64_t freq_hz);

// The EIRP to use at freq_hz when the server gives none: the first default_eirp_ranges entry
// containing the frequency, else default_eirp_dbm.
float default_eirp_at(const Region& region, uint64_t freq_hz);

// The beacon frequency for the beacon sent at GPS second beacon_time_s (a multiple of 128):
// frequencies_hz[floor(beacon_time_s / 128) mod n]; 0 if the region has none.
uint64_t beacon_frequency(const Region& region, uint64_t beacon_time_s);

} // namespace forwarder::support
