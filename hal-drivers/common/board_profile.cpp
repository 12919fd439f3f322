#include "board_profile.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>
#include <sstream>

namespace forwarder::boards {

namespace {

namespace fs = std::filesystem;

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string join_key(const std::string& prefix, const std::string& key)
{
    return prefix.empty() ? key : prefix + "." + key;
}

std::string index_key(const std::string& prefix, std::size_t i)
{
    return prefix + "[" + std::to_string(i) + "]";
}

// Reads one document, reporting every problem as a BoardValidationError naming source + key.
class Reader {
public:
    explicit Reader(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const std::string& key, const std::string& message,
                           const YAML::Node& node = YAML::Node()) const
    {
        std::string text = message;
        if (node.IsDefined() && !node.Mark().is_null())
            text += " (line " + std::to_string(node.Mark().line + 1) + ")";
        throw BoardValidationError(source_, key, text);
    }

    void expect_map(const YAML::Node& node, const std::string& key) const
    {
        if (!node.IsMap())
            fail(key, "expected a map", node);
    }

    // Unknown keys are errors: a typo must not silently fall back to a default.
    void check_keys(const YAML::Node& map, const std::string& prefix,
                    std::initializer_list<const char*> allowed) const
    {
        for (const auto& kv : map) {
            const std::string k = kv.first.Scalar();
            bool ok =
                std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
            if (!ok) {
                std::string list;
                for (const char* a : allowed)
                    list += (list.empty() ? "" : ", ") + std::string(a);
                fail(join_key(prefix, k), "unknown key (expected one of: " + list + ")", kv.first);
            }
        }
    }

    YAML::Node required(const YAML::Node& map, const std::string& prefix, const char* key) const
    {
        YAML::Node n = map[key];
        if (!n.IsDefined() || n.IsNull())
            fail(join_key(prefix, key), "missing required key", map);
        return n;
    }

    std::string string(const YAML::Node& n, const std::string& key) const
    {
        if (!n.IsScalar() || n.Scalar().empty())
            fail(key, "expected a non-empty string", n);
        return n.Scalar();
    }

    std::string device_path(const YAML::Node& n, const std::string& key) const
    {
        std::string s = string(n, key);
        if (s.front() != '/')
            fail(key, "expected an absolute device path, got '" + s + "'", n);
        return s;
    }

    long long integer(const YAML::Node& n, const std::string& key, long long lo, long long hi) const
    {
        const std::string range =
            "expected an integer " + std::to_string(lo) + ".." + std::to_string(hi);
        if (!n.IsScalar())
            fail(key, range, n);
        const std::string& s = n.Scalar();
        const char* p = s.data();
        const char* end = s.data() + s.size();
        bool negative = false;
        if (p != end && (*p == '-' || *p == '+'))
            negative = *p++ == '-';
        int base = 10;
        if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            base = 16;
            p += 2;
        }
        unsigned long long magnitude = 0;
        auto [ptr, ec] = std::from_chars(p, end, magnitude, base);
        if (p == end || ec != std::errc() || ptr != end ||
            magnitude > static_cast<unsigned long long>(1) << 62)
            fail(key, range + ", got '" + s + "'", n);
        long long value =
            negative ? -static_cast<long long>(magnitude) : static_cast<long long>(magnitude);
        if (value < lo || value > hi)
            fail(key, range + ", got " + s, n);
        return value;
    }

    double number(const YAML::Node& n, const std::string& key, double lo, double hi) const
    {
        std::ostringstream range;
        range << "expected a number " << lo << ".." << hi;
        if (!n.IsScalar())
            fail(key, range.str(), n);
        const std::string& s = n.Scalar();
        const char* p = s.data();
        if (!s.empty() && s[0] == '+')
            ++p;
        double value = 0;
        auto [ptr, ec] = std::from_chars(p, s.data() + s.size(), value);
        if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
            fail(key, range.str() + ", got '" + s + "'", n);
        if (value < lo || value > hi)
            fail(key, range.str() + ", got " + s, n);
        return value;
    }

