#include "lgw_radio.hpp"

#include "board_profile.hpp"

#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

namespace forwarder::lgw {

const fwd_option kOptions[] = {
    {"board", FWD_OPT_STRING, 0, nullptr,
     "board profile (config/boards): a name like rak2287, or a path to a .yaml file"},
    {"boards_dir", FWD_OPT_STRING, 0, nullptr, "extra directory searched first for board profiles"},
    {"board_overrides", FWD_OPT_MAP, 0, nullptr,
     "what differs from the profile, e.g. {com_path: /dev/spidev1.0, reset: {line: 22}}"},
    {"reset_command", FWD_OPT_STRING, 0, nullptr,
     "command run before each start (boards whose reset is not a plain GPIO line)"},
    {"com_type", FWD_OPT_STRING, 0, nullptr,
     "host link: spi or usb (default: the board profile's, else spi; the sx1301 driver is SPI "
     "only, picogw USB only)"},
    {"com_path", FWD_OPT_STRING, 0, nullptr,
     "SPI device or USB tty (default: the board profile's, else /dev/spidev0.0, or /dev/ttyACM0 "
     "for usb)"},
    {"clksrc", FWD_OPT_INT, 0, "0", "radio providing the 32 MHz clock (0 or 1)"},
    {"full_duplex", FWD_OPT_BOOL, 0, "false",
     "radios may receive while transmitting (sx1302 boards that support it)"},
    {"radios", FWD_OPT_LIST, 0, nullptr,
     "two radios: {type: SX1250|SX1257|SX1255, rssi_offset, rssi_tcomp: [a,b,c,d,e], "
     "tx_enable, single_input_mode, tx_notch_freq (SX1301)}"},
    {"tx_gain_lut", FWD_OPT_LIST, 0, nullptr,
     "TX gains: {radio, rf_power, pa_gain, pwr_idx (SX1250) | dig_gain, dac_gain, mix_gain}"},
    {"lead_time_us", FWD_OPT_INT, 0, "40000",
     "hand frames to the HAL this long before TX (SPI/USB transfer time)"},
    {"poll_interval_ms", FWD_OPT_INT, 0, "10", "how often the HAL's receive buffer is read"},
    {"fine_timestamp", FWD_OPT_BOOL, 0, "false",
     "fine timestamps (sx1302 driver with an SX1303 chip only; needs PPS)"},
    {"start_retry_initial_ms", FWD_OPT_INT, 0, "1000",
     "first wait after a failed lgw_start; doubles up to start_retry_max_ms"},
    {"start_retry_max_ms", FWD_OPT_INT, 0, "30000", "longest wait between start attempts"},
    {nullptr, 0, 0, nullptr, nullptr},
};

namespace {

template <class T>
T integer(const std::string& key, const YAML::Node& n, long long lo, long long hi)
{
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v) || v < lo || v > hi) {
        throw sdk::Error(key + ": expected an integer " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
    }
    return static_cast<T>(v);
}

float real(const std::string& key, const YAML::Node& n)
{
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
        throw sdk::Error(key + ": expected a number");
    }
    return static_cast<float>(v);
}

bool flag(const std::string& key, const YAML::Node& n)
{
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
        throw sdk::Error(key + ": expected true or false");
    }
    return v;
}

std::string text(const std::string& key, const YAML::Node& n)
{
    if (!n.IsScalar()) {
        throw sdk::Error(key + ": expected a string");
    }
    return n.Scalar();
}

int radio_type(const std::string& key, const std::string& t)
{
    if (t == "SX1250" || t == "sx1250") {
        return FWD_RADIO_SX1250;
    }
    if (t == "SX1257" || t == "sx1257") {
        return FWD_RADIO_SX1257;
    }
    if (t == "SX1255" || t == "sx1255") {
        return FWD_RADIO_SX1255;
    }
    if (t == "none") {
        return FWD_RADIO_NONE;
    }
    throw sdk::Error(key + ": expected SX1250, SX1257, SX1255 or none, got '" + t + "'");
}

// The chip's reference radio when neither a board profile nor `radios:` says otherwise:
// SX1250 on the SX1302 (Corecell), SX1257 on the SX1301 (no temperature compensation).
bool sx1302_chip()
{
    return std::string_view(fwd_lgw_chip_info()->name) == "sx1302";
}

Radio default_radio()
{
    Radio r;
    if (!sx1302_chip()) {
        r.type = FWD_RADIO_SX1257;
        r.rssi_offset = -166.0f;
        std::fill(std::begin(r.tcomp), std::end(r.tcomp), 0.0f);
    }
    return r;
}

uint64_t monotonic_now(const sdk::Host& host)
{
    return host.monotonic_us();
}

} // namespace

