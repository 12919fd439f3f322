// Region plans of the simulated LNS: the router_config it sends (lns.md §8.1) and the downlink
// windows it picks for a class A answer.
#pragma once

#include <Poco/JSON/Object.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lns_sim {

// How undefined data rates are written: TTS [0,0,0] (and dnonly never set), CS/reference
// [-1,0,0] (dnonly set on downlink-only DRs).
enum class DrStyle { Tts, Cs };

struct DataRate {
    int sf = -1;    // 7..12 LoRa, 0 FSK, -1 undefined
    int bw_khz = 0; // 125, 250, 500 (LoRa)
    bool dnonly = false;
};

struct LoraChannel {
    uint32_t freq = 0;
    int radio = 0;
};

enum class Rx1Rule {
    SameAsUplink, // EU-like: RX1 on the uplink frequency, DR = uplink DR - offset
    Us915,        // 8 downlink channels 923.3 + 0.6·(ch mod 8) MHz, DR 10+DR (500 kHz)
    Au915,        // same downlink channels, DR 8+DR
};

struct RegionPlan {
    std::string_view name; // the TTS/CS legacy name sent by default
    std::vector<std::string_view> aliases;
    std::array<uint32_t, 2> radio_freq{};
    std::array<bool, 2> radio_enable{};
    std::vector<LoraChannel> multi_sf; // up to 8
    std::optional<LoraChannel> lora_std;
    int std_sf = 7;
    int std_bw_khz = 250;
    std::optional<LoraChannel> fsk;
    std::array<DataRate, 16> drs{};
    uint32_t freq_min = 0;
    uint32_t freq_max = 0;
    double max_eirp = 0;
    uint32_t rx2_freq = 0;
    int rx2_dr = 0;
    Rx1Rule rx1_rule = Rx1Rule::SameAsUplink;
    // Class B beacon (RP002), also the default ping-slot channel: frequencies hopped by
    // floor(beacon time / 128 s) mod n.
    int beacon_dr = 3;
    std::vector<uint32_t> beacon_freqs;
};

// By name or alias, case-insensitive (EU863/EU868, US902/US915, AS923/AS923-1/AS923JP, KR920,
// IN865, AU915). nullptr if unknown.
const RegionPlan* find_region(std::string_view name);

// "EU863 (EU868), US902 (US915), ..." for --help and error messages.
std::string region_list();

// The full router_config message; `region_name` is what goes into "region". With `beacon`
// it carries "bcning" {DR, layout, freqs} for the plan's beacon.
Poco::JSON::Object::Ptr build_router_config(const RegionPlan& plan, std::string_view region_name,
                                            DrStyle style, double mux_time, bool beacon = false);

// LoRaWAN beacon layout [time_off, infodesc_off, length] for a spreading factor (8..12, TTS's
// bcning.layout values, timing.md §8.3); {0, 0, 0} otherwise.
std::array<int, 3> beacon_layout(int spreading_factor);

struct Window {
    int dr = 0;
    uint32_t freq = 0;
};

// RX1 for an uplink on `up_dr`/`up_freq`; nullopt if the uplink does not fit the plan.
std::optional<Window> rx1_window(const RegionPlan& plan, int up_dr, uint32_t up_freq,
                                 int dr_offset);

} // namespace lns_sim