    bool boolean(const YAML::Node& n, const std::string& key) const
    {
        if (n.IsScalar()) {
            const std::string s = lower(n.Scalar());
            if (s == "true")
                return true;
            if (s == "false")
                return false;
        }
        fail(key, "expected true or false", n);
    }

    // A value that may be the scalar `none` (or null) instead of a map.
    static bool is_none(const YAML::Node& n)
    {
        return !n.IsDefined() || n.IsNull() || (n.IsScalar() && lower(n.Scalar()) == "none");
    }

    const std::string& source() const { return source_; }

private:
    std::string source_;
};

Chip parse_chip(const Reader& r, const YAML::Node& n)
{
    const std::string s = lower(r.string(n, "chip"));
    if (s == "sx1302")
        return Chip::sx1302;
    if (s == "sx1301")
        return Chip::sx1301;
    if (s == "picogw")
        return Chip::picogw;
    r.fail("chip", "expected sx1302, sx1301 or picogw, got '" + n.Scalar() + "'", n);
}

ComType parse_com_type(const Reader& r, const YAML::Node& n)
{
    const std::string s = lower(r.string(n, "com_type"));
    if (s == "spi")
        return ComType::spi;
    if (s == "usb")
        return ComType::usb;
    r.fail("com_type", "expected spi or usb, got '" + n.Scalar() + "'", n);
}

RadioType parse_radio_type(const Reader& r, const YAML::Node& n, const std::string& key)
{
    const std::string s = lower(r.string(n, key));
    if (s == "sx1250")
        return RadioType::sx1250;
    if (s == "sx1257")
        return RadioType::sx1257;
    if (s == "sx1255")
        return RadioType::sx1255;
    r.fail(key, "expected SX1250, SX1257 or SX1255, got '" + n.Scalar() + "'", n);
}

Radio parse_radio(const Reader& r, const YAML::Node& n, const std::string& key)
{
    r.expect_map(n, key);
    r.check_keys(n, key, {"type", "rssi_offset", "rssi_tcomp", "tx_enable", "tx_notch_freq"});
    Radio radio;
    radio.type = parse_radio_type(r, r.required(n, key, "type"), join_key(key, "type"));
    radio.rssi_offset =
        r.number(r.required(n, key, "rssi_offset"), join_key(key, "rssi_offset"), -500, 500);
    if (YAML::Node t = n["rssi_tcomp"]; t.IsDefined() && !Reader::is_none(t)) {
        const std::string tk = join_key(key, "rssi_tcomp");
        r.expect_map(t, tk);
        r.check_keys(t, tk, {"coeff_a", "coeff_b", "coeff_c", "coeff_d", "coeff_e"});
        RssiTcomp c;
        auto coeff = [&](const char* name, double& out) {
            if (YAML::Node v = t[name]; v.IsDefined())
                out = r.number(v, join_key(tk, name), -1e9, 1e9);
        };
        coeff("coeff_a", c.coeff_a);
        coeff("coeff_b", c.coeff_b);
        coeff("coeff_c", c.coeff_c);
        coeff("coeff_d", c.coeff_d);
        coeff("coeff_e", c.coeff_e);
        radio.rssi_tcomp = c;
    }
    if (YAML::Node v = n["tx_enable"]; v.IsDefined())
        radio.tx_enable = r.boolean(v, join_key(key, "tx_enable"));
    if (YAML::Node v = n["tx_notch_freq"]; v.IsDefined())
        radio.tx_notch_freq = static_cast<std::uint32_t>(
            r.integer(v, join_key(key, "tx_notch_freq"), 126000, 250000));
    return radio;
}

TxGain parse_gain(const Reader& r, const YAML::Node& n, const std::string& key)
{
    r.expect_map(n, key);
    r.check_keys(n, key, {"rf_power", "pa_gain", "pwr_idx", "dig_gain", "dac_gain", "mix_gain"});
    TxGain g;
    g.rf_power = static_cast<int>(
        r.integer(r.required(n, key, "rf_power"), join_key(key, "rf_power"), -128, 127));
    g.pa_gain =
        static_cast<int>(r.integer(r.required(n, key, "pa_gain"), join_key(key, "pa_gain"), 0, 3));
    auto opt = [&](const char* name, long long hi, std::optional<int>& out) {
        if (YAML::Node v = n[name]; v.IsDefined())
            out = static_cast<int>(r.integer(v, join_key(key, name), 0, hi));
    };
    opt("pwr_idx", 22, g.pwr_idx);
    opt("dig_gain", 3, g.dig_gain);
    opt("dac_gain", 3, g.dac_gain);
    opt("mix_gain", 15, g.mix_gain);
    return g;
}

Reset parse_reset(const Reader& r, const YAML::Node& n)
{
    r.expect_map(n, "reset");
    r.check_keys(n, "reset", {"chip", "line", "active", "power_enable_line", "sx1261_reset_line"});
    Reset reset;
    if (YAML::Node v = n["chip"]; v.IsDefined())
        reset.chip = r.device_path(v, "reset.chip");
    reset.line =
        static_cast<unsigned>(r.integer(r.required(n, "reset", "line"), "reset.line", 0, 511));
    if (YAML::Node v = n["active"]; v.IsDefined()) {
        const std::string s = lower(r.string(v, "reset.active"));
        if (s != "high" && s != "low")
            r.fail("reset.active", "expected high or low, got '" + v.Scalar() + "'", v);
        reset.active_high = s == "high";
    }
    if (YAML::Node v = n["power_enable_line"]; v.IsDefined())
        reset.power_enable_line =
            static_cast<unsigned>(r.integer(v, "reset.power_enable_line", 0, 511));
    if (YAML::Node v = n["sx1261_reset_line"]; v.IsDefined())
        reset.sx1261_reset_line =
            static_cast<unsigned>(r.integer(v, "reset.sx1261_reset_line", 0, 511));
    return reset;
}

TemperatureSensor parse_sensor(const Reader& r, const YAML::Node& n)
{
    TemperatureSensor t;
    if (Reader::is_none(n))
        return t;
    if (n.IsScalar() && lower(n.Scalar()) == "mcu") {
        t.kind = TemperatureSensorKind::mcu;
        return t;
    }
    if (!n.IsMap())
        r.fail("temperature_sensor", "expected none, mcu or a map {i2c_address, ...}", n);
    r.check_keys(n, "temperature_sensor", {"i2c_path", "i2c_address", "model"});
    t.kind = TemperatureSensorKind::i2c;
    if (YAML::Node v = n["i2c_path"]; v.IsDefined())
        t.i2c_path = r.device_path(v, "temperature_sensor.i2c_path");
    t.i2c_address =
        static_cast<unsigned>(r.integer(r.required(n, "temperature_sensor", "i2c_address"),
                                        "temperature_sensor.i2c_address", 0x03, 0x77));
    if (YAML::Node v = n["model"]; v.IsDefined()) {
        t.model = lower(r.string(v, "temperature_sensor.model"));
        if (t.model != "stts751" && t.model != "tmp102")
            r.fail("temperature_sensor.model",
                   "expected stts751 or tmp102, got '" + v.Scalar() + "'", v);
    }
    return t;
}

// Rules across fields: which chip supports which link, radios, gain entries and options.
void check_consistency(const Reader& r, const BoardProfile& p)
{
    if (p.chip == Chip::sx1301 && p.com_type != ComType::spi)
        r.fail("com_type", "chip sx1301 (lora_gateway) supports only spi");
    if (p.chip == Chip::picogw && p.com_type != ComType::usb)
        r.fail("com_type", "chip picogw (picoGW_hal) supports only usb");
    if (p.chip != Chip::sx1302 && p.full_duplex)
        r.fail("full_duplex", "only chip sx1302 supports full_duplex");
    if (p.chip != Chip::sx1302 && p.clksrc > 1)
        r.fail("clksrc", "expected 0 or 1");
    if (p.chip != Chip::sx1302 && p.sx1261)
        r.fail("sx1261", std::string("chip ") + to_string(p.chip) + " has no SX1261 support");
    if (p.com_type == ComType::usb && p.reset)
        r.fail("reset", "a USB board is reset by its MCU: expected none");
    if (p.com_type == ComType::spi && p.temperature_sensor.kind == TemperatureSensorKind::mcu)
        r.fail("temperature_sensor", "mcu is only valid for USB boards");
    if (p.com_type == ComType::usb && p.temperature_sensor.kind == TemperatureSensorKind::i2c)
        r.fail("temperature_sensor", "a USB board has no host I2C sensor: expected mcu or none");
    if (p.reset && p.reset->sx1261_reset_line && !p.sx1261 && p.chip != Chip::sx1302)
        r.fail("reset.sx1261_reset_line", "the chip has no SX1261");

    bool any_tx = false;
    std::optional<RadioType> tx_type;
    for (std::size_t i = 0; i < p.radios.size(); ++i) {
        const Radio& radio = p.radios[i];
        const std::string key = index_key("radios", i);
        if (radio.type == RadioType::sx1250 && p.chip != Chip::sx1302)
            r.fail(join_key(key, "type"),
                   std::string("SX1250 is not supported by chip ") + to_string(p.chip));
        if (radio.type != RadioType::sx1250 && p.chip == Chip::sx1302 && p.com_type == ComType::usb)
            r.fail(join_key(key, "type"), "sx1302 over USB supports only SX1250 radios");
        if (radio.rssi_tcomp && p.chip != Chip::sx1302)
            r.fail(join_key(key, "rssi_tcomp"),
                   std::string("not supported by chip ") + to_string(p.chip));
        if (radio.tx_notch_freq && p.chip != Chip::sx1301)
            r.fail(join_key(key, "tx_notch_freq"), "only chip sx1301 has a TX notch filter");
        if (radio.tx_enable) {
            any_tx = true;
            if (!tx_type)
                tx_type = radio.type;
        }
    }
    if (!any_tx)
        r.fail("radios", "no radio has tx_enable: true");

    const bool sx1250_gains = tx_type == RadioType::sx1250;
    for (std::size_t i = 0; i < p.tx_gain_lut.size(); ++i) {
        const TxGain& g = p.tx_gain_lut[i];
        const std::string key = index_key("tx_gain_lut", i);
        if (sx1250_gains) {
            if (!g.pwr_idx)
                r.fail(join_key(key, "pwr_idx"), "missing required key (SX1250 gain entry)");
            if (g.dig_gain || g.dac_gain || g.mix_gain)
                r.fail(key, "an SX1250 gain entry takes rf_power, pa_gain, pwr_idx only");
            if (g.pa_gain > 1)
                r.fail(join_key(key, "pa_gain"), "expected 0..1 for SX1250");
        } else {
            if (!g.mix_gain)
                r.fail(join_key(key, "mix_gain"), "missing required key (SX125x gain entry)");
            if (g.pwr_idx)
                r.fail(join_key(key, "pwr_idx"), "only SX1250 gain entries take pwr_idx");
        }
        if (i > 0 && g.rf_power < p.tx_gain_lut[i - 1].rf_power)
            r.fail(join_key(key, "rf_power"), "entries must be sorted by rf_power (ascending)");
    }
}

std::string stem_of(const std::string& path)
{
    return fs::path(path).stem().string();
}

// Splits "radios[0].rssi_offset" into {"radios", "0", "rssi_offset"}.
std::vector<std::string> split_key(const std::string& key)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : key) {
        if (c == '.' || c == '[' || c == ']') {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

YAML::Node merge_node(const YAML::Node& base, const YAML::Node& over, const std::string& path,
                      const Reader& r);

YAML::Node merge_entry(YAML::Node result, const std::string& key, const YAML::Node& value,
                       const std::string& path, const Reader& r)
{
    std::vector<std::string> parts = split_key(key);
    if (parts.empty())
        r.fail(path, "empty key in overrides");
    YAML::Node nested = value;
    for (std::size_t i = parts.size(); i-- > 1;) {
        YAML::Node m(YAML::NodeType::Map);
        m[parts[i]] = nested;
        nested = m;
    }
    const std::string sub = join_key(path, parts[0]);
    YAML::Node existing = result[parts[0]];
    result[parts[0]] = merge_node(existing.IsDefined() ? existing : YAML::Node(), nested, sub, r);
    return result;
}

YAML::Node merge_node(const YAML::Node& base, const YAML::Node& over, const std::string& path,
                      const Reader& r)
{
    if (over.IsMap() && base.IsMap()) {
        YAML::Node result = YAML::Clone(base);
        for (const auto& kv : over)
            result = merge_entry(result, kv.first.Scalar(), kv.second, path, r);
        return result;
    }
    if (over.IsMap() && base.IsSequence()) {
        // Element-wise merge by index: radios: {0: {rssi_offset: -210}}.
        YAML::Node result = YAML::Clone(base);
        for (const auto& kv : over) {
            const std::string& k = kv.first.Scalar();
            std::size_t index = 0;
            auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), index);
            if (k.empty() || ec != std::errc() || ptr != k.data() + k.size())
                r.fail(join_key(path, k), "expected a list index", kv.first);
            if (index >= base.size())
                r.fail(index_key(path, index),
                       "index out of range (" + std::to_string(base.size()) + " entries)",
                       kv.first);
            result[index] = merge_node(base[index], kv.second, index_key(path, index), r);
        }
        return result;
    }
    return YAML::Clone(over);
}

} // namespace

