#include "config.hpp"

#include <region.hpp>

#include <algorithm>
#include <cctype>
#include <dirent.h>
#include <fstream>
#include <set>

namespace forwarder::core {

std::string located(const std::string& file, const YAML::Node& node, const std::string& path,
                    const std::string& message)
{
    std::string out = file;
    if (node.IsDefined() && node.Mark().line >= 0) {
        out += ":" + std::to_string(node.Mark().line + 1) + ":" +
               std::to_string(node.Mark().column + 1);
    }
    out += ": ";
    if (!path.empty()) {
        out += path + ": ";
    }
    return out + message;
}

bool parse_eui(const std::string& text, uint64_t& eui)
{
    std::string hex;
    for (char c : text) {
        if (c == '-' || c == ':') {
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
        hex.push_back(c);
    }
    if (hex.size() != 16) {
        return false;
    }
    eui = std::stoull(hex, nullptr, 16);
    return true;
}

std::string format_eui(uint64_t eui)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(eui));
    return buf;
}

uint64_t eui_from_mac()
{
    std::vector<std::string> names;
    if (DIR* dir = opendir("/sys/class/net")) {
        while (dirent* e = readdir(dir)) {
            std::string n = e->d_name;
            if (n != "." && n != ".." && n != "lo") {
                names.push_back(n);
            }
        }
        closedir(dir);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        std::ifstream in("/sys/class/net/" + n + "/address");
        std::string mac;
        if (!(in >> mac)) {
            continue;
        }
        uint64_t m48 = 0;
        int digits = 0;
        for (char c : mac) {
            if (std::isxdigit(static_cast<unsigned char>(c))) {
                m48 = (m48 << 4) | static_cast<uint64_t>(std::stoi(std::string(1, c), nullptr, 16));
                ++digits;
            }
        }
        if (digits != 12 || m48 == 0) {
            continue;
        }
        // EUI-48 → EUI-64: OUI, then FF FE, then the device part.
        return ((m48 >> 24) << 40) | (0xFFFEull << 24) | (m48 & 0xFFFFFF);
    }
    return 0;
}

namespace {

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                           const std::string& message) const
    {
        throw ConfigError(located(file_, node, path, message));
    }

    void only_keys(const YAML::Node& map, const std::string& path,
                   std::initializer_list<const char*> allowed) const
    {
        for (const auto& kv : map) {
            const auto key = kv.first.as<std::string>();
            bool ok = std::any_of(allowed.begin(), allowed.end(),
                                  [&](const char* a) { return key == a; });
            if (!ok) {
                std::string list;
                for (const char* a : allowed) {
                    list += list.empty() ? a : std::string(", ") + a;
                }
                fail(kv.first, join(path, key), "unknown key (expected one of: " + list + ")");
            }
        }
    }

    static std::string join(const std::string& path, const std::string& key)
    {
        return path.empty() ? key : path + "." + key;
    }

    std::string string(const YAML::Node& node, const std::string& path) const
    {
        if (!node.IsScalar()) {
            fail(node, path, "expected a string");
        }
        return node.Scalar();
    }

    template <class T> T number(const YAML::Node& node, const std::string& path, T min, T max) const
    {
        T value{};
        if (!node.IsScalar() || !YAML::convert<T>::decode(node, value)) {
            fail(node, path, "expected a number");
        }
        if (value < min || value > max) {
            fail(node, path,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return value;
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
};

// "868.1" (MHz, 100..3000) -> Hz; false if not such a number.
bool parse_mhz(const std::string& text, uint64_t& hz)
{
    double mhz = 0;
    try {
        size_t used = 0;
        mhz = std::stod(text, &used);
        if (used != text.size()) {
            return false;
        }
    } catch (const std::exception&) {
        return false;
    }
    if (!(mhz >= 100.0 && mhz <= 3000.0)) {
        return false;
    }
    hz = static_cast<uint64_t>(mhz * 1e6 + 0.5);
    return true;
}

uint64_t read_mhz(const Reader& r, const YAML::Node& node, const std::string& path)
{
    uint64_t hz = 0;
    if (!node.IsScalar() || !parse_mhz(node.Scalar(), hz)) {
        r.fail(node, path, "expected a frequency in MHz (e.g. 868.1)");
    }
    return hz;
}

// A list of scalars (a single scalar counts as a list of one), each checked by `parse`.
template <class T, class Parse>
std::vector<T> read_list(const Reader& r, const YAML::Node& node, const std::string& path,
                         const char* expected, Parse parse)
{
    std::vector<T> out;
    if (!node.IsDefined() || node.IsNull()) {
        return out;
    }
    auto one = [&](const YAML::Node& item, const std::string& item_path) {
        T value{};
        if (!item.IsScalar() || !parse(item.Scalar(), value)) {
            r.fail(item, item_path, std::string("expected ") + expected);
        }
        out.push_back(std::move(value));
    };
    if (node.IsScalar()) {
        one(node, path);
    } else if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) {
            one(node[i], path + "[" + std::to_string(i) + "]");
        }
    } else {
        r.fail(node, path, std::string("expected a list of ") + expected);
    }
    return out;
}