std::vector<std::string> board_dirs(const std::string& extra)
{
    std::vector<std::string> dirs;
    if (!extra.empty()) {
        dirs.push_back(extra);
    }
    // Installed: <prefix>/bin/forwarder → <prefix>/share/forwarder/boards. Build tree:
    // <build>/bin/forwarder → <source>/config/boards when the build dir is in the source.
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        std::string dir(exe);
        dir = dir.substr(0, dir.find_last_of('/'));
        dirs.push_back(dir + "/../share/forwarder/boards");
        dirs.push_back(dir + "/../../config/boards");
    }
    dirs.push_back(FORWARDER_BOARDS_INSTALL_DIR);
    // Only those that exist, so that an error lists where profiles really are.
    std::vector<std::string> existing;
    for (auto& d : dirs) {
        std::error_code ec;
        if (std::filesystem::is_directory(d, ec)) {
            existing.push_back(std::filesystem::weakly_canonical(d, ec).string());
        }
    }
    return existing.empty() ? dirs : existing;
}

// The hardware part of the options from a board profile.
void apply_board(Options& o, const boards::BoardProfile& b)
{
    if (std::string(boards::to_string(b.chip)) != fwd_lgw_chip_info()->name) {
        throw sdk::Error(std::string("board: '") + b.name + "' is a " + boards::to_string(b.chip) +
                         " board; this driver is " + fwd_lgw_chip_info()->name);
    }
    o.usb = b.com_type == boards::ComType::usb;
    o.com_path = b.com_path;
    o.clksrc = static_cast<uint8_t>(b.clksrc);
    o.full_duplex = b.full_duplex;
    for (size_t i = 0; i < 2 && i < b.radios.size(); ++i) {
        Radio& r = o.radios[i];
        const auto& p = b.radios[i];
        r.type = p.type == boards::RadioType::sx1250   ? FWD_RADIO_SX1250
                 : p.type == boards::RadioType::sx1257 ? FWD_RADIO_SX1257
                                                       : FWD_RADIO_SX1255;
        r.rssi_offset = static_cast<float>(p.rssi_offset);
        if (p.rssi_tcomp) {
            r.tcomp[0] = static_cast<float>(p.rssi_tcomp->coeff_a);
            r.tcomp[1] = static_cast<float>(p.rssi_tcomp->coeff_b);
            r.tcomp[2] = static_cast<float>(p.rssi_tcomp->coeff_c);
            r.tcomp[3] = static_cast<float>(p.rssi_tcomp->coeff_d);
            r.tcomp[4] = static_cast<float>(p.rssi_tcomp->coeff_e);
        }
        r.tx_enable = p.tx_enable;
        r.tx_notch_freq = p.tx_notch_freq.value_or(0);
    }
    // One gain table per board: it belongs to the transmitting radio.
    const size_t tx =
        b.radios.size() > 1 && !b.radios[0].tx_enable && b.radios[1].tx_enable ? 1 : 0;
    o.gains[0].clear();
    o.gains[1].clear();
    for (const auto& g : b.tx_gain_lut) {
        Gain gain;
        gain.rf_power = static_cast<int8_t>(g.rf_power);
        gain.pa_gain = static_cast<uint8_t>(g.pa_gain);
        gain.pwr_idx = static_cast<uint8_t>(g.pwr_idx.value_or(0));
        gain.dig_gain = static_cast<uint8_t>(g.dig_gain.value_or(0));
        gain.dac_gain = static_cast<uint8_t>(g.dac_gain.value_or(0));
        gain.mix_gain = static_cast<uint8_t>(g.mix_gain.value_or(0));
        o.gains[tx].push_back(gain);
    }
    if (b.reset) {
        ResetLines r;
        r.chip = b.reset->chip;
        r.line = b.reset->line;
        r.active_high = b.reset->active_high;
        r.power_enable_line = b.reset->power_enable_line;
        r.sx1261_reset_line = b.reset->sx1261_reset_line;
        o.reset = r;
    } else {
        o.reset.reset();
    }
    o.board = b.name;
}