const char* to_string(Chip chip)
{
    switch (chip) {
    case Chip::sx1302:
        return "sx1302";
    case Chip::sx1301:
        return "sx1301";
    case Chip::picogw:
        return "picogw";
    }
    return "?";
}

const char* to_string(ComType com_type)
{
    return com_type == ComType::spi ? "spi" : "usb";
}

const char* to_string(RadioType type)
{
    switch (type) {
    case RadioType::sx1250:
        return "SX1250";
    case RadioType::sx1257:
        return "SX1257";
    case RadioType::sx1255:
        return "SX1255";
    }
    return "?";
}

BoardProfile parse_board(const YAML::Node& doc, const std::string& source, const std::string& name)
{
    Reader r(source);
    if (!doc.IsMap())
        r.fail("", "expected a map of board settings", doc);
    r.check_keys(doc, "",
                 {"description", "chip", "com_type", "com_path", "clksrc", "full_duplex", "radios",
                  "tx_gain_lut", "reset", "temperature_sensor", "sx1261", "sx1261_spi_path",
                  "gnss"});
    BoardProfile p;
    p.name = name;
    p.source = source;
    p.description = r.string(r.required(doc, "", "description"), "description");
    p.chip = parse_chip(r, r.required(doc, "", "chip"));
    p.com_type = parse_com_type(r, r.required(doc, "", "com_type"));
    p.com_path = r.device_path(r.required(doc, "", "com_path"), "com_path");
    p.clksrc = static_cast<int>(r.integer(r.required(doc, "", "clksrc"), "clksrc", 0, 1));
    if (YAML::Node v = doc["full_duplex"]; v.IsDefined())
        p.full_duplex = r.boolean(v, "full_duplex");

    YAML::Node radios = r.required(doc, "", "radios");
    if (!radios.IsSequence() || radios.size() != 2)
        r.fail("radios", "expected a list of exactly 2 radios", radios);
    for (std::size_t i = 0; i < radios.size(); ++i)
        p.radios.push_back(parse_radio(r, radios[i], index_key("radios", i)));

    YAML::Node lut = r.required(doc, "", "tx_gain_lut");
    if (!lut.IsSequence() || lut.size() < 1 || lut.size() > 16)
        r.fail("tx_gain_lut", "expected a list of 1..16 gain entries", lut);
    for (std::size_t i = 0; i < lut.size(); ++i)
        p.tx_gain_lut.push_back(parse_gain(r, lut[i], index_key("tx_gain_lut", i)));

    YAML::Node reset = r.required(doc, "", "reset");
    if (!Reader::is_none(reset))
        p.reset = parse_reset(r, reset);
    if (YAML::Node v = doc["temperature_sensor"]; v.IsDefined())
        p.temperature_sensor = parse_sensor(r, v);
    if (YAML::Node v = doc["sx1261"]; v.IsDefined())
        p.sx1261 = r.boolean(v, "sx1261");
    if (YAML::Node v = doc["sx1261_spi_path"]; v.IsDefined()) {
        p.sx1261_spi_path = r.device_path(v, "sx1261_spi_path");
        if (p.com_type == ComType::usb)
            r.fail("sx1261_spi_path", "a USB board reaches its SX1261 through the MCU", v);
    } else if (p.sx1261 && p.com_type == ComType::spi) {
        p.sx1261_spi_path = "/dev/spidev0.1";
    }
    if (YAML::Node v = doc["gnss"]; v.IsDefined() && !Reader::is_none(v)) {
        r.expect_map(v, "gnss");
        r.check_keys(v, "gnss", {"device"});
        p.gnss = Gnss{r.device_path(r.required(v, "gnss", "device"), "gnss.device")};
    }
    check_consistency(r, p);
    return p;
}