// `transports[].filter`: which uplinks the transport receives (see uplink_filter.hpp).
UplinkFilter read_filter(const Reader& r, const YAML::Node& node, const std::string& path)
{
    UplinkFilter f;
    if (!node.IsDefined() || node.IsNull()) {
        return f;
    }
    if (!node.IsMap()) {
        r.fail(node, path,
               "expected a mapping (crc, lorawan_only, net_ids, dev_addr_prefixes, "
               "join_euis, frequencies, data_rates)");
    }
    r.only_keys(node, path,
                {"crc", "lorawan_only", "net_ids", "dev_addr_prefixes", "join_euis", "frequencies",
                 "data_rates"});
    if (const YAML::Node crc = node["crc"]; crc.IsDefined()) {
        const auto classes = read_list<std::string>(r, crc, path + ".crc", "ok, bad, none or any",
                                                    [](const std::string& text, std::string& out) {
                                                        out = text;
                                                        return text == "ok" || text == "bad" ||
                                                               text == "none" || text == "any";
                                                    });
        f.crc_ok = f.crc_bad = f.crc_none = false;
        for (const auto& c : classes) {
            f.crc_ok = f.crc_ok || c == "ok" || c == "any";
            f.crc_bad = f.crc_bad || c == "bad" || c == "any";
            f.crc_none = f.crc_none || c == "none" || c == "any";
        }
        if (classes.empty()) {
            r.fail(crc, path + ".crc", "lists no CRC class: no uplink would pass");
        }
    }
    if (const YAML::Node v = node["lorawan_only"]; v.IsDefined()) {
        if (!v.IsScalar() || !YAML::convert<bool>::decode(v, f.lorawan_only)) {
            r.fail(v, path + ".lorawan_only", "expected true or false");
        }
    }
    f.net_ids = read_list<uint32_t>(
        r, node["net_ids"], path + ".net_ids", "a NetID (6 hex digits, e.g. 000013)",
        [](const std::string& t, uint32_t& o) { return parse_net_id(t, o); });
    f.dev_addr_prefixes = read_list<DevAddrPrefix>(
        r, node["dev_addr_prefixes"], path + ".dev_addr_prefixes",
        "a DevAddr prefix (8 hex digits / bits, e.g. 26000000/7)",
        [](const std::string& t, DevAddrPrefix& o) { return parse_dev_addr_prefix(t, o); });
    f.join_euis = read_list<EuiRange>(
        r, node["join_euis"], path + ".join_euis",
        "a JoinEUI or a range (e.g. 70B3D57ED0000000-70B3D57ED0FFFFFF)",
        [](const std::string& t, EuiRange& o) { return parse_eui_range(t, o); });
    f.frequencies_hz = read_list<uint64_t>(r, node["frequencies"], path + ".frequencies",
                                           "a frequency in MHz (e.g. 868.1)", parse_mhz);
    f.data_rates = read_list<std::string>(
        r, node["data_rates"], path + ".data_rates",
        "a data rate (SF7BW125 ... or an FSK bit rate such as 50000)",
        [](const std::string& t, std::string& o) { return parse_data_rate(t, o); });
    return f;
}

