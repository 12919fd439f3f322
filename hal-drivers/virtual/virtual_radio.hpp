// The virtual radio plugin (forwarder-virtual.so): a radio without hardware.
// Uplinks are injected as rxpk JSON datagrams over UDP; transmitted frames are appended
// to a JSON-lines file. Busy channels for listen before talk are injected as busy JSON
// datagrams on the same socket; PPS edges can be simulated on host-UTC seconds.
// See README.md in this directory.
#ifndef FORWARDER_VIRTUAL_RADIO_VIRTUAL_RADIO_HPP
#define FORWARDER_VIRTUAL_RADIO_VIRTUAL_RADIO_HPP

#include "rxpk_codec.hpp"

#include <forwarder/plugin.hpp>

#include "forwarder.pb.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace forwarder::virtual_radio {

// The options table the plugin declares to the host (NULL-terminated).
extern const fwd_option kOptions[];

// A UDP address to listen on, as written ("127.0.0.1:1780", "[::1]:1780") and resolved.
struct Endpoint {
    std::string text;
    sockaddr_storage address{};
    socklen_t address_length = 0;
    uint16_t port = 0;
};

// The validated `options:` of one instance.
struct Options {
    std::optional<Endpoint> uplink_udp; // absent: no UDP listener
    std::string tx_log;                 // empty: no tx_log
    uint32_t counter_start_us = 0;
    std::optional<uint64_t> eui;
    uint32_t lead_time_us = 5000;
    bool pps = false;                    // last_pps() reports edges on host-UTC second boundaries
    uint32_t lbt_scan_us = 5000;         // listen window of channel_clear(), 128..5000 us
    std::optional<double> temperature_c; // reported as the temperature_mc gauge
};

// Parses and validates the YAML text of `options:` (may be empty or "{}"). Opens nothing.
// Throws sdk::Error("<option>: <what is wrong, what was expected>").
Options parse_options(const std::string& yaml);

// Parses "A.B.C.D:PORT", "[IPv6]:PORT" or "localhost:PORT". Throws sdk::Error naming
// `option`.
Endpoint parse_endpoint(const std::string& option, const std::string& text);

class VirtualRadio final : public sdk::RadioPlugin {
public:
    static constexpr uint32_t kRadioCapabilities = FWD_RADIO_CAP_LBT | FWD_RADIO_CAP_PPS;
    // At most this many busy windows are kept; beyond it, those ending first are dropped.
    static constexpr size_t kMaxBusyWindows = 256;
    // Busy windows that ended this long ago are dropped.
    static constexpr uint64_t kBusyRetentionUs = 60000000;

    VirtualRadio(sdk::Host host, const fwd_create_info_v1& info, const std::string& options_yaml);
    ~VirtualRadio() override;
    VirtualRadio(const VirtualRadio&) = delete;
    VirtualRadio& operator=(const VirtualRadio&) = delete;

    static void check(const std::string& options_yaml);

    void start() override;
    void stop() override;
    void deliver(uint32_t topic, std::string_view bytes) override;

    uint32_t lead_time_us() override { return options_.lead_time_us; }
    uint32_t counter_now() override { return counter_at(host_.monotonic_us()); }
    void transmit(std::string_view tx_request, uint32_t count_us) override;
    // Listen before talk: false (busy) if an injected busy window within bandwidth_hz / 2 of
    // frequency_hz overlaps the listen window [count_us - lbt_scan_us, count_us).
    bool channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz, uint32_t count_us,
                       uint32_t airtime_us) override;
    // With `pps: true`: the most recent host-UTC whole second, as host monotonic time and
    // counter value. False without `pps`.
    bool last_pps(uint32_t& count_us, uint64_t& edge_mono_us) override;

    // Applies the busy windows of one datagram read at host time `now_mono_us` (counter
    // values are taken as the nearest to the counter at that time): an empty list clears all
    // windows, a non-empty one adds to them. Called by the receive thread; public for tests.
    void apply_busy(const std::vector<BusyWindow>& windows, uint64_t now_mono_us);
    // How many busy windows are kept right now.
    size_t busy_window_count() const;

    // The counter value at a given host monotonic time.
    uint32_t counter_at(uint64_t monotonic_us) const
    {
        return static_cast<uint32_t>(monotonic_us - created_mono_us_ + options_.counter_start_us);
    }
    const Options& options() const { return options_; }
    // The last RadioConfig addressed to this radio, if any.
    std::optional<v1::RadioConfig> radio_config() const;

private:
    void open_socket();
    void receive_loop();
    void handle_datagram(std::string_view datagram, const sockaddr_storage& from);
    void warn_malformed(uint64_t now_us, const sockaddr_storage& from, const std::string& reason);
    void close_all();
    // Extends a counter value to host monotonic time: the one nearest to `now_mono_us`.
    int64_t counter_to_mono(uint32_t count_us, uint64_t now_mono_us) const;
    // Drops busy windows that ended long ago, and the earliest ending ones beyond the limit.
    // Returns how many were dropped. Needs busy_mutex_.
    size_t prune_busy(uint64_t now_mono_us);

    sdk::Host host_;
    std::string instance_;
    uint32_t radio_ = 0;
    Options options_;
    uint64_t created_mono_us_ = 0;

    int socket_ = -1;
    int wake_fd_ = -1; // eventfd that wakes the receive thread to stop
    int tx_log_fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stopping_{false};

    std::mutex tx_mutex_; // serializes tx_log writes

    mutable std::mutex config_mutex_;
    std::optional<v1::RadioConfig> config_;

    // Injected busy windows, in host monotonic time (µs; may be negative for windows before
    // the host clock's zero).
    struct BusyEntry {
        uint64_t frequency_hz = 0;
        int64_t from_mono_us = 0; // inclusive
        int64_t to_mono_us = 0;   // exclusive
        uint32_t from_us = 0;     // as injected, for messages
        uint32_t to_us = 0;
    };
    mutable std::mutex busy_mutex_;
    std::vector<BusyEntry> busy_;

    // Receive-thread state, reused across datagrams.
    RxpkDecoder decoder_;
    std::vector<v1::Uplink> uplinks_;
    BusyUpdate busy_update_;
    std::string serialized_;
    std::string error_;
    bool warned_ = false;
    uint64_t last_warn_us_ = 0;
    uint64_t suppressed_warnings_ = 0;
};

} // namespace forwarder::virtual_radio

#endif // FORWARDER_VIRTUAL_RADIO_VIRTUAL_RADIO_HPP
