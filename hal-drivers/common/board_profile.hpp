// Board profiles: per-board facts (host link, radios, RSSI calibration, TX gain table, GPIO
// reset lines, temperature sensor, SX1261, GNSS) as YAML data in config/boards/*.yaml, loaded
// and validated here for the concentrator drivers. Depends only on yaml-cpp and the standard
// library. The schema is documented in docs/hardware.md.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace forwarder::boards {

// Every error thrown by this module. what() is one line naming the file (or "board 'x'
// overrides") and the key.
class BoardError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A bare board name that matches no <dir>/<name>.yaml, or a path that cannot be read.
class BoardNotFoundError : public BoardError {
public:
    using BoardError::BoardError;
};

// A profile (or an override) that is not valid YAML, has an unknown key, a wrong type, a
// missing required field or an inconsistent value.
class BoardValidationError : public BoardError {
public:
    BoardValidationError(std::string source, std::string key, const std::string& message)
        : BoardError(source + ": " + (key.empty() ? std::string() : key + ": ") + message),
          source_(std::move(source)), key_(std::move(key))
    {
    }
    const std::string& source() const noexcept { return source_; }
    // The offending key as a path, e.g. "reset.line" or "radios[0].rssi_offset".
    const std::string& key() const noexcept { return key_; }

private:
    std::string source_;
    std::string key_;
};

enum class Chip { sx1302, sx1301, picogw };
enum class ComType { spi, usb };
enum class RadioType { sx1250, sx1257, sx1255 };
enum class TemperatureSensorKind { none, mcu, i2c };

struct RssiTcomp {
    double coeff_a = 0, coeff_b = 0, coeff_c = 0, coeff_d = 0, coeff_e = 0;
    bool operator==(const RssiTcomp&) const = default;
};

struct Radio {
    RadioType type = RadioType::sx1250;
    double rssi_offset = 0;
    std::optional<RssiTcomp> rssi_tcomp; // sx1302 only
    bool tx_enable = false;
    std::optional<std::uint32_t> tx_notch_freq; // Hz, sx1301 only
    bool operator==(const Radio&) const = default;
};

// One TX gain table entry. SX1250 radios use pa_gain + pwr_idx; SX125x radios (SX1301,
// picoGW, SX1302 with SX125x) use pa_gain + dig_gain + dac_gain + mix_gain.
struct TxGain {
    int rf_power = 0; // dBm
    int pa_gain = 0;
    std::optional<int> pwr_idx;
    std::optional<int> dig_gain;
    std::optional<int> dac_gain;
    std::optional<int> mix_gain;
    bool operator==(const TxGain&) const = default;
};

struct Reset {
    std::string chip = "/dev/gpiochip0";
    unsigned line = 0;
    bool active_high = true;
    std::optional<unsigned> power_enable_line;
    std::optional<unsigned> sx1261_reset_line;
    bool operator==(const Reset&) const = default;
};

struct TemperatureSensor {
    TemperatureSensorKind kind = TemperatureSensorKind::none;
    std::string i2c_path = "/dev/i2c-1"; // i2c only
    unsigned i2c_address = 0;            // i2c only
    std::string model = "stts751";       // i2c only: stts751 | tmp102
    bool operator==(const TemperatureSensor&) const = default;
};

struct Gnss {
    std::string device;
    bool operator==(const Gnss&) const = default;
};

struct BoardProfile {
    std::string name;   // file stem, e.g. "rak2287"
    std::string source; // file the profile came from (plus " + overrides" after a merge)
    std::string description;
    Chip chip = Chip::sx1302;
    ComType com_type = ComType::spi;
    std::string com_path;
    int clksrc = 0;
    bool full_duplex = false;
    std::vector<Radio> radios;       // exactly 2
    std::vector<TxGain> tx_gain_lut; // 1..16 entries, rf_power non-decreasing
    std::optional<Reset> reset;      // none: USB (MCU) or no host-controlled reset
    TemperatureSensor temperature_sensor;
    bool sx1261 = false;
    std::string sx1261_spi_path; // SPI boards with sx1261: default /dev/spidev0.1
    std::optional<Gnss> gnss;
    bool operator==(const BoardProfile&) const = default;
};

// A bare name ("rak2287") is looked up as <dir>/<name>.yaml in search_dirs, in order; a value
// containing '/' or ending in ".yaml" is used as a path directly. Throws BoardNotFoundError
// (listing the known profiles) or BoardValidationError.
BoardProfile load_board(const std::string& name_or_path,
                        const std::vector<std::string>& search_dirs);

// Parses and validates one profile document. `source` names it in errors.
BoardProfile parse_board(const YAML::Node& document, const std::string& source,
                         const std::string& name = {});

// Applies an operator's overrides (a map; nested maps merge, sequences and scalars replace;
// `radios` also accepts a map keyed by index, e.g. {0: {rssi_offset: -210}}; keys may be
// dotted paths such as "reset.line" or "radios[0].rssi_offset") and re-validates the result.
BoardProfile merge_overrides(BoardProfile base, const YAML::Node& overrides);

// The profile as a YAML document in the file schema (round-trips through parse_board).
YAML::Node to_yaml(const BoardProfile& profile);

// Stems of every *.yaml in search_dirs, sorted and deduplicated.
std::vector<std::string> known_boards(const std::vector<std::string>& search_dirs);

const char* to_string(Chip chip);
const char* to_string(ComType com_type);
const char* to_string(RadioType type);

} // namespace forwarder::boards