// `radios[].channel_plan`: the channels a radio listens on when no transport sends a plan.
forwarder::v1::RadioConfig read_channel_plan(const Reader& r, const YAML::Node& node,
                                             const std::string& path, size_t radio)
{
    if (!node.IsMap()) {
        r.fail(node, path, "expected a mapping (region, multi_sf, lora_std, fsk, tx_min, tx_max)");
    }
    r.only_keys(node, path, {"region", "multi_sf", "lora_std", "fsk", "tx_min", "tx_max"});
    forwarder::v1::RadioConfig rc;
    rc.set_radio(static_cast<uint32_t>(radio));
    if (const YAML::Node region = node["region"]; region.IsDefined()) {
        const std::string name = r.string(region, path + ".region");
        const auto* found = support::find_region(name);
        if (found == nullptr) {
            r.fail(region, path + ".region",
                   "unknown region '" + name + "' (known: " + support::region_names() + ")");
        }
        rc.set_region(std::string(found->name));
        rc.set_tx_frequency_min_hz(found->tx_min_hz);
        rc.set_tx_frequency_max_hz(found->tx_max_hz);
        rc.set_max_eirp_dbm(found->max_eirp_dbm);
    }
    if (const YAML::Node list = node["multi_sf"]; list.IsDefined()) {
        if (!list.IsSequence() || list.size() > 8) {
            r.fail(list, path + ".multi_sf", "expected a list of at most 8 frequencies in MHz");
        }
        for (size_t i = 0; i < list.size(); ++i) {
            auto* ch = rc.add_multi_sf_channels();
            ch->set_frequency_hz(
                read_mhz(r, list[i], path + ".multi_sf[" + std::to_string(i) + "]"));
            ch->set_bandwidth_hz(125000);
            ch->set_min_spreading_factor(7);
            ch->set_max_spreading_factor(12);
        }
    }
    if (const YAML::Node std_ch = node["lora_std"]; std_ch.IsDefined()) {
        const std::string p = path + ".lora_std";
        if (!std_ch.IsMap()) {
            r.fail(std_ch, p, "expected {frequency, bandwidth, spreading_factor}");
        }
        r.only_keys(std_ch, p, {"frequency", "bandwidth", "spreading_factor"});
        if (!std_ch["frequency"].IsDefined()) {
            r.fail(std_ch, p, "missing `frequency:`");
        }
        auto* ch = rc.mutable_std_channel();
        ch->set_frequency_hz(read_mhz(r, std_ch["frequency"], p + ".frequency"));
        uint32_t bw = 250;
        if (std_ch["bandwidth"].IsDefined()) {
            bw = r.number<uint32_t>(std_ch["bandwidth"], p + ".bandwidth", 125, 500);
            if (bw != 125 && bw != 250 && bw != 500) {
                r.fail(std_ch["bandwidth"], p + ".bandwidth", "expected 125, 250 or 500 (kHz)");
            }
        }
        uint32_t sf = 7;
        if (std_ch["spreading_factor"].IsDefined()) {
            sf = r.number<uint32_t>(std_ch["spreading_factor"], p + ".spreading_factor", 5, 12);
        }
        ch->set_bandwidth_hz(bw * 1000);
        ch->set_min_spreading_factor(sf);
        ch->set_max_spreading_factor(sf);
    }
    if (const YAML::Node fsk = node["fsk"]; fsk.IsDefined()) {
        const std::string p = path + ".fsk";
        if (!fsk.IsMap()) {
            r.fail(fsk, p, "expected {frequency, bitrate}");
        }
        r.only_keys(fsk, p, {"frequency", "bitrate"});
        if (!fsk["frequency"].IsDefined()) {
            r.fail(fsk, p, "missing `frequency:`");
        }
        auto* ch = rc.mutable_fsk_channel();
        ch->set_frequency_hz(read_mhz(r, fsk["frequency"], p + ".frequency"));
        ch->set_bitrate(fsk["bitrate"].IsDefined()
                            ? r.number<uint32_t>(fsk["bitrate"], p + ".bitrate", 500, 250000)
                            : 50000);
        ch->set_bandwidth_hz(125000);
    }
    if (node["tx_min"].IsDefined()) {
        rc.set_tx_frequency_min_hz(read_mhz(r, node["tx_min"], path + ".tx_min"));
    }
    if (node["tx_max"].IsDefined()) {
        rc.set_tx_frequency_max_hz(read_mhz(r, node["tx_max"], path + ".tx_max"));
    }
    if (rc.multi_sf_channels_size() == 0 && !rc.has_std_channel() && !rc.has_fsk_channel()) {
        r.fail(node, path, "lists no channel (multi_sf, lora_std or fsk)");
    }
    if (rc.tx_frequency_min_hz() > rc.tx_frequency_max_hz()) {
        r.fail(node, path, "tx_min is above tx_max");
    }
    return rc;
}

