#pragma once
// The LNS transport: LoRa Basics Station protocol over one websocket per gateway.
//
// Threads: the bus delivery thread (deliver) turns uplinks into queued frames, TxResults
// into dntxed messages and TimeStatus into the wish for timesync requests; one I/O thread
// owns the websocket (discovery, traffic, pings, timesync requests, reconnects) and is woken
// through an eventfd. Other threads hand it messages through `control_`.
#include "lns_codec.hpp"
#include "radio_clock.hpp"
#include "timesync.hpp"
#include "ws_connection.hpp"

#include <forwarder/plugin.hpp>

#include <yaml-cpp/yaml.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace forwarder::lns {

struct LnsOptions {
    std::string uri; // ws(s)://host:port (discovery)
    Credentials credentials;
    bool token = false; // the key file held header lines
    std::optional<uint64_t> router_eui;
    std::string station_dir;
    size_t queue_max = 10000;
    uint32_t queue_max_age_s = 3600;
    uint32_t ping_interval_s = 30;
    uint32_t connect_timeout_s = 10;
    uint32_t backoff_initial_ms = 1000;
    uint32_t backoff_max_s = 60;
    uint32_t muxs_failures_before_discovery = 3;
    uint32_t resend_window_ms = 2000;
    std::vector<std::string> runcmd_allow;
    std::string model = "linux";
    std::string features = "prod";
    bool forward_heard_downlinks = false;
    bool wait_for_credentials = false; // the LNS address comes from a bootstrap plugin (CUPS)

    // Parses and checks the plugin's options (reads credential files, opens no socket).
    // Throws sdk::Error("<option>: ...").
    static LnsOptions parse(const std::string& yaml);
    void parse_tuning(const YAML::Node& n);
};

class LnsTransport : public sdk::Plugin {
public:
    LnsTransport(sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml);
    ~LnsTransport() override;

    static void check(const std::string& yaml) { LnsOptions::parse(yaml); }
    void start() override;
    void stop() override;
    void deliver(uint32_t topic, std::string_view bytes) override;

private:
    struct PendingUplink {
        forwarder::v1::Uplink uplink;
        uint64_t xtime = 0;
        uint64_t queued_mono_us = 0;
    };
    struct PendingTx {
        Downlink downlink;
        uint32_t radio = 0;
        Window used;                       // the requested placement (TxResult.alternative 0)
        std::optional<Window> alternative; // class A: RX2 (TxResult.alternative 1)
        uint64_t created_us = 0;
    };
    class ConnectionLost : public std::runtime_error {
    public:
        using std::runtime_error::runtime_error;
    };

    // Tells stop() which socket to shut down so that no blocking call outlives it.
    class Watch : public SocketWatch {
    public:
        explicit Watch(LnsTransport& owner) : owner_(owner) {}
        bool attach(int fd) override;
        void detach() override;

    private:
        LnsTransport& owner_;
    };

    // Where to connect: configured, or delivered by a bootstrap plugin.
    struct Endpoint {
        std::string uri;
        Credentials credentials;
        uint64_t generation = 0;
    };
    Endpoint endpoint() const;
    void apply_credentials(const forwarder::v1::Credentials& c);
    void link_status(forwarder::v1::LinkStatus::State state, const std::string& detail);

    void run();
    void run_once(uint32_t& attempt, uint32_t& muxs_failures, std::optional<WsUri>& muxs);
    bool discover(WsUri& muxs);
    void traffic(const WsUri& muxs);
    void pump(WsConnection& conn);
    void handle_text(WsConnection& conn, const std::string& text, uint64_t received_us);
    void handle_downlink(const Downlink& dl);
    bool submit_tx(PendingTx pending, const forwarder::v1::TxTiming& timing,
                   const forwarder::v1::TxTiming* alternative_timing);
    void handle_result(const forwarder::v1::TxResult& result);
    void handle_time_status(const forwarder::v1::TimeStatus& status);
    void handle_timesync(const TimeSync& sync, uint64_t received_us);
    void send_timesync_requests(WsConnection& conn, uint64_t now);
    void publish_time_reference(const forwarder::v1::TimeReference& reference);
    void queue_control(std::string json);
    void wake();
    void failure(const std::string& cause);
    void sleep_backoff(uint32_t attempt);
    double ref_time(uint64_t mono_us) const;
    RadioClock& radio_clock(uint32_t radio);
    void run_command(const RunCmd& cmd);

    sdk::Host host_;
    std::string name_;
    uint64_t gateway_eui_;
    LnsOptions options_;
    std::optional<SslLibrary> ssl_;

    std::thread thread_;
    std::atomic<bool> running_{false};
    int wake_fd_ = -1;
    Watch watch_{*this};
    std::mutex fd_mutex_;
    int live_fd_ = -1;                                // the I/O thread's current socket (fd_mutex_)
    std::mt19937_64 backoff_rng_;                     // I/O thread only
    std::string last_failure_;                        // I/O thread only
    uint64_t session_started_us_ = 0;                 // I/O thread only
    TimesyncRequests timesync_;                       // I/O thread only
    std::atomic<bool> time_reference_refused_{false}; // logged once

    mutable std::mutex mutex_; // guards everything below
    std::deque<PendingUplink> uplinks_;
    std::deque<std::pair<uint64_t, PendingUplink>> recently_sent_;
    std::deque<std::string> control_;
    std::map<uint32_t, RadioClock> clocks_;
    std::optional<RouterConfig> router_config_;
    std::optional<std::pair<double, uint64_t>> mux_time_; // MuxTime, monotonic µs at receipt
    // From the core's TimeStatus: radios with PPS, and whether any of them still lacks the
    // GPS second labels (then timesync requests are sent).
    std::vector<uint32_t> pps_radios_;
    bool timesync_wanted_ = false;
    std::map<uint64_t, PendingTx> pending_tx_;
    uint64_t next_tx_id_ = 1;
    Endpoint endpoint_;
    std::atomic<bool> endpoint_changed_{false};
    uint32_t consecutive_failures_ = 0; // I/O thread only
    std::mt19937_64 session_rng_;
};

} // namespace forwarder::lns
