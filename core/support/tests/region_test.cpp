#include "region.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

using namespace forwarder::support;

namespace {

const Region& region(std::string_view name)
{
    const Region* found = find_region(name);
    if (found == nullptr) {
        ADD_FAILURE() << "no region " << name;
        static const Region empty;
        return empty;
    }
    return *found;
}

std::string swap_dash_underscore(std::string_view name)
{
    std::string out(name);
    for (char& c : out) {
        if (c == '-') {
            c = '_';
        } else if (c == '_') {
            c = '-';
        }
    }
    return out;
}

std::string lower(std::string_view name)
{
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

} // namespace

TEST(Region, AllCanonicalRegionsArePresentOnce)
{
    const std::vector<std::string_view> expected = {"EU868",   "US915",   "AU915",   "AS923-1",
                                                    "AS923-2", "AS923-3", "AS923-4", "KR920",
                                                    "IN865",   "RU864",   "CN470",   "IL915"};
    ASSERT_EQ(all_regions().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(all_regions()[i]->name, expected[i]);
    }
}

TEST(Region, FoundByCanonicalNameAndEveryAliasInAnyCaseAndSeparator)
{
    std::set<std::string> seen;
    for (const Region* r : all_regions()) {
        std::vector<std::string_view> names = r->aliases;
        names.push_back(r->name);
        for (std::string_view name : names) {
            EXPECT_TRUE(seen.insert(lower(swap_dash_underscore(name))).second)
                << "name used twice: " << name;
            EXPECT_EQ(find_region(name), r) << name;
            EXPECT_EQ(find_region(lower(name)), r) << name;
            EXPECT_EQ(find_region(swap_dash_underscore(name)), r) << name;
        }
    }
}

TEST(Region, AliasesServersSend)
{
    // lns.md §8.1 region table and TTS band ids.
    const std::vector<std::pair<std::string_view, std::string_view>> cases = {
        {"EU863", "EU868"},      {"EU_863_870", "EU868"}, {"US902", "US915"},
        {"US_902_928", "US915"}, {"AU915", "AU915"},      {"AU_915_928", "AU915"},
        {"AS923", "AS923-1"},    {"AS923JP", "AS923-1"},  {"AS923-1", "AS923-1"},
        {"AS923_1", "AS923-1"},  {"as923jp", "AS923-1"},  {"AS_923", "AS923-1"},
        {"AS923-2", "AS923-2"},  {"AS_923_2", "AS923-2"}, {"as923_3", "AS923-3"},
        {"AS_923_3", "AS923-3"}, {"AS923-4", "AS923-4"},  {"AS_923_4", "AS923-4"},
        {"IL915", "IL915"},      {"KR920", "KR920"},      {"KR_920_923", "KR920"},
        {"IN865", "IN865"},      {"IN_865_867", "IN865"}, {"RU864", "RU864"},
        {"RU_864_870", "RU864"}, {"CN470", "CN470"},      {"CN_470_510", "CN470"},
        {"eu868", "EU868"},
    };
    for (const auto& [alias, canonical] : cases) {
        const Region* r = find_region(alias);
        ASSERT_NE(r, nullptr) << alias;
        EXPECT_EQ(r->name, canonical) << alias;
    }
}

TEST(Region, UnknownNamesAreNotFoundAndTheMessageListsEveryRegion)
{
    for (std::string_view name : {"", "EU", "EU8680", "AS923-5", "CN779", "EU433", "ISM2400",
                                  " EU868", "EU868 ", "AS923--1", "AS9231"}) {
        EXPECT_EQ(find_region(name), nullptr) << "'" << name << "'";
    }
    const std::string names = region_names();
    for (const Region* r : all_regions()) {
        EXPECT_NE(names.find(r->name), std::string::npos) << r->name;
        for (std::string_view alias : r->aliases) {
            EXPECT_NE(names.find(alias), std::string::npos) << alias;
        }
    }
    EXPECT_EQ(names.rfind("EU868 (EU863, EU_863_870), US915 (US902, US_902_928), ", 0), 0u)
        << names;
    EXPECT_NE(names.find("AS923-1 (AS923, AS923JP, AS_923)"), std::string::npos) << names;
    EXPECT_EQ(names.substr(names.size() - 7), ", IL915") << names;
}

TEST(Region, Eu868SubBandsFollowEtsi)
{
    const Region& eu = region("EU868");
    EXPECT_EQ(eu.duty_cycle_scope, DutyCycleScope::sub_band);

    const SubBand* m = find_sub_band(eu, 868'100'000, 16);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->name, "M");
    EXPECT_DOUBLE_EQ(m->duty_cycle, 0.01);