std::vector<PluginSpec> read_plugins(const Reader& r, const YAML::Node& list,
                                     const std::string& section, const char* name_key)
{
    std::vector<PluginSpec> out;
    if (!list.IsDefined() || list.IsNull()) {
        return out;
    }
    if (!list.IsSequence()) {
        r.fail(list, section, "expected a list of entries");
    }
    for (size_t i = 0; i < list.size(); ++i) {
        const YAML::Node entry = list[i];
        const std::string path = section + "[" + std::to_string(i) + "]";
        if (!entry.IsMap()) {
            r.fail(entry, path, std::string("expected a mapping with `") + name_key + ":`");
        }
        if (section == "radios") {
            r.only_keys(entry, path,
                        {name_key, "name", "options", "queue_size", "process", "channel_plan"});
        } else {
            r.only_keys(entry, path,
                        {name_key, "name", "options", "queue_size", "filter", "priority"});
        }
        PluginSpec spec;
        spec.path = path;
        spec.node.reset(entry);
        const YAML::Node plugin = entry[name_key];
        if (!plugin.IsDefined()) {
            r.fail(entry, path, std::string("missing `") + name_key + ":`");
        }
        spec.plugin = r.string(plugin, path + "." + name_key);
        const bool valid_name =
            !spec.plugin.empty() && std::all_of(spec.plugin.begin(), spec.plugin.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
            });
        if (!valid_name) {
            r.fail(plugin, path + "." + name_key,
                   "'" + spec.plugin + "' is not a plugin name (letters, digits, - and _)");
        }
        if (entry["name"].IsDefined()) {
            spec.name = r.string(entry["name"], path + ".name");
        } else {
            spec.name = section == "radios" ? "radio" + std::to_string(i) : spec.plugin;
        }
        if (const YAML::Node options = entry["options"]; options.IsDefined()) {
            spec.options.reset(options);
        }
        if (spec.options.IsDefined() && !spec.options.IsNull() && !spec.options.IsMap()) {
            r.fail(spec.options, path + ".options", "expected a mapping of options");
        }
        spec.queue_size = kDefaultQueueSize;
        if (entry["queue_size"].IsDefined()) {
            spec.queue_size =
                r.number<size_t>(entry["queue_size"], path + ".queue_size", 1, 10'000'000);
        }
        if (section == "transports") {
            spec.filter = read_filter(r, entry["filter"], path + ".filter");
            if (entry["priority"].IsDefined()) {
                spec.priority = r.number<uint32_t>(entry["priority"], path + ".priority", 0, 255);
            }
        }
        if (section == "radios") {
            if (const YAML::Node plan = entry["channel_plan"]; plan.IsDefined() && !plan.IsNull()) {
                spec.channel_plan = read_channel_plan(r, plan, path + ".channel_plan", i);
            }
        }
        if (const YAML::Node process = entry["process"]; process.IsDefined()) {
            const auto text = r.string(process, path + ".process");
            if (text == "auto") {
                spec.process = ProcessMode::automatic;
            } else if (text == "worker") {
                spec.process = ProcessMode::worker;
            } else if (text == "inline") {
                spec.process = ProcessMode::in_process;
            } else {
                r.fail(process, path + ".process",
                       "expected auto, worker or inline, got '" + text + "'");
            }
        }
        out.push_back(std::move(spec));
    }
    return out;
}

// An on/off switch (true/false too); with `allow_auto`, also `auto` (returned as nullopt).
std::optional<bool> read_switch(const Reader& r, const YAML::Node& node, const std::string& path,
                                bool allow_auto)
{
    const auto text = r.string(node, path);
    if (text == "on" || text == "true") {
        return true;
    }
    if (text == "off" || text == "false") {
        return false;
    }
    if (!(allow_auto && text == "auto")) {
        r.fail(node, path,
               std::string("expected ") + (allow_auto ? "auto, on or off" : "on or off") +
                   ", got '" + text + "'");
    }
    return std::nullopt;
}

