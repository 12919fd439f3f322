#include "regions.hpp"

#include "output.hpp"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>

namespace lns_sim {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr DataRate lora(int sf, int bw, bool dnonly = false)
{
    return DataRate{sf, bw, dnonly};
}
constexpr DataRate kFsk{0, 0, false};
constexpr DataRate kUndefined{-1, 0, false};

// DR0..5 = SF12..SF7/125 kHz, the rest undefined.
std::array<DataRate, 16> drs_sf12_to_sf7()
{
    std::array<DataRate, 16> drs{};
    drs.fill(kUndefined);
    for (int i = 0; i < 6; ++i) {
        drs[static_cast<size_t>(i)] = lora(12 - i, 125);
    }
    return drs;
}

std::array<DataRate, 16> drs_eu()
{
    auto drs = drs_sf12_to_sf7();
    drs[6] = lora(7, 250);
    drs[7] = kFsk;
    return drs;
}

std::array<DataRate, 16> drs_in()
{
    auto drs = drs_sf12_to_sf7();
    drs[7] = kFsk;
    return drs;
}

std::array<DataRate, 16> drs_us()
{
    std::array<DataRate, 16> drs{};
    drs.fill(kUndefined);
    for (int i = 0; i < 4; ++i) {
        drs[static_cast<size_t>(i)] = lora(10 - i, 125);
    }
    drs[4] = lora(8, 500);
    for (int i = 0; i < 6; ++i) {
        drs[static_cast<size_t>(8 + i)] = lora(12 - i, 500, true);
    }
    return drs;
}

std::array<DataRate, 16> drs_au()
{
    auto drs = drs_sf12_to_sf7();
    drs[6] = lora(8, 500);
    for (int i = 0; i < 6; ++i) {
        drs[static_cast<size_t>(8 + i)] = lora(12 - i, 500, true);
    }
    return drs;
}

// US915/AU915 beacon channels: 923.3 + 0.6 n MHz, n = 0..7.
std::vector<uint32_t> hopping_923_3()
{
    std::vector<uint32_t> freqs;
    for (uint32_t n = 0; n < 8; ++n) {
        freqs.push_back(923300000 + n * 600000);
    }
    return freqs;
}

std::vector<RegionPlan> make_plans()
{
    std::vector<RegionPlan> plans;

    RegionPlan eu;
    eu.name = "EU863";
    eu.aliases = {"EU868", "EU863-870", "EU_863_870"};
    eu.radio_freq = {867500000, 868500000};
    eu.radio_enable = {true, true};
    eu.multi_sf = {{868100000, 1}, {868300000, 1}, {868500000, 1}, {867100000, 0},
                   {867300000, 0}, {867500000, 0}, {867700000, 0}, {867900000, 0}};
    eu.lora_std = LoraChannel{868300000, 1};
    eu.std_sf = 7;
    eu.std_bw_khz = 250;
    eu.fsk = LoraChannel{868800000, 1};
    eu.drs = drs_eu();
    eu.freq_min = 863000000;
    eu.freq_max = 870000000;
    eu.max_eirp = 16;
    eu.rx2_freq = 869525000;
    eu.rx2_dr = 0;
    eu.beacon_dr = 3;
    eu.beacon_freqs = {869525000};
    plans.push_back(eu);

    // Sub-band 2 (channels 8..15 and 65), as most US gateways are configured.
    RegionPlan us;
    us.name = "US902";
    us.aliases = {"US915", "US902-928", "US_902_928"};
    us.radio_freq = {904300000, 905000000};
    us.radio_enable = {true, true};
    us.multi_sf = {{903900000, 0}, {904100000, 0}, {904300000, 0}, {904500000, 0},
                   {904700000, 1}, {904900000, 1}, {905100000, 1}, {905300000, 1}};
    us.lora_std = LoraChannel{904600000, 0};
    us.std_sf = 8;
    us.std_bw_khz = 500;
    us.drs = drs_us();
    us.freq_min = 902000000;
    us.freq_max = 928000000;
    us.max_eirp = 30;
    us.rx2_freq = 923300000;
    us.rx2_dr = 8;
    us.rx1_rule = Rx1Rule::Us915;
    us.beacon_dr = 8;
    us.beacon_freqs = hopping_923_3();
    plans.push_back(us);

    // Sub-band 2 (channels 8..15 and 65).
    RegionPlan au;
    au.name = "AU915";
    au.aliases = {"AU915-928", "AU_915_928"};
    au.radio_freq = {917200000, 917900000};
    au.radio_enable = {true, true};
    au.multi_sf = {{916800000, 0}, {917000000, 0}, {917200000, 0}, {917400000, 0},
                   {917600000, 1}, {917800000, 1}, {918000000, 1}, {918200000, 1}};
    au.lora_std = LoraChannel{917500000, 0};
    au.std_sf = 8;
    au.std_bw_khz = 500;
    au.drs = drs_au();
    au.freq_min = 915000000;
    au.freq_max = 928000000;
    au.max_eirp = 30;
    au.rx2_freq = 923300000;
    au.rx2_dr = 8;
    au.rx1_rule = Rx1Rule::Au915;
    au.beacon_dr = 8;
    au.beacon_freqs = hopping_923_3();
    plans.push_back(au);

    // AS923-1: the two default channels 923.2/923.4 plus 922.0..923.0.
    RegionPlan as;
    as.name = "AS923";
    as.aliases = {"AS923-1", "AS923JP", "AS_923", "AS_920_923"};
    as.radio_freq = {922000000, 923000000};
    as.radio_enable = {true, true};
    as.multi_sf = {{923200000, 1}, {923400000, 1}, {922000000, 0}, {922200000, 0},
                   {922400000, 0}, {922600000, 1}, {922800000, 1}, {923000000, 1}};
    as.lora_std = LoraChannel{922100000, 0};
    as.std_sf = 7;
    as.std_bw_khz = 250;
    as.fsk = LoraChannel{921800000, 0};
    as.drs = drs_eu();
    as.freq_min = 915000000;
    as.freq_max = 928000000;
    as.max_eirp = 16;
    as.rx2_freq = 923200000;
    as.rx2_dr = 2;
    as.beacon_dr = 3;
    as.beacon_freqs = {923400000};
    plans.push_back(as);

    RegionPlan kr;
    kr.name = "KR920";
    kr.aliases = {"KR920-923", "KR_920_923"};
    kr.radio_freq = {922400000, 923100000};
    kr.radio_enable = {true, true};
    kr.multi_sf = {{922100000, 0}, {922300000, 0}, {922500000, 0}, {922700000, 0},
                   {922900000, 1}, {923100000, 1}, {923300000, 1}};
    kr.drs = drs_sf12_to_sf7();
    kr.freq_min = 920900000;
    kr.freq_max = 923300000;
    kr.max_eirp = 23;
    kr.rx2_freq = 921900000;
    kr.rx2_dr = 0;
    kr.beacon_dr = 3;
    kr.beacon_freqs = {923100000};
    plans.push_back(kr);

    // The three default channels only.
    RegionPlan in;
    in.name = "IN865";
    in.aliases = {"IN865-867", "IN_865_867"};
    in.radio_freq = {865232500, 865985000};
    in.radio_enable = {true, true};
    in.multi_sf = {{865062500, 0}, {865402500, 0}, {865985000, 1}};
    in.drs = drs_in();
    in.freq_min = 865000000;
    in.freq_max = 867000000;
    in.max_eirp = 30;
    in.rx2_freq = 866550000;
    in.rx2_dr = 2;
    in.beacon_dr = 4;
    in.beacon_freqs = {866550000};
    plans.push_back(in);

    return plans;
}

const std::vector<RegionPlan>& plans()
{
    static const std::vector<RegionPlan> all = make_plans();
    return all;
}

bool equal_nocase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) ==
                      std::toupper(static_cast<unsigned char>(y));
           });
}