    const SubBand* p = find_sub_band(eu, 869'525'000, 27);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->name, "P");
    EXPECT_DOUBLE_EQ(p->duty_cycle, 0.1);
    EXPECT_FLOAT_EQ(p->max_eirp_dbm, 29);

    // 869.7-870 MHz: the 100 % band allows 9 dBm only, so 14 dBm falls to Q (1 %).
    const SubBand* q = find_sub_band(eu, 869'800'000, 14);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->name, "Q");
    EXPECT_DOUBLE_EQ(q->duty_cycle, 0.01);
    const SubBand* free_band = find_sub_band(eu, 869'800'000, 9);
    ASSERT_NE(free_band, nullptr);
    EXPECT_DOUBLE_EQ(free_band->duty_cycle, 1.0);
    EXPECT_FLOAT_EQ(free_band->max_eirp_dbm, 9);
    EXPECT_NE(free_band, q);

    const SubBand* l = find_sub_band(eu, 865'500'000, 16);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->name, "L");
    EXPECT_DOUBLE_EQ(l->duty_cycle, 0.01);

    const SubBand* k = find_sub_band(eu, 863'500'000, 16);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->name, "K");
    EXPECT_DOUBLE_EQ(k->duty_cycle, 0.001);

    const SubBand* n = find_sub_band(eu, 868'900'000, 16);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->name, "N");
    EXPECT_DOUBLE_EQ(n->duty_cycle, 0.001);
}

TEST(Region, FindSubBandEdgesAndFallback)
{
    const Region& eu = region("EU868");
    // Lower bound inclusive, upper bound exclusive.
    EXPECT_EQ(find_sub_band(eu, 865'000'000, 16)->name, "L");
    EXPECT_EQ(find_sub_band(eu, 864'999'999, 16)->name, "K");
    EXPECT_EQ(find_sub_band(eu, 868'000'000, 16)->name, "M");
    // Gaps between the ETSI bands and outside the region.
    EXPECT_EQ(find_sub_band(eu, 868'650'000, 14), nullptr);
    EXPECT_EQ(find_sub_band(eu, 869'300'000, 14), nullptr);
    EXPECT_EQ(find_sub_band(eu, 869'650'000, 14), nullptr);
    EXPECT_EQ(find_sub_band(eu, 870'000'000, 14), nullptr);
    EXPECT_EQ(find_sub_band(eu, 862'900'000, 14), nullptr);
    // No band allows the EIRP: the first containing band is returned.
    const SubBand* over = find_sub_band(eu, 868'100'000, 30);
    ASSERT_NE(over, nullptr);
    EXPECT_EQ(over->name, "M");
    const SubBand* over_p = find_sub_band(eu, 869'800'000, 30);
    ASSERT_NE(over_p, nullptr);
    EXPECT_FLOAT_EQ(over_p->max_eirp_dbm, 9); // the first of the two 869.7-870 MHz bands

    // A single-band region covers its whole TX range, both ends.
    const Region& us = region("US915");
    ASSERT_NE(find_sub_band(us, 923'300'000, 26), nullptr);
    ASSERT_NE(find_sub_band(us, 927'500'000, 26), nullptr);
    EXPECT_EQ(find_sub_band(us, 927'500'000, 26)->name, "all");
    EXPECT_EQ(find_sub_band(us, 927'500'001, 26), nullptr);
    EXPECT_EQ(find_sub_band(us, 923'299'999, 26), nullptr);
}

