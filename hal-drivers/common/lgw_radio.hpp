// A concentrator radio plugin over one of Semtech's libloragw HALs (forwarder-sx1302.so,
// later forwarder-sx1301.so and forwarder-picogw.so): the same C++ code is compiled into each
// driver, which links its own HAL and its own C glue (lgw_glue.h). No HAL type is seen here.
#ifndef FORWARDER_LGW_RADIO_HPP
#define FORWARDER_LGW_RADIO_HPP

#include "gpio_reset.hpp"
#include "lgw_glue.h"

#include <forwarder/plugin.hpp>

#include "forwarder.pb.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace forwarder::lgw {

extern const fwd_option kOptions[];

struct Radio {
    int type = FWD_RADIO_SX1250;
    float rssi_offset = -215.4f; // SX1250 reference value
    float tcomp[5] = {0, 0, 20.41f, 2162.56f, 0};
    bool tx_enable = false;
    bool single_input_mode = false;
    uint32_t tx_notch_freq = 0; // Hz, SX1301 only; 0 = the HAL's default
};

struct Gain {
    int8_t rf_power = 0;
    uint8_t pa_gain = 0, pwr_idx = 0, dig_gain = 0, dac_gain = 0, mix_gain = 0;
};

// The validated `options:` of one instance.
struct Options {
    std::string board; // the profile the hardware options came from, if any
    std::string reset_command;
    std::optional<ResetLines> reset; // GPIO reset before each start
    bool usb = false;
    std::string com_path = "/dev/spidev0.0";
    uint8_t clksrc = 0;
    bool full_duplex = false;
    Radio radios[2];
    std::vector<Gain> gains[2];
    uint32_t lead_time_us = 40'000;
    uint32_t poll_interval_ms = 10;
    bool fine_timestamp = false;
    uint32_t start_retry_initial_ms = 1000;
    uint32_t start_retry_max_ms = 30'000;
};

// Parses and validates the YAML text of `options:`. Throws sdk::Error("<option>: ...").
Options parse_options(const std::string& yaml);

// The HAL configuration for a channel plan: radio centre frequencies (from the plan's RF
// chains, or derived from its channels) and IF offsets. Throws sdk::Error naming the channel
// that does not fit.
fwd_lgw_config hal_config(const Options& options, const v1::RadioConfig& plan);

// The TX gain entry used for a requested power: the highest at or below it (the lowest if
// none is). nullptr for an empty table.
const Gain* gain_for(const std::vector<Gain>& table, float power_dbm);

class LgwRadio final : public sdk::RadioPlugin {
public:
    static constexpr uint32_t kRadioCapabilities = FWD_RADIO_CAP_PPS;

    LgwRadio(sdk::Host host, const fwd_create_info_v1& info, const std::string& options_yaml);
    ~LgwRadio() override;
    LgwRadio(const LgwRadio&) = delete;
    LgwRadio& operator=(const LgwRadio&) = delete;

    static void check(const std::string& options_yaml);

    void start() override;
    void stop() override;
    void deliver(uint32_t topic, std::string_view bytes) override;

    uint32_t lead_time_us() override { return options_.lead_time_us; }
    uint32_t counter_now() override;
    void transmit(std::string_view tx_request, uint32_t count_us) override;
    bool last_pps(uint32_t& count_us, uint64_t& edge_mono_us) override;

    bool running() const { return started_.load(); }

private:
    void worker();
    bool start_hal(const v1::RadioConfig& plan);
    void poll_once();

    sdk::Host host_;
    uint32_t radio_ = 0;
    Options options_;

    std::mutex hal_mutex_; // the HAL is not thread-safe: every call goes through this
    std::atomic<bool> started_{false};

    std::mutex plan_mutex_;
    std::condition_variable plan_changed_;
    std::optional<v1::RadioConfig> plan_;

    // Frames handed to the HAL, checked for emission 5 ms after their TX time.
    struct TxCheck {
        uint32_t count_us = 0;
        uint8_t rf_chain = 0;
        bool lora = true;
        int status = 0;
    };
    std::mutex tx_checks_mutex_;
    std::vector<TxCheck> tx_checks_;
    void check_emissions();
    bool plan_pending_ = false;
    bool stopping_ = false;
    bool more_ = false;                // worker thread only: the last read filled the buffer
    uint64_t temperature_read_us_ = 0; // worker thread only: last temperature reading
    std::thread thread_;
};

} // namespace forwarder::lgw

#endif