Object::Ptr chain_disabled(DrStyle style)
{
    Object::Ptr chain = new_object();
    chain->set("enable", false);
    if (style == DrStyle::Cs) {
        chain->set("radio", 0);
        chain->set("if", 0);
    }
    return chain;
}

Object::Ptr chain(const RegionPlan& plan, const LoraChannel& channel)
{
    Object::Ptr object = new_object();
    object->set("enable", true);
    object->set("radio", channel.radio);
    object->set("if",
                static_cast<Poco::Int64>(channel.freq) -
                    static_cast<Poco::Int64>(plan.radio_freq[static_cast<size_t>(channel.radio)]));
    return object;
}

} // namespace

const RegionPlan* find_region(std::string_view name)
{
    for (const auto& plan : plans()) {
        if (equal_nocase(plan.name, name)) {
            return &plan;
        }
        for (auto alias : plan.aliases) {
            if (equal_nocase(alias, name)) {
                return &plan;
            }
        }
    }
    return nullptr;
}

std::string region_list()
{
    std::string text;
    for (const auto& plan : plans()) {
        if (!text.empty()) {
            text += ", ";
        }
        text += plan.name;
        if (!plan.aliases.empty()) {
            text += " (";
            text += plan.aliases.front();
            text += ")";
        }
    }
    return text;
}

std::array<int, 3> beacon_layout(int spreading_factor)
{
    switch (spreading_factor) {
    case 8:
        return {1, 7, 19};
    case 9:
        return {2, 8, 17};
    case 10:
        return {3, 9, 19};
    case 11:
        return {4, 10, 21};
    case 12:
        return {5, 11, 23};
    default:
        return {0, 0, 0};
    }
}