TEST(Region, DataRates)
{
    const Region& us = region("US915");
    const DataRate* dr8 = data_rate(us, 8);
    ASSERT_NE(dr8, nullptr);
    EXPECT_EQ(dr8->kind, DataRate::Kind::lora);
    EXPECT_EQ(dr8->spreading_factor, 12u);
    EXPECT_EQ(dr8->bandwidth_hz, 500000u);
    EXPECT_FALSE(dr8->uplink);
    for (uint32_t dr = 8; dr <= 13; ++dr) {
        const DataRate* rate = data_rate(us, dr);
        ASSERT_NE(rate, nullptr) << dr;
        EXPECT_EQ(rate->spreading_factor, 20 - dr) << dr;
        EXPECT_EQ(rate->bandwidth_hz, 500000u) << dr;
        EXPECT_FALSE(rate->uplink) << dr;
    }
    const DataRate* dr4 = data_rate(us, 4);
    ASSERT_NE(dr4, nullptr);
    EXPECT_EQ(dr4->spreading_factor, 8u);
    EXPECT_EQ(dr4->bandwidth_hz, 500000u);
    EXPECT_TRUE(dr4->uplink);
    EXPECT_EQ(data_rate(us, 0)->spreading_factor, 10u);
    for (uint32_t dr : {5u, 6u, 7u, 14u, 15u, 16u, 100u}) {
        EXPECT_EQ(data_rate(us, dr), nullptr) << dr;
    }

    const Region& eu = region("EU868");
    const DataRate* fsk = data_rate(eu, 7);
    ASSERT_NE(fsk, nullptr);
    EXPECT_EQ(fsk->kind, DataRate::Kind::fsk);
    EXPECT_EQ(fsk->bitrate, 50000u);
    EXPECT_EQ(data_rate(eu, 6)->spreading_factor, 7u);
    EXPECT_EQ(data_rate(eu, 6)->bandwidth_hz, 250000u);
    for (uint32_t dr = 0; dr < 6; ++dr) {
        ASSERT_NE(data_rate(eu, dr), nullptr);
        EXPECT_EQ(data_rate(eu, dr)->spreading_factor, 12 - dr);
        EXPECT_EQ(data_rate(eu, dr)->bandwidth_hz, 125000u);
        EXPECT_TRUE(data_rate(eu, dr)->uplink);
    }
    EXPECT_EQ(data_rate(eu, 8), nullptr); // LR-FHSS: not a gateway TX data rate

    const Region& au = region("AU915");
    EXPECT_EQ(data_rate(au, 6)->spreading_factor, 8u);
    EXPECT_EQ(data_rate(au, 6)->bandwidth_hz, 500000u);
    EXPECT_TRUE(data_rate(au, 6)->uplink);
    EXPECT_EQ(data_rate(au, 7), nullptr);
    EXPECT_FALSE(data_rate(au, 8)->uplink);
    EXPECT_EQ(data_rate(au, 13)->spreading_factor, 7u);

    const Region& in = region("IN865");
    EXPECT_EQ(data_rate(in, 6), nullptr); // RFU
    EXPECT_EQ(data_rate(in, 7)->kind, DataRate::Kind::fsk);

    EXPECT_EQ(data_rate(region("KR920"), 6), nullptr);
    EXPECT_EQ(data_rate(region("CN470"), 6), nullptr);
    EXPECT_EQ(data_rate(region("AS923-2"), 7)->kind, DataRate::Kind::fsk);
}