Options parse_options(const std::string& yaml)
{
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw sdk::Error("options: not valid YAML: " + e.msg);
    }
    Options o;
    // Reference radios of the chip: radio 0 transmits.
    o.radios[0] = o.radios[1] = default_radio();
    o.radios[0].tx_enable = true;
    o.radios[1].tx_enable = false;
    if (fwd_lgw_chip_info()->usb_only) {
        o.usb = true;
        o.com_path = "/dev/ttyACM0";
    }
    if (!root.IsDefined() || root.IsNull()) {
        return o;
    }
    if (!root.IsMap()) {
        throw sdk::Error("options: expected a mapping of option: value");
    }
    // Look keys up through a const node: yaml-cpp's non-const operator[] inserts missing keys,
    // which would invalidate the iteration below.
    const YAML::Node& options = root;
    // The board profile first; the other options override it.
    if (const YAML::Node board = options["board"]; board && !board.IsNull()) {
        const std::string extra =
            options["boards_dir"] ? text("boards_dir", options["boards_dir"]) : "";
        try {
            auto profile = boards::load_board(text("board", board), board_dirs(extra));
            if (const YAML::Node over = options["board_overrides"]; over && !over.IsNull()) {
                if (!over.IsMap()) {
                    throw sdk::Error("board_overrides: expected a mapping");
                }
                profile = boards::merge_overrides(std::move(profile), over);
            }
            apply_board(o, profile);
        } catch (const boards::BoardError& e) {
            throw sdk::Error(std::string("board: ") + e.what());
        }
    } else if (options["board_overrides"]) {
        throw sdk::Error("board_overrides: needs a `board:` to override");
    }
    for (const auto& entry : root) {
        const std::string key = entry.first.Scalar();
        const YAML::Node& v = entry.second;
        if (key == "board" || key == "boards_dir" || key == "board_overrides") {
            continue; // applied above
        } else if (key == "reset_command") {
            o.reset_command = text(key, v);
        } else if (key == "com_type") {
            const auto t = text(key, v);
            if (t != "spi" && t != "usb") {
                throw sdk::Error("com_type: expected spi or usb, got '" + t + "'");
            }
            if (t == "usb" && fwd_lgw_chip_info()->spi_only) {
                throw sdk::Error(std::string("com_type: the ") + fwd_lgw_chip_info()->name +
                                 " driver supports only spi");
            }
            if (t == "spi" && fwd_lgw_chip_info()->usb_only) {
                throw sdk::Error(std::string("com_type: the ") + fwd_lgw_chip_info()->name +
                                 " driver supports only usb");
            }
            o.usb = t == "usb";
            if (o.usb && !options["com_path"]) {
                o.com_path = "/dev/ttyACM0";
            }
        } else if (key == "com_path") {
            o.com_path = text(key, v);
            if (o.com_path.empty() || o.com_path.size() >= 64) {
                throw sdk::Error("com_path: expected a device path shorter than 64 characters");
            }
        } else if (key == "clksrc") {
            o.clksrc = integer<uint8_t>(key, v, 0, 1);
        } else if (key == "full_duplex") {
            o.full_duplex = flag(key, v);
        } else if (key == "radios") {
            if (!v.IsSequence() || v.size() == 0 || v.size() > 2) {
                throw sdk::Error("radios: expected a list of one or two radios");
            }
            for (size_t i = 0; i < v.size(); ++i) {
                const std::string at = "radios[" + std::to_string(i) + "]";
                Radio r = default_radio();
                r.tx_enable = false;
                for (const auto& f : v[i]) {
                    const std::string name = f.first.Scalar();
                    const std::string k = at + "." + name;
                    if (name == "type") {
                        r.type = radio_type(k, text(k, f.second));
                        if (r.type == FWD_RADIO_SX1250 && !sx1302_chip()) {
                            throw sdk::Error(k + ": SX1250 radios need the sx1302 driver");
                        }
                    } else if (name == "rssi_offset") {
                        r.rssi_offset = real(k, f.second);
                    } else if (name == "rssi_tcomp") {
                        if (!f.second.IsSequence() || f.second.size() != 5) {
                            throw sdk::Error(k + ": expected five coefficients [a, b, c, d, e]");
                        }
                        for (size_t c = 0; c < 5; ++c) {
                            r.tcomp[c] = real(k, f.second[c]);
                        }
                    } else if (name == "tx_enable") {
                        r.tx_enable = flag(k, f.second);
                    } else if (name == "single_input_mode") {
                        r.single_input_mode = flag(k, f.second);
                    } else if (name == "tx_notch_freq") {
                        r.tx_notch_freq = integer<uint32_t>(k, f.second, 126'000, 250'000);
                    } else {
                        throw sdk::Error(k + ": unknown; expected type, rssi_offset, "
                                             "rssi_tcomp, tx_enable, single_input_mode, "
                                             "tx_notch_freq");
                    }
                }
                o.radios[i] = r;
            }
        } else if (key == "tx_gain_lut") {
            if (!v.IsSequence()) {
                throw sdk::Error("tx_gain_lut: expected a list of gain entries");
            }
            o.gains[0].clear();
            o.gains[1].clear();
            for (size_t i = 0; i < v.size(); ++i) {
                const std::string at = "tx_gain_lut[" + std::to_string(i) + "]";
                Gain g;
                uint32_t radio = 0;
                for (const auto& f : v[i]) {
                    const std::string name = f.first.Scalar();
                    const std::string k = at + "." + name;
                    if (name == "radio") {
                        radio = integer<uint32_t>(k, f.second, 0, 1);
                    } else if (name == "rf_power") {
                        g.rf_power = integer<int8_t>(k, f.second, -10, 30);
                    } else if (name == "pa_gain") {
                        g.pa_gain = integer<uint8_t>(k, f.second, 0, 3);
                    } else if (name == "pwr_idx") {
                        g.pwr_idx = integer<uint8_t>(k, f.second, 0, 22);
                    } else if (name == "dig_gain") {
                        g.dig_gain = integer<uint8_t>(k, f.second, 0, 3);
                    } else if (name == "dac_gain") {
                        g.dac_gain = integer<uint8_t>(k, f.second, 0, 3);
                    } else if (name == "mix_gain") {
                        g.mix_gain = integer<uint8_t>(k, f.second, 5, 15);
                    } else {
                        throw sdk::Error(k + ": unknown; expected radio, rf_power, pa_gain, "
                                             "pwr_idx, dig_gain, dac_gain, mix_gain");
                    }
                }
                if (o.gains[radio].size() >= 16) {
                    throw sdk::Error(at + ": at most 16 entries per radio");
                }
                o.gains[radio].push_back(g);
            }
            for (auto& table : o.gains) {
                std::sort(table.begin(), table.end(),
                          [](const Gain& a, const Gain& b) { return a.rf_power < b.rf_power; });
            }
        } else if (key == "lead_time_us") {
            o.lead_time_us = integer<uint32_t>(key, v, 1000, 1'000'000);
        } else if (key == "poll_interval_ms") {
            o.poll_interval_ms = integer<uint32_t>(key, v, 1, 1000);
        } else if (key == "fine_timestamp") {
            o.fine_timestamp = flag(key, v);
        } else if (key == "start_retry_initial_ms") {
            o.start_retry_initial_ms = integer<uint32_t>(key, v, 1, 600'000);
        } else if (key == "start_retry_max_ms") {
            o.start_retry_max_ms = integer<uint32_t>(key, v, 1, 3'600'000);
        } else {
            throw sdk::Error(key + ": unknown option");
        }
    }
    if (o.start_retry_max_ms < o.start_retry_initial_ms) {
        o.start_retry_max_ms = o.start_retry_initial_ms;
    }
    return o;
}