YAML::Node to_yaml(const BoardProfile& p)
{
    YAML::Node doc(YAML::NodeType::Map);
    doc["description"] = p.description;
    doc["chip"] = to_string(p.chip);
    doc["com_type"] = to_string(p.com_type);
    doc["com_path"] = p.com_path;
    doc["clksrc"] = p.clksrc;
    doc["full_duplex"] = p.full_duplex;
    YAML::Node radios(YAML::NodeType::Sequence);
    for (const Radio& radio : p.radios) {
        YAML::Node n(YAML::NodeType::Map);
        n["type"] = to_string(radio.type);
        n["rssi_offset"] = radio.rssi_offset;
        if (radio.rssi_tcomp) {
            YAML::Node t(YAML::NodeType::Map);
            t["coeff_a"] = radio.rssi_tcomp->coeff_a;
            t["coeff_b"] = radio.rssi_tcomp->coeff_b;
            t["coeff_c"] = radio.rssi_tcomp->coeff_c;
            t["coeff_d"] = radio.rssi_tcomp->coeff_d;
            t["coeff_e"] = radio.rssi_tcomp->coeff_e;
            n["rssi_tcomp"] = t;
        }
        n["tx_enable"] = radio.tx_enable;
        if (radio.tx_notch_freq)
            n["tx_notch_freq"] = *radio.tx_notch_freq;
        radios.push_back(n);
    }
    doc["radios"] = radios;
    YAML::Node lut(YAML::NodeType::Sequence);
    for (const TxGain& g : p.tx_gain_lut) {
        YAML::Node n(YAML::NodeType::Map);
        n["rf_power"] = g.rf_power;
        n["pa_gain"] = g.pa_gain;
        if (g.pwr_idx)
            n["pwr_idx"] = *g.pwr_idx;
        if (g.dig_gain)
            n["dig_gain"] = *g.dig_gain;
        if (g.dac_gain)
            n["dac_gain"] = *g.dac_gain;
        if (g.mix_gain)
            n["mix_gain"] = *g.mix_gain;
        lut.push_back(n);
    }
    doc["tx_gain_lut"] = lut;
    if (p.reset) {
        YAML::Node n(YAML::NodeType::Map);
        n["chip"] = p.reset->chip;
        n["line"] = p.reset->line;
        n["active"] = p.reset->active_high ? "high" : "low";
        if (p.reset->power_enable_line)
            n["power_enable_line"] = *p.reset->power_enable_line;
        if (p.reset->sx1261_reset_line)
            n["sx1261_reset_line"] = *p.reset->sx1261_reset_line;
        doc["reset"] = n;
    } else {
        doc["reset"] = "none";
    }
    switch (p.temperature_sensor.kind) {
    case TemperatureSensorKind::none:
        doc["temperature_sensor"] = "none";
        break;
    case TemperatureSensorKind::mcu:
        doc["temperature_sensor"] = "mcu";
        break;
    case TemperatureSensorKind::i2c: {
        YAML::Node n(YAML::NodeType::Map);
        n["i2c_path"] = p.temperature_sensor.i2c_path;
        n["i2c_address"] = p.temperature_sensor.i2c_address;
        n["model"] = p.temperature_sensor.model;
        doc["temperature_sensor"] = n;
        break;
    }
    }
    doc["sx1261"] = p.sx1261;
    if (!p.sx1261_spi_path.empty())
        doc["sx1261_spi_path"] = p.sx1261_spi_path;
    if (p.gnss) {
        YAML::Node n(YAML::NodeType::Map);
        n["device"] = p.gnss->device;
        doc["gnss"] = n;
    } else {
        doc["gnss"] = "none";
    }
    return doc;
}