Object::Ptr build_router_config(const RegionPlan& plan, std::string_view region_name, DrStyle style,
                                double mux_time, bool beacon)
{
    Object::Ptr config = new_object();
    config->set("msgtype", "router_config");
    config->set("NetID", Poco::Dynamic::Var());
    config->set("JoinEui", Poco::Dynamic::Var());
    config->set("region", std::string(region_name));
    config->set("hwspec", "sx1301/1");

    Array::Ptr range = new Array;
    range->add(plan.freq_min);
    range->add(plan.freq_max);
    config->set("freq_range", range);

    Array::Ptr drs = new Array;
    for (const auto& dr : plan.drs) {
        Array::Ptr entry = new Array;
        if (dr.sf < 0) {
            entry->add(style == DrStyle::Tts ? 0 : -1);
            entry->add(0);
            entry->add(0);
        } else {
            entry->add(dr.sf);
            entry->add(dr.bw_khz);
            entry->add(style == DrStyle::Cs && dr.dnonly ? 1 : 0);
        }
        drs->add(entry);
    }
    config->set("DRs", drs);

    Object::Ptr conf = new_object();
    for (size_t r = 0; r < 2; ++r) {
        Object::Ptr radio = new_object();
        radio->set("enable", plan.radio_enable[r]);
        radio->set("freq", plan.radio_enable[r] || style == DrStyle::Tts ? plan.radio_freq[r] : 0);
        conf->set("radio_" + std::to_string(r), radio);
    }
    for (size_t i = 0; i < 8; ++i) {
        conf->set("chan_multiSF_" + std::to_string(i),
                  i < plan.multi_sf.size() ? chain(plan, plan.multi_sf[i]) : chain_disabled(style));
    }
    if (plan.lora_std) {
        Object::Ptr std_chain = chain(plan, *plan.lora_std);
        std_chain->set("bandwidth", plan.std_bw_khz * 1000);
        std_chain->set("spread_factor", plan.std_sf);
        conf->set("chan_Lora_std", std_chain);
    } else {
        conf->set("chan_Lora_std", chain_disabled(style));
    }
    if (plan.fsk) {
        Object::Ptr fsk = chain(plan, *plan.fsk);
        fsk->set("datarate", 50000);
        conf->set("chan_FSK", fsk);
    } else {
        conf->set("chan_FSK", chain_disabled(style));
    }
    Array::Ptr confs = new Array;
    confs->add(conf);
    config->set("sx1301_conf", confs);
    config->set("max_eirp", plan.max_eirp);
    if (beacon && !plan.beacon_freqs.empty()) {
        Object::Ptr bcning = new_object();
        bcning->set("DR", plan.beacon_dr);
        Array::Ptr layout = new Array;
        for (int value : beacon_layout(plan.drs[static_cast<size_t>(plan.beacon_dr)].sf)) {
            layout->add(value);
        }
        bcning->set("layout", layout);
        Array::Ptr freqs = new Array;
        for (uint32_t f : plan.beacon_freqs) {
            freqs->add(f);
        }
        bcning->set("freqs", freqs);
        config->set("bcning", bcning);
    }
    config->set("MuxTime", mux_time);
    return config;
}

std::optional<Window> rx1_window(const RegionPlan& plan, int up_dr, uint32_t up_freq, int dr_offset)
{
    if (up_dr < 0 || up_dr > 15) {
        return std::nullopt;
    }
    if (plan.rx1_rule == Rx1Rule::SameAsUplink) {
        return Window{std::max(0, up_dr - dr_offset), up_freq};
    }
    // US915/AU915: find the uplink channel number, answer on 923.3 + 0.6·(ch mod 8) MHz.
    const bool us = plan.rx1_rule == Rx1Rule::Us915;
    const int wide_dr = us ? 4 : 6;
    const int64_t base =
        up_dr == wide_dr ? (us ? 903000000 : 915900000) : (us ? 902300000 : 915200000);
    const int64_t step = up_dr == wide_dr ? 1600000 : 200000;
    const int64_t delta = static_cast<int64_t>(up_freq) - base;
    if (up_dr > wide_dr || delta < 0 || delta % step != 0) {
        return std::nullopt;
    }
    const int64_t channel = delta / step + (up_dr == wide_dr ? 64 : 0);
    const int first = us ? 10 : 8;
    const int dr = std::clamp(std::min(first + up_dr, 13) - dr_offset, 8, 13);
    return Window{dr, static_cast<uint32_t>(923300000 + (channel % 8) * 600000)};
}

} // namespace lns_sim