const Gain* gain_for(const std::vector<Gain>& table, float power_dbm)
{
    if (table.empty()) {
        return nullptr;
    }
    const Gain* best = &table.front();
    for (const auto& g : table) {
        if (static_cast<float>(g.rf_power) <= power_dbm + 1e-3f) {
            best = &g;
        }
    }
    return best;
}

fwd_lgw_config hal_config(const Options& o, const v1::RadioConfig& plan)
{
    fwd_lgw_config c;
    std::memset(&c, 0, sizeof c);
    c.usb = o.usb ? 1 : 0;
    std::snprintf(c.com_path, sizeof c.com_path, "%s", o.com_path.c_str());
    c.clksrc = o.clksrc;
    c.full_duplex = o.full_duplex ? 1 : 0;
    c.lorawan_public = 1;
    c.fine_timestamp = o.fine_timestamp ? 1 : 0;

    // Every channel of the plan: (frequency, bandwidth, requested RF chain).
    struct Channel {
        uint64_t freq;
        uint32_t bw;
        uint32_t rf_chain;
    };
    std::vector<Channel> all;
    for (const auto& ch : plan.multi_sf_channels()) {
        all.push_back({ch.frequency_hz(), 125'000, ch.rf_chain()});
    }
    if (plan.has_std_channel()) {
        all.push_back({plan.std_channel().frequency_hz(), plan.std_channel().bandwidth_hz(),
                       plan.std_channel().rf_chain()});
    }
    if (plan.has_fsk_channel()) {
        all.push_back({plan.fsk_channel().frequency_hz(),
                       std::max<uint32_t>(plan.fsk_channel().bandwidth_hz(), 125'000),
                       plan.fsk_channel().rf_chain()});
    }
    if (all.empty()) {
        throw sdk::Error("the channel plan has no channels");
    }
    const int32_t span = fwd_lgw_chip_info()->if_span_hz;
    if (plan.multi_sf_channels_size() > 8) {
        throw sdk::Error("the channel plan has " + std::to_string(plan.multi_sf_channels_size()) +
                         " multi-SF channels; the concentrator has 8");
    }

    // Centre frequencies: from the plan, or derived: radio 0 covers the lowest channels that
    // fit its ±800 kHz, radio 1 the rest.
    uint64_t centers[2] = {0, 0};
    bool derived = plan.rf_chains_size() == 0;
    for (int r = 0; r < plan.rf_chains_size() && r < 2; ++r) {
        centers[r] = plan.rf_chains(r).center_frequency_hz();
    }
    std::vector<uint32_t> chain_of(all.size());
    if (derived) {
        std::vector<size_t> order(all.size());
        for (size_t i = 0; i < order.size(); ++i) {
            order[i] = i;
        }
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return all[a].freq < all[b].freq; });
        uint32_t radio = 0;
        uint64_t lo = 0, hi = 0;
        std::vector<size_t> group;
        auto close_group = [&] {
            centers[radio] = (lo + hi) / 2;
            for (size_t i : group) {
                chain_of[i] = radio;
            }
        };
        for (size_t i : order) {
            const uint64_t a = all[i].freq - all[i].bw / 2, b = all[i].freq + all[i].bw / 2;
            if (group.empty()) {
                lo = a;
                hi = b;
            } else if (std::max(hi, b) - lo > 2u * static_cast<uint64_t>(span)) {
                close_group();
                if (++radio > 1) {
                    throw sdk::Error("the channels span more than two radios can cover (" +
                                     std::to_string(2 * span / 1000) + " kHz each)");
                }
                group.clear();
                lo = a;
                hi = b;
            } else {
                hi = std::max(hi, b);
            }
            group.push_back(i);
        }
        close_group();
    } else {
        for (size_t i = 0; i < all.size(); ++i) {
            chain_of[i] = all[i].rf_chain;
        }
    }
    bool tx_from_plan[2] = {false, false};
    for (int r = 0; r < plan.rf_chains_size() && r < 2; ++r) {
        tx_from_plan[r] = plan.rf_chains(r).tx_enabled();
    }
    for (int r = 0; r < 2; ++r) {
        auto& radio = c.radios[r];
        radio.enable = centers[r] != 0 ? 1 : 0;
        radio.center_hz = static_cast<uint32_t>(centers[r]);
        radio.rssi_offset = o.radios[r].rssi_offset;
        std::copy(std::begin(o.radios[r].tcomp), std::end(o.radios[r].tcomp), radio.tcomp);
        radio.type = o.radios[r].type;
        radio.tx_enable = (o.radios[r].tx_enable || tx_from_plan[r]) && radio.enable ? 1 : 0;
        radio.single_input_mode = o.radios[r].single_input_mode ? 1 : 0;
        radio.tx_notch_freq_hz = o.radios[r].tx_notch_freq;
        c.gain_count[r] = static_cast<uint8_t>(o.gains[r].size());
        for (size_t i = 0; i < o.gains[r].size(); ++i) {
            const Gain& g = o.gains[r][i];
            c.gains[r][i] = {g.rf_power, g.pa_gain, g.pwr_idx, g.dig_gain, g.dac_gain, g.mix_gain};
        }
    }
    auto channel = [&](size_t index, const char* what) {
        const uint32_t r = chain_of[index];
        if (r > 1 || centers[r] == 0) {
            throw sdk::Error(std::string(what) + " on " + std::to_string(all[index].freq) +
                             " Hz names RF chain " + std::to_string(r) + ", which is not set up");
        }
        const int64_t offset =
            static_cast<int64_t>(all[index].freq) - static_cast<int64_t>(centers[r]);
        const fwd_lgw_chip* chip = fwd_lgw_chip_info();
        const int32_t reach =
            all[index].bw >= 500'000 && chip->if_span_500_hz > span   ? chip->if_span_500_hz
            : all[index].bw >= 250'000 && chip->if_span_250_hz > span ? chip->if_span_250_hz
                                                                      : span;
        if (std::llabs(offset) + all[index].bw / 2 > reach) {
            throw sdk::Error(std::string(what) + " on " + std::to_string(all[index].freq) +
                             " Hz is " + std::to_string(offset) + " Hz from radio " +
                             std::to_string(r) + "'s centre; the " + fwd_lgw_chip_info()->name +
                             " reaches ±" + std::to_string(reach / 1000) + " kHz");
        }
        fwd_lgw_channel ch{};
        ch.enable = 1;
        ch.rf_chain = static_cast<uint8_t>(r);
        ch.if_hz = static_cast<int32_t>(offset);
        ch.bandwidth_hz = all[index].bw;
        return ch;
    };
    size_t index = 0;
    for (int i = 0; i < plan.multi_sf_channels_size(); ++i, ++index) {
        c.multi_sf[i] = channel(index, "multi-SF channel");
    }
    if (plan.has_std_channel()) {
        c.lora_std = channel(index++, "LoRa standard channel");
        c.lora_std.datarate = plan.std_channel().max_spreading_factor() != 0
                                  ? plan.std_channel().max_spreading_factor()
                                  : 7;
    }
    if (plan.has_fsk_channel()) {
        c.fsk = channel(index++, "FSK channel");
        c.fsk.datarate = plan.fsk_channel().bitrate() != 0 ? plan.fsk_channel().bitrate() : 50'000;
    }
    return c;
}

LgwRadio::LgwRadio(sdk::Host host, const fwd_create_info_v1& info, const std::string& options_yaml)
    : host_(host), radio_(info.radio_index < 0 ? 0 : static_cast<uint32_t>(info.radio_index)),
      options_(parse_options(options_yaml))
{
}

LgwRadio::~LgwRadio()
{
    stop();
}

void LgwRadio::check(const std::string& options_yaml)
{
    (void)parse_options(options_yaml);
}

void LgwRadio::start()
{
    {
        std::lock_guard lock(plan_mutex_);
        stopping_ = false;
    }
    thread_ = std::thread([this] { worker(); });
    // lgw_version_info() says e.g. "Version: 2.1.0;": keep the number.
    std::string hal = fwd_lgw_hal_version();
    if (hal.rfind("Version:", 0) == 0) {
        hal.erase(0, 8);
    }
    while (!hal.empty() && (hal.back() == ';' || hal.back() == ' ')) {
        hal.pop_back();
    }
    while (!hal.empty() && hal.front() == ' ') {
        hal.erase(0, 1);
    }
    host_.info(std::string(fwd_lgw_chip_info()->name) + " radio " + std::to_string(radio_) +
               ": HAL " + hal + ", " + (options_.usb ? "USB " : "SPI ") + options_.com_path +
               "; waiting for a channel plan (RadioConfig)");
}

void LgwRadio::stop()
{
    {
        std::lock_guard lock(plan_mutex_);
        if (stopping_ && !thread_.joinable()) {
            return;
        }
        stopping_ = true;
    }
    plan_changed_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard hal(hal_mutex_);
    if (started_.exchange(false)) {
        fwd_lgw_stop();
    }
}

void LgwRadio::deliver(uint32_t topic, std::string_view bytes)
{
    if (topic != FWD_TOPIC_RADIO_CONFIG) {
        return;
    }
    v1::RadioConfig plan;
    if (!plan.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
        plan.radio() != radio_) {
        return;
    }
    try {
        (void)hal_config(options_, plan); // refuse a plan that cannot work before stopping
    } catch (const sdk::Error& e) {
        host_.error(std::string("channel plan refused: ") + e.what());
        host_.stat_add("plans_refused");
        return;
    }
    {
        std::lock_guard lock(plan_mutex_);
        plan_ = std::move(plan);
        plan_pending_ = true;
    }
    plan_changed_.notify_all();
}

bool LgwRadio::start_hal(const v1::RadioConfig& plan)
{
    const fwd_lgw_config config = hal_config(options_, plan);
    char err[256] = {0};
    std::lock_guard hal(hal_mutex_);
    if (started_.exchange(false)) {
        fwd_lgw_stop();
    }
    try {
        if (!options_.reset_command.empty()) {
            run_reset_command(options_.reset_command);
        } else if (options_.reset && !options_.usb) {
            gpio_reset(*options_.reset, "forwarder radio" + std::to_string(radio_));
        }
    } catch (const std::exception& e) {
        host_.stat_add("start_failures");
        host_.error(std::string("concentrator reset failed: ") + e.what());
        return false;
    }
    if (fwd_lgw_start(&config, err, sizeof err) != 0) {
        host_.stat_add("start_failures");
        host_.error(std::string("concentrator start failed: ") + err);
        return false;
    }
    uint64_t eui = 0;
    char eui_text[24] = "unknown";
    if (fwd_lgw_chip_info()->has_eui && fwd_lgw_eui(&eui) == 0) {
        std::snprintf(eui_text, sizeof eui_text, "%016llx", static_cast<unsigned long long>(eui));
    }
    host_.info(std::string("concentrator started (chip EUI ") + eui_text + ", radios at " +
               std::to_string(config.radios[0].center_hz) + " / " +
               std::to_string(config.radios[1].center_hz) + " Hz)");
    started_ = true; // after the log line: whoever sees it running sees the line too
    return true;
}

void LgwRadio::worker()
{
    uint32_t backoff_ms = options_.start_retry_initial_ms;
    std::optional<v1::RadioConfig> plan;
    bool need_start = false;
    while (true) {
        {
            std::unique_lock lock(plan_mutex_);
            const auto wait = more_        ? std::chrono::milliseconds(0)
                              : started_   ? std::chrono::milliseconds(options_.poll_interval_ms)
                              : need_start ? std::chrono::milliseconds(backoff_ms)
                                           : std::chrono::milliseconds(1000);
            plan_changed_.wait_for(lock, wait, [&] { return stopping_ || plan_pending_; });
            if (stopping_) {
                return;
            }
            if (plan_pending_) {
                plan = plan_;
                plan_pending_ = false;
                need_start = true;
                backoff_ms = options_.start_retry_initial_ms;
            }
        }
        if (need_start && plan) {
            if (start_hal(*plan)) {
                need_start = false;
            } else {
                host_.warn("retrying the concentrator start in " + std::to_string(backoff_ms) +
                           " ms");
                backoff_ms = std::min(backoff_ms * 2, options_.start_retry_max_ms);
                continue;
            }
        }
        if (started_) {
            poll_once();
        }
    }
}

void LgwRadio::check_emissions()
{
    std::vector<TxCheck> due;
    uint32_t now = 0;
    {
        std::lock_guard hal(hal_mutex_);
        if (!started_ || fwd_lgw_counter(&now) != 0) {
            return;
        }
        std::lock_guard lock(tx_checks_mutex_);
        for (auto it = tx_checks_.begin(); it != tx_checks_.end();) {
            // 5 ms after the TX time the chip must be emitting (Basic Station's TXCHECK_FUDGE).
            if (static_cast<int32_t>(now - it->count_us) >= 5'000) {
                due.push_back(*it);
                it = tx_checks_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto& check : due) {
            check.status = fwd_lgw_tx_status(check.rf_chain);
        }
    }
    for (const auto& check : due) {
        // A LoRa frame lasts longer than 5 ms; a short FSK frame may already be over.
        if (check.status == FWD_TX_EMITTING || (!check.lora && check.status == FWD_TX_FREE)) {
            host_.stat_add("tx_emitted");
        } else {
            // Still scheduled (missed its trigger) or off: the frame did not go out.
            host_.stat_add("tx_missed");
            host_.warn("frame for counter " + std::to_string(check.count_us) +
                       " did not start (RF chain " + std::to_string(check.rf_chain) + " status " +
                       std::to_string(check.status) + ")");
        }
    }
}

void LgwRadio::poll_once()
{
    check_emissions();
    // The concentrator's temperature every 10 s, as a gauge in milli-°C (metrics, stat).
    if (const uint64_t t = monotonic_now(host_);
        temperature_read_us_ == 0 || t - temperature_read_us_ >= 10'000'000u) {
        temperature_read_us_ = t;
        float celsius = 0;
        int rc = -1;
        {
            std::lock_guard hal(hal_mutex_);
            rc = started_ ? fwd_lgw_temperature(&celsius) : -1;
        }
        if (rc == 0) {
            host_.stat_set("temperature_mc", static_cast<int64_t>(std::lround(celsius * 1000.0f)));
        }
    }
    fwd_lgw_rx packets[16];
    int n = 0;
    {
        std::lock_guard hal(hal_mutex_);
        n = fwd_lgw_receive(packets, 16);
    }
    more_ = n == 16; // the buffer may hold more: read again without waiting
    if (n < 0) {
        host_.stat_add("receive_errors");
        return;
    }
    const uint64_t now = monotonic_now(host_);
    for (int i = 0; i < n; ++i) {
        const auto& p = packets[i];
        v1::Uplink up;
        up.set_payload(std::string(reinterpret_cast<const char*>(p.payload), p.size));
        up.set_radio(radio_);
        up.set_count_us(p.count_us);
        up.set_frequency_hz(p.freq_hz);
        if (p.lora) {
            auto* lora = up.mutable_modulation()->mutable_lora();
            lora->set_spreading_factor(p.datarate);
            lora->set_bandwidth_hz(p.bandwidth_hz);
            lora->set_coding_rate(p.coding_rate >= 1 && p.coding_rate <= 4
                                      ? static_cast<v1::CodingRate>(p.coding_rate)
                                      : v1::CR_OFF);
        } else {
            up.mutable_modulation()->mutable_fsk()->set_bitrate(p.datarate);
        }
        up.set_rssi_channel_dbm(p.rssi_channel);
        up.set_rssi_signal_dbm(p.rssi_signal);
        up.set_snr_db(p.snr);
        up.set_crc(p.crc == FWD_CRC_OK     ? v1::CRC_OK
                   : p.crc == FWD_CRC_BAD  ? v1::CRC_BAD
                   : p.crc == FWD_CRC_NONE ? v1::CRC_NONE
                                           : v1::CRC_STATUS_UNSPECIFIED);
        up.set_if_chain(p.if_chain);
        up.set_rf_chain(p.rf_chain);
        up.set_modem_id(p.modem_id);
        up.set_frequency_offset_hz(p.freq_offset_hz);
        if (p.fine_timestamp_valid) {
            up.set_fine_timestamp_ns(p.fine_timestamp_ns);
        }
        up.set_received_mono_us(now);
        host_.publish(FWD_TOPIC_UPLINK, up.SerializeAsString());
        host_.stat_add("uplinks");
    }
}

uint32_t LgwRadio::counter_now()
{
    std::lock_guard hal(hal_mutex_);
    uint32_t count = 0;
    if (!started_ || fwd_lgw_counter(&count) != 0) {
        throw sdk::Error("the concentrator is not running");
    }
    return count;
}

bool LgwRadio::last_pps(uint32_t& count_us, uint64_t& edge_mono_us)
{
    std::lock_guard hal(hal_mutex_);
    uint32_t trig = 0, now = 0;
    if (!started_ || fwd_lgw_pps_counter(&trig) != 0 || fwd_lgw_counter(&now) != 0) {
        return false;
    }
    const uint64_t mono = monotonic_now(host_);
    const uint32_t age = now - trig;
    if (age > 2'000'000u) {
        return false; // no edge in the last two seconds
    }
    count_us = trig;
    edge_mono_us = mono - age;
    return true;
}

void LgwRadio::transmit(std::string_view bytes, uint32_t count_us)
{
    v1::TxRequest req;
    if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw sdk::Error("not a TxRequest");
    }
    if (req.payload().size() > 255) {
        throw sdk::Error("payload of " + std::to_string(req.payload().size()) +
                         " bytes; at most 255");
    }
    fwd_lgw_tx tx{};
    tx.freq_hz = static_cast<uint32_t>(req.frequency_hz());
    tx.mode = FWD_TX_TIMESTAMPED;
    // A frame at a GPS second + 1.5 ms (a class B beacon) goes out on the PPS edge itself
    // (ON_GPS) when the chip sees PPS: exact whatever the counter↔GPS mapping's error.
    const bool on_pps = req.timing().when_case() == v1::TxTiming::kGpsTimeUs &&
                        req.timing().gps_time_us() % 1'000'000 == 1'500;
    tx.count_us = count_us;
    uint8_t chain = static_cast<uint8_t>(req.rf_chain() < 2 ? req.rf_chain() : 0);
    if (!options_.radios[chain].tx_enable) {
        chain = options_.radios[0].tx_enable ? 0 : 1;
    }
    tx.rf_chain = chain;
    const Gain* gain = gain_for(options_.gains[chain], req.power_dbm());
    tx.power_dbm =
        gain != nullptr ? gain->rf_power : static_cast<int8_t>(std::lround(req.power_dbm()));
    if (gain != nullptr && static_cast<float>(gain->rf_power) < req.power_dbm() - 0.5f) {
        host_.stat_add("tx_power_lowered");
    }
    if (req.modulation().has_lora()) {
        const auto& lora = req.modulation().lora();
        tx.lora = 1;
        tx.bandwidth_hz = lora.bandwidth_hz();
        tx.datarate = lora.spreading_factor();
        tx.coding_rate = lora.coding_rate() >= v1::CR_4_5 && lora.coding_rate() <= v1::CR_4_8
                             ? static_cast<int>(lora.coding_rate())
                             : 1;
    } else if (req.modulation().has_fsk()) {
        tx.lora = 0;
        tx.datarate = req.modulation().fsk().bitrate();
        const uint32_t fdev = req.modulation().fsk().frequency_deviation_hz();
        tx.fdev_khz = static_cast<uint8_t>(fdev != 0 ? fdev / 1000 : 25);
    } else {
        throw sdk::Error("no modulation");
    }
    tx.invert_polarity = req.invert_iq() ? 1 : 0;
    tx.preamble = static_cast<uint16_t>(req.preamble() != 0 ? req.preamble() : (tx.lora ? 8 : 5));
    tx.no_crc = req.crc() ? 0 : 1;
    tx.no_header = req.implicit_header() ? 1 : 0;
    tx.size = static_cast<uint16_t>(req.payload().size());
    std::memcpy(tx.payload, req.payload().data(), req.payload().size());

    char err[128] = {0};
    int rc = 0;
    {
        std::lock_guard hal(hal_mutex_);
        if (!started_) {
            throw sdk::Error("the concentrator is not running");
        }
        // A frame still on air cannot be replaced (Semtech drops the new one the same way).
        if (fwd_lgw_tx_status(chain) == FWD_TX_EMITTING) {
            host_.stat_add("tx_busy");
            throw sdk::Error("RF chain " + std::to_string(chain) + " is still emitting");
        }
        uint32_t pps = 0;
        if (on_pps && fwd_lgw_pps_counter(&pps) == 0) {
            tx.mode = FWD_TX_ON_GPS;
        }
        rc = fwd_lgw_send(&tx, err, sizeof err);
    }
    if (rc == 1) {
        host_.stat_add("lbt_busy");
        throw sdk::ChannelBusy(err);
    }
    if (rc != 0) {
        host_.stat_add("tx_errors");
        throw sdk::Error(err);
    }
    host_.stat_add("tx_programmed");
    {
        // Checked by the receive thread a little after the preamble should have started.
        std::lock_guard lock(tx_checks_mutex_);
        tx_checks_.push_back({count_us, chain, tx.lora != 0});
    }
}

} // namespace forwarder::lgw

// Each driver compiles this file with its own name and description.
FORWARDER_PLUGIN(forwarder::lgw::LgwRadio, FORWARDER_LGW_NAME, FWD_KIND_RADIO, FORWARDER_VERSION,
                 FORWARDER_LGW_DESCRIPTION, forwarder::lgw::kOptions,
                 FWD_TOPIC_BIT(FWD_TOPIC_RADIO_CONFIG))