std::vector<std::string> known_boards(const std::vector<std::string>& search_dirs)
{
    std::set<std::string> names;
    for (const std::string& dir : search_dirs) {
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".yaml")
                names.insert(it->path().stem().string());
        }
    }
    return {names.begin(), names.end()};
}

BoardProfile load_board(const std::string& name_or_path,
                        const std::vector<std::string>& search_dirs)
{
    const bool is_path =
        name_or_path.find('/') != std::string::npos ||
        (name_or_path.size() > 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".yaml") == 0);
    std::string path;
    if (is_path) {
        std::error_code ec;
        if (!fs::is_regular_file(name_or_path, ec))
            throw BoardNotFoundError("board file '" + name_or_path + "': no such file");
        path = name_or_path;
    } else {
        if (name_or_path.empty())
            throw BoardNotFoundError("board: empty board name");
        for (const std::string& dir : search_dirs) {
            std::error_code ec;
            const std::string candidate = (fs::path(dir) / (name_or_path + ".yaml")).string();
            if (fs::is_regular_file(candidate, ec)) {
                path = candidate;
                break;
            }
        }
        if (path.empty()) {
            std::string dirs;
            for (const std::string& d : search_dirs)
                dirs += (dirs.empty() ? "" : ", ") + d;
            std::string known;
            for (const std::string& k : known_boards(search_dirs))
                known += (known.empty() ? "" : ", ") + k;
            throw BoardNotFoundError(
                "board '" + name_or_path + "': no such profile in " +
                (dirs.empty() ? std::string("(no search directories)") : dirs) +
                " (known: " + (known.empty() ? std::string("none") : known) + ")");
        }
    }
    YAML::Node doc;
    try {
        doc = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw BoardNotFoundError(path + ": cannot read the file");
    } catch (const YAML::Exception& e) {
        throw BoardValidationError(
            path, "", "invalid YAML: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")");
    }
    return parse_board(doc, path, stem_of(path));
}

BoardProfile merge_overrides(BoardProfile base, const YAML::Node& overrides)
{
    const std::string source = "board '" + base.name + "' (" + base.source + " + overrides)";
    Reader r(source);
    if (!overrides.IsDefined() || overrides.IsNull())
        return base;
    if (!overrides.IsMap())
        r.fail("", "expected a map of board settings to override", overrides);
    YAML::Node merged = merge_node(to_yaml(base), overrides, "", r);
    BoardProfile result = parse_board(merged, source, base.name);
    return result;
}

} // namespace forwarder::boards