TEST(Region, Rx2AndBeaconDefaults)
{
    const Region& eu = region("EU868");
    EXPECT_EQ(eu.rx2_frequency_hz, 869'525'000u);
    EXPECT_EQ(eu.rx2_data_rate, 0u);
    EXPECT_EQ(eu.beacon.data_rate, 3u);
    EXPECT_EQ(eu.beacon.frequencies_hz, std::vector<uint64_t>{869'525'000});
    EXPECT_FLOAT_EQ(eu.default_eirp_dbm, 16);
    EXPECT_FLOAT_EQ(default_eirp_at(eu, 869'525'000), 27);
    EXPECT_FLOAT_EQ(default_eirp_at(eu, 868'100'000), 16);

    const Region& us = region("US915");
    EXPECT_EQ(us.rx2_frequency_hz, 923'300'000u);
    EXPECT_EQ(us.rx2_data_rate, 8u);
    EXPECT_EQ(us.beacon.data_rate, 8u);
    ASSERT_EQ(us.beacon.frequencies_hz.size(), 8u);
    for (size_t i = 0; i < 8; ++i) {
        EXPECT_EQ(us.beacon.frequencies_hz[i], 923'300'000u + i * 600'000u);
    }
    EXPECT_EQ(us.beacon.frequencies_hz.back(), 927'500'000u);
    EXPECT_EQ(beacon_frequency(us, 0), 923'300'000u);
    EXPECT_EQ(beacon_frequency(us, 128), 923'900'000u);
    EXPECT_EQ(beacon_frequency(us, 7 * 128), 927'500'000u);
    EXPECT_EQ(beacon_frequency(us, 8 * 128), 923'300'000u);
    EXPECT_EQ(beacon_frequency(us, 3422683136), 923'300'000u); // k = 26739712, mod 8 = 0
    EXPECT_EQ(beacon_frequency(eu, 3422683136), 869'525'000u);

    const Region& au = region("AU915");
    EXPECT_EQ(au.rx2_frequency_hz, 923'300'000u);
    EXPECT_EQ(au.rx2_data_rate, 8u);
    EXPECT_EQ(au.beacon.data_rate, 8u);
    EXPECT_EQ(au.beacon.frequencies_hz, us.beacon.frequencies_hz);

    struct As923Case {
        std::string_view name;
        uint64_t rx2;
        uint64_t beacon;
    };
    for (const As923Case& c : {As923Case{"AS923-1", 923'200'000, 923'400'000},
                               As923Case{"AS923-2", 921'400'000, 921'600'000},
                               As923Case{"AS923-3", 916'600'000, 916'800'000},
                               As923Case{"AS923-4", 917'300'000, 917'500'000}}) {
        const Region& as = region(c.name);
        EXPECT_EQ(as.rx2_frequency_hz, c.rx2) << c.name;
        EXPECT_EQ(as.rx2_data_rate, 2u) << c.name;
        EXPECT_EQ(as.beacon.data_rate, 3u) << c.name;
        EXPECT_EQ(as.beacon.frequencies_hz, std::vector<uint64_t>{c.beacon}) << c.name;
        EXPECT_EQ(as.dwell_time_us, 400000u) << c.name;
        EXPECT_TRUE(as.dwell_time_default) << c.name;
        EXPECT_FLOAT_EQ(as.max_eirp_dbm, 16) << c.name;
        EXPECT_EQ(as.lbt.required, c.name == "AS923-1") << c.name;
    }

    const Region& kr = region("KR920");
    EXPECT_EQ(kr.rx2_frequency_hz, 921'900'000u);
    EXPECT_EQ(kr.rx2_data_rate, 0u);
    EXPECT_EQ(kr.beacon.data_rate, 3u);
    EXPECT_EQ(kr.beacon.frequencies_hz, std::vector<uint64_t>{923'100'000});

    const Region& in = region("IN865");
    EXPECT_EQ(in.rx2_frequency_hz, 866'550'000u);
    EXPECT_EQ(in.rx2_data_rate, 2u);
    EXPECT_EQ(in.beacon.data_rate, 4u);
    EXPECT_EQ(in.beacon.frequencies_hz, std::vector<uint64_t>{866'550'000});

    const Region& ru = region("RU864");
    EXPECT_EQ(ru.rx2_frequency_hz, 869'100'000u);
    EXPECT_EQ(ru.rx2_data_rate, 0u);
    EXPECT_EQ(ru.beacon.data_rate, 3u);
    EXPECT_EQ(ru.beacon.frequencies_hz, std::vector<uint64_t>{869'100'000});

    const Region& cn = region("CN470");
    EXPECT_EQ(cn.rx2_frequency_hz, 505'300'000u);
    EXPECT_EQ(cn.rx2_data_rate, 0u);
    EXPECT_EQ(cn.beacon.data_rate, 2u);
    ASSERT_EQ(cn.beacon.frequencies_hz.size(), 8u);
    EXPECT_EQ(cn.beacon.frequencies_hz.front(), 508'300'000u);
    EXPECT_EQ(cn.beacon.frequencies_hz.back(), 509'700'000u);

    const Region& il = region("IL915");
    EXPECT_FLOAT_EQ(default_eirp_at(il, 916'300'000), 20);
    EXPECT_FLOAT_EQ(default_eirp_at(il, 917'300'000), 14);
    EXPECT_EQ(il.rx2_frequency_hz, 917'300'000u);
}

TEST(Region, RegulatoryModels)
{
    const Region& kr = region("KR920");
    EXPECT_TRUE(kr.lbt.required);
    EXPECT_FLOAT_EQ(kr.lbt.threshold_dbm, -65);
    EXPECT_EQ(kr.lbt.scan_time_us, 5000u);
    EXPECT_EQ(kr.duty_cycle_scope, DutyCycleScope::channel);
    ASSERT_EQ(kr.sub_bands.size(), 1u);
    EXPECT_DOUBLE_EQ(kr.sub_bands[0].duty_cycle, 0.02);
    EXPECT_FLOAT_EQ(kr.max_eirp_dbm, 23);

    const Region& as1 = region("AS923");
    EXPECT_EQ(as1.name, "AS923-1");
    EXPECT_FLOAT_EQ(as1.lbt.threshold_dbm, -80);
    EXPECT_EQ(as1.lbt.scan_time_us, 5000u);
    EXPECT_EQ(as1.duty_cycle_scope, DutyCycleScope::channel);
    EXPECT_DOUBLE_EQ(as1.sub_bands[0].duty_cycle, 0.1);

    for (std::string_view name : {"US915", "AU915", "IN865", "CN470", "AS923-2", "AS923-3"}) {
        const Region& r = region(name);
        EXPECT_EQ(r.duty_cycle_scope, DutyCycleScope::none) << name;
        ASSERT_EQ(r.sub_bands.size(), 1u) << name;
        EXPECT_EQ(r.sub_bands[0].name, "all") << name;
        EXPECT_DOUBLE_EQ(r.sub_bands[0].duty_cycle, 1.0) << name;
        EXPECT_FALSE(r.lbt.required) << name;
    }
    EXPECT_EQ(region("US915").dwell_time_us, 0u);
    EXPECT_EQ(region("AU915").dwell_time_us, 400000u);
    EXPECT_FALSE(region("AU915").dwell_time_default);
    EXPECT_TRUE(region("AU915").uplink_dwell_time_default);
    EXPECT_FLOAT_EQ(region("US915").max_eirp_dbm, 30);
    EXPECT_FLOAT_EQ(region("AU915").max_eirp_dbm, 30);
    EXPECT_FLOAT_EQ(region("IN865").max_eirp_dbm, 30);
    EXPECT_FLOAT_EQ(region("RU864").max_eirp_dbm, 16);
    EXPECT_FLOAT_EQ(region("CN470").max_eirp_dbm, 19.15f);

    const Region& il = region("IL915");
    EXPECT_EQ(il.duty_cycle_scope, DutyCycleScope::sub_band);
    EXPECT_FLOAT_EQ(find_sub_band(il, 916'300'000, 20)->max_eirp_dbm, 20);
    EXPECT_DOUBLE_EQ(find_sub_band(il, 916'300'000, 20)->duty_cycle, 0.01);
    EXPECT_FLOAT_EQ(find_sub_band(il, 915'500'000, 14)->max_eirp_dbm, 14);

    const Region& ru = region("RU864");
    EXPECT_EQ(ru.duty_cycle_scope, DutyCycleScope::sub_band);
    EXPECT_DOUBLE_EQ(find_sub_band(ru, 864'500'000, 16)->duty_cycle, 0.001);
    EXPECT_DOUBLE_EQ(find_sub_band(ru, 866'500'000, 16)->duty_cycle, 0.01);
    EXPECT_DOUBLE_EQ(find_sub_band(ru, 869'100'000, 16)->duty_cycle, 0.1);
    EXPECT_DOUBLE_EQ(find_sub_band(ru, 869'500'000, 16)->duty_cycle, 0.01);
}

// Consistency of every region's table.
TEST(Region, EveryRegionIsConsistent)
{
    for (const Region* r : all_regions()) {
        SCOPED_TRACE(std::string(r->name));
        EXPECT_LT(r->tx_min_hz, r->tx_max_hz);
        EXPECT_LE(r->default_eirp_dbm, r->max_eirp_dbm);
        for (const EirpRange& range : r->default_eirp_ranges) {
            EXPECT_LE(range.eirp_dbm, r->max_eirp_dbm);
            EXPECT_TRUE(in_tx_range(*r, range.min_hz));
        }

        ASSERT_FALSE(r->sub_bands.empty());
        if (r->duty_cycle_scope != DutyCycleScope::sub_band) {
            EXPECT_EQ(r->sub_bands.size(), 1u);
        }
        if (r->duty_cycle_scope == DutyCycleScope::none) {
            EXPECT_EQ(r->sub_bands[0].name, "all");
            EXPECT_DOUBLE_EQ(r->sub_bands[0].duty_cycle, 1.0);
        }
        float highest = -1000;
        for (const SubBand& band : r->sub_bands) {
            EXPECT_FALSE(band.name.empty());
            EXPECT_LT(band.min_hz, band.max_hz);
            EXPECT_GE(band.min_hz, r->tx_min_hz);
            EXPECT_LE(band.max_hz, r->tx_max_hz + 1); // max exclusive
            EXPECT_GT(band.duty_cycle, 0.0);
            EXPECT_LE(band.duty_cycle, 1.0);
            highest = std::max(highest, band.max_eirp_dbm);
        }
        EXPECT_FLOAT_EQ(highest, r->max_eirp_dbm);

        // RX2 and beacon: inside the TX range, in a band that allows the default EIRP.
        EXPECT_TRUE(in_tx_range(*r, r->rx2_frequency_hz));
        const float rx2_eirp = default_eirp_at(*r, r->rx2_frequency_hz);
        const SubBand* rx2_band = find_sub_band(*r, r->rx2_frequency_hz, rx2_eirp);
        ASSERT_NE(rx2_band, nullptr);
        EXPECT_GE(rx2_band->max_eirp_dbm, rx2_eirp);
        ASSERT_NE(data_rate(*r, r->rx2_data_rate), nullptr);

        ASSERT_FALSE(r->beacon.frequencies_hz.empty());
        EXPECT_LE(r->beacon.frequencies_hz.size(), 8u); // router_config bcning limit
        for (uint64_t f : r->beacon.frequencies_hz) {
            EXPECT_TRUE(in_tx_range(*r, f)) << f;
            const SubBand* band = find_sub_band(*r, f, r->beacon.power_dbm);
            ASSERT_NE(band, nullptr) << f;
            EXPECT_GE(band->max_eirp_dbm, r->beacon.power_dbm) << f;
            EXPECT_FLOAT_EQ(r->beacon.power_dbm, default_eirp_at(*r, f)) << f;
        }
        const DataRate* beacon_dr = data_rate(*r, r->beacon.data_rate);
        ASSERT_NE(beacon_dr, nullptr);
        EXPECT_EQ(beacon_dr->kind, DataRate::Kind::lora);

        // DR table: LoRa entries are well-formed, FSK is 50 kbps.
        for (uint32_t dr = 0; dr < 16; ++dr) {
            const DataRate* rate = data_rate(*r, dr);
            if (rate == nullptr) {
                continue;
            }
            if (rate->kind == DataRate::Kind::lora) {
                EXPECT_GE(rate->spreading_factor, 7u) << dr;
                EXPECT_LE(rate->spreading_factor, 12u) << dr;
                EXPECT_TRUE(rate->bandwidth_hz == 125000 || rate->bandwidth_hz == 250000 ||
                            rate->bandwidth_hz == 500000)
                    << dr;
            } else {
                EXPECT_EQ(rate->bitrate, 50000u) << dr;
            }
        }
        ASSERT_NE(data_rate(*r, 0), nullptr);
        EXPECT_TRUE(data_rate(*r, 0)->uplink);

        if (r->lbt.required) {
            EXPECT_TRUE(r->lbt.scan_time_us == 128 || r->lbt.scan_time_us == 5000);
            EXPECT_LT(r->lbt.threshold_dbm, 0);
        }
        if (r->dwell_time_default || r->uplink_dwell_time_default) {
            EXPECT_EQ(r->dwell_time_us, 400000u);
        }
    }
}
