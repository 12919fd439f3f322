#include "config.hpp"

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
        r.only_keys(entry, path, {name_key, "name", "options", "queue_size"});
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
        out.push_back(std::move(spec));
    }
    return out;
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
                    {"gateway", "plugin_dir", "radios", "transports", "scheduler", "stats"});

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
            r.fail(root["radios"].IsDefined() ? root["radios"] : root, "radios",
                   "at least one radio is required");
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
                         "handover_slack_us"});
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
    } catch (const YAML::Exception& e) {
        throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    return cfg;
}

} // namespace forwarder::core