// scheduler: region, duty cycle, dwell time, LBT, retries, antenna diversity, beacons.
void read_rules(Reader& r, const YAML::Node& s, SchedulerConfig& sc)
{
    if (s["region"].IsDefined()) {
        sc.region = r.string(s["region"], "scheduler.region");
        if (support::find_region(sc.region) == nullptr) {
            r.fail(s["region"], "scheduler.region",
                   "unknown region '" + sc.region + "'; known: " + support::region_names());
        }
    }
    if (const YAML::Node dc = s["duty_cycle"]; dc.IsDefined()) {
        sc.duty_cycle = *read_switch(r, dc, "scheduler.duty_cycle", false);
    }
    if (s["duty_cycle_window_s"].IsDefined()) {
        sc.duty_cycle_window_us =
            uint64_t{1'000'000} * r.number<uint32_t>(s["duty_cycle_window_s"],
                                                     "scheduler.duty_cycle_window_s", 1, 86'400);
    }
    if (const YAML::Node dw = s["dwell_time"]; dw.IsDefined()) {
        sc.dwell_time = read_switch(r, dw, "scheduler.dwell_time", true);
    }
    if (const YAML::Node lbt = s["lbt"]; lbt.IsDefined()) {
        const auto mode = read_switch(r, lbt, "scheduler.lbt", true);
        sc.lbt = !mode ? LbtMode::automatic : *mode ? LbtMode::on : LbtMode::off;
    }
    if (s["class_c_retries"].IsDefined()) {
        sc.class_c_retries =
            r.number<uint32_t>(s["class_c_retries"], "scheduler.class_c_retries", 0, 100);
    }
    if (s["class_c_retry_step_us"].IsDefined()) {
        sc.class_c_retry_step_us = r.number<uint32_t>(
            s["class_c_retry_step_us"], "scheduler.class_c_retry_step_us", 1000, 10'000'000);
    }
    if (const YAML::Node ad = s["antenna_diversity"]; ad.IsDefined()) {
        sc.antenna_diversity = *read_switch(r, ad, "scheduler.antenna_diversity", false);
    }
    if (const YAML::Node b = s["beacon"]; b.IsDefined() && !b.IsNull()) {
        if (!b.IsMap()) {
            r.fail(b, "scheduler.beacon", "expected a mapping");
        }
        r.only_keys(b, "scheduler.beacon",
                    {"enabled", "radio", "latitude", "longitude", "info_desc", "power_dbm"});
        auto& bc = sc.beacon;
        if (b["enabled"].IsDefined()) {
            const auto mode = read_switch(r, b["enabled"], "scheduler.beacon.enabled", true);
            bc.mode = !mode   ? BeaconConfig::Mode::automatic
                      : *mode ? BeaconConfig::Mode::on
                              : BeaconConfig::Mode::off;
        }
        if (b["radio"].IsDefined()) {
            bc.radio = r.number<uint32_t>(b["radio"], "scheduler.beacon.radio", 0, 63);
        }
        if (b["latitude"].IsDefined()) {
            bc.latitude = r.number<double>(b["latitude"], "scheduler.beacon.latitude", -90, 90);
        }
        if (b["longitude"].IsDefined()) {
            bc.longitude =
                r.number<double>(b["longitude"], "scheduler.beacon.longitude", -180, 180);
        }
        if (bc.latitude.has_value() != bc.longitude.has_value()) {
            r.fail(b, "scheduler.beacon", "latitude and longitude go together");
        }
        if (b["info_desc"].IsDefined()) {
            bc.info_desc = static_cast<uint8_t>(
                r.number<uint32_t>(b["info_desc"], "scheduler.beacon.info_desc", 0, 2));
        }
        if (b["power_dbm"].IsDefined()) {
            bc.power_dbm = r.number<float>(b["power_dbm"], "scheduler.beacon.power_dbm", -10, 36);
        }
    }
}

// time: the GPS receiver (gps: {source, device, baud, host, port}) and round-trip mode.
void read_time(Reader& r, const YAML::Node& t, TimeConfig& tc)
{
    if (!t.IsMap()) {
        r.fail(t, "time", "expected a mapping");
    }
    r.only_keys(t, "time", {"gps", "round_trip"});
    if (const YAML::Node g = t["gps"]; g.IsDefined() && !g.IsNull()) {
        if (!g.IsMap()) {
            r.fail(g, "time.gps", "expected a mapping");
        }
        r.only_keys(g, "time.gps", {"source", "device", "baud", "host", "port", "offset_s"});
        if (g["offset_s"].IsDefined()) {
            tc.gps_offset_s =
                r.number<int64_t>(g["offset_s"], "time.gps.offset_s", -86'400'000, 86'400'000);
        }
        GpsSourceConfig gc;
        gc.kind = g["source"].IsDefined() ? r.string(g["source"], "time.gps.source") : "";
        if (gc.kind != "none" && gc.kind != "gpsd" && gc.kind != "nmea" && gc.kind != "system") {
            r.fail(g["source"].IsDefined() ? g["source"] : g, "time.gps.source",
                   "expected gpsd, nmea, system or none, got '" + gc.kind + "'");
        }
        if (g["device"].IsDefined()) {
            gc.device = r.string(g["device"], "time.gps.device");
        }
        if (gc.kind == "nmea" && gc.device.empty()) {
            r.fail(g, "time.gps.device", "an nmea source needs the serial device, e.g. /dev/ttyS0");
        }
        if (g["baud"].IsDefined()) {
            gc.baud = r.number<uint32_t>(g["baud"], "time.gps.baud", 1200, 921'600);
        }
        if (g["host"].IsDefined()) {
            gc.host = r.string(g["host"], "time.gps.host");
        }
        if (g["port"].IsDefined()) {
            gc.port = r.number<uint16_t>(g["port"], "time.gps.port", 1, 65535);
        }
        if (gc.kind != "none") {
            tc.gps = gc;
        }
    }
    if (const YAML::Node rt = t["round_trip"]; rt.IsDefined()) {
        const auto text = r.string(rt, "time.round_trip");
        if (text != "exact" && text != "fuzzy") {
            r.fail(rt, "time.round_trip", "expected exact or fuzzy, got '" + text + "'");
        }
        tc.fuzzy_round_trip = text == "fuzzy";
    }
}

} // namespace

Config load_config(const std::string& path)
{
    Config cfg;
    cfg.file = path;
    Reader r(path);
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw ConfigError(path + ": cannot read the file");
    } catch (const YAML::Exception& e) {
        throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) {
        r.fail(root, "", "expected a mapping with gateway, radios, transports");
    }
    try {
        r.only_keys(root, "",
                    {"gateway", "plugin_dir", "radios", "transports", "scheduler", "time", "stats",
                     "metrics"});
        for (const auto& kv : root) {
            cfg.section_text[kv.first.as<std::string>()] = YAML::Dump(kv.second);
        }

        if (const YAML::Node gw = root["gateway"]; gw.IsDefined() && !gw.IsNull()) {
            if (!gw.IsMap()) {
                r.fail(gw, "gateway", "expected a mapping");
            }
            r.only_keys(gw, "gateway", {"eui", "log"});
            if (gw["eui"].IsDefined()) {
                cfg.gateway_eui_text = r.string(gw["eui"], "gateway.eui");
                if (cfg.gateway_eui_text != "auto" &&
                    !parse_eui(cfg.gateway_eui_text, cfg.gateway_eui)) {
                    r.fail(gw["eui"], "gateway.eui",
                           "expected `auto` or 16 hex digits, got '" + cfg.gateway_eui_text + "'");
                }
            }
            if (const YAML::Node log = gw["log"]; log.IsDefined() && !log.IsNull()) {
                if (!log.IsMap()) {
                    r.fail(log, "gateway.log", "expected a mapping");
                }
                r.only_keys(log, "gateway.log", {"level", "file"});
                if (log["level"].IsDefined()) {
                    const auto text = r.string(log["level"], "gateway.log.level");
                    if (!parse_log_level(text, cfg.log_level)) {
                        r.fail(log["level"], "gateway.log.level",
                               "expected trace, debug, info, warn or error, got '" + text + "'");
                    }
                    cfg.log_level_set = true;
                }
                if (log["file"].IsDefined()) {
                    cfg.log_file = r.string(log["file"], "gateway.log.file");
                }
            }
        }
        if (root["plugin_dir"].IsDefined()) {
            cfg.plugin_dir = r.string(root["plugin_dir"], "plugin_dir");
        }
        cfg.radios = read_plugins(r, root["radios"], "radios", "driver");
        cfg.transports = read_plugins(r, root["transports"], "transports", "plugin");
        if (cfg.radios.empty()) {
            // Point at the `radios:` key itself: an empty value's position is where the next
            // token starts, often many comment lines further down.
            YAML::Node where = root;
            for (const auto& kv : root) {
                if (kv.first.as<std::string>() == "radios") {
                    where.reset(kv.first);
                }
            }
            r.fail(where, "radios", "at least one radio is required");
        }
        std::set<std::string> names;
        for (const auto* list : {&cfg.radios, &cfg.transports}) {
            for (const auto& spec : *list) {
                if (!names.insert(spec.name).second) {
                    r.fail(spec.node, spec.path + ".name",
                           "instance name '" + spec.name + "' is used twice; set `name:`");
                }
            }
        }

        if (const YAML::Node s = root["scheduler"]; s.IsDefined() && !s.IsNull()) {
            if (!s.IsMap()) {
                r.fail(s, "scheduler", "expected a mapping");
            }
            r.only_keys(s, "scheduler",
                        {"max_ahead_us", "start_delay_us", "guard_us", "margin_us", "queue_size",
                         "handover_slack_us", "region", "duty_cycle", "duty_cycle_window_s",
                         "dwell_time", "lbt", "class_c_retries", "class_c_retry_step_us",
                         "antenna_diversity", "beacon"});
            auto& sc = cfg.scheduler;
            if (s["max_ahead_us"].IsDefined()) {
                sc.max_ahead_us = r.number<uint32_t>(s["max_ahead_us"], "scheduler.max_ahead_us",
                                                     1'000'000, 1'800'000'000);
            }
            if (s["start_delay_us"].IsDefined()) {
                sc.start_delay_us =
                    r.number<uint32_t>(s["start_delay_us"], "scheduler.start_delay_us", 0, 100'000);
            }
            if (s["guard_us"].IsDefined()) {
                sc.guard_us = r.number<uint32_t>(s["guard_us"], "scheduler.guard_us", 0, 1'000'000);
            }
            if (s["margin_us"].IsDefined()) {
                sc.margin_us =
                    r.number<uint32_t>(s["margin_us"], "scheduler.margin_us", 0, 1'000'000);
            }
            if (s["queue_size"].IsDefined()) {
                sc.queue_size = r.number<size_t>(s["queue_size"], "scheduler.queue_size", 1, 1024);
            }
            if (s["handover_slack_us"].IsDefined()) {
                sc.handover_slack_us = r.number<uint32_t>(
                    s["handover_slack_us"], "scheduler.handover_slack_us", 0, 1'000'000);
            }
            read_rules(r, s, sc);
        }
        if (const YAML::Node t = root["time"]; t.IsDefined() && !t.IsNull()) {
            read_time(r, t, cfg.time);
        }
        if (const YAML::Node s = root["stats"]; s.IsDefined() && !s.IsNull()) {
            if (!s.IsMap()) {
                r.fail(s, "stats", "expected a mapping");
            }
            r.only_keys(s, "stats", {"interval_s"});
            if (s["interval_s"].IsDefined()) {
                cfg.stats_interval_s =
                    r.number<uint32_t>(s["interval_s"], "stats.interval_s", 0, 86400);
            }
        }
        if (const YAML::Node m = root["metrics"]; m.IsDefined() && !m.IsNull()) {
            if (!m.IsMap()) {
                r.fail(m, "metrics", "expected a mapping with `listen:`");
            }
            r.only_keys(m, "metrics", {"listen"});
            if (const YAML::Node l = m["listen"]; l.IsDefined() && !l.IsNull()) {
                cfg.metrics_listen = r.string(l, "metrics.listen");
                const auto colon = cfg.metrics_listen.rfind(':');
                uint32_t port = 0;
                bool ok = colon != std::string::npos && colon + 1 < cfg.metrics_listen.size();
                if (ok) {
                    const std::string digits = cfg.metrics_listen.substr(colon + 1);
                    ok =
                        digits.size() <= 5 && std::all_of(digits.begin(), digits.end(), [](char c) {
                            return std::isdigit(static_cast<unsigned char>(c));
                        });
                    port = ok ? static_cast<uint32_t>(std::stoul(digits)) : 0;
                    ok = ok && port <= 65535;
                }
                if (!ok) {
                    r.fail(l, "metrics.listen",
                           "expected HOST:PORT, e.g. \"127.0.0.1:9100\" or \"[::1]:9100\"");
                }
            }
        }
    } catch (const YAML::Exception& e) {
        throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    return cfg;
}

} // namespace forwarder::core
