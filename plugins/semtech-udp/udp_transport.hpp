#pragma once
// The Semtech UDP (GWMP v2) transport: uplinks as PUSH_DATA, PULL_DATA keepalives, PULL_RESP
// downlinks answered with TX_ACK (shared/spec/semtech-udp.md).
//
// Threads: the bus delivery thread (deliver) queues uplinks, turns TxResults into TX_ACKs and
// keeps the latest radio temperature; one I/O thread owns both UDP sockets (name resolution,
// PUSH_DATA/PULL_DATA, acknowledgements, PULL_RESP, stat). It is woken through an eventfd;
// other threads hand it work through queues under `mutex_`.
#include "udp_codec.hpp"

#include <forwarder/plugin.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace forwarder::udp {

struct UdpOptions {
    std::string server;
    uint16_t port_up = 1700;
    uint16_t port_down = 1700;
    uint32_t keepalive_s = 5;
    uint32_t stat_interval_s = 30; // 0 = no stat
    uint32_t push_timeout_ms = 100;
    uint32_t pull_timeout_ms = 200;
    uint32_t keepalive_misses = 3; // PULL_DATA without PULL_ACK before the path counts as down
    uint32_t radio = 0;            // downlinks that name no board and match no recent uplink
    uint32_t rate_limit = 8;       // datagrams per 10 ms (TTS allows 10); 0 = no limit
    size_t queue_max = 1000;       // uplinks kept while the server cannot be resolved
    uint32_t queue_max_age_s = 30;
    size_t max_datagram_json = 1400;
    std::optional<double> latitude, longitude;
    std::optional<int32_t> altitude_m;

    // Throws sdk::Error("<option>: ...").
    static UdpOptions parse(const std::string& yaml);
};

class UdpTransport : public sdk::Plugin {
public:
    UdpTransport(sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml);
    ~UdpTransport() override;

    static void check(const std::string& yaml) { UdpOptions::parse(yaml); }
    void start() override;
    void stop() override;
    void deliver(uint32_t topic, std::string_view bytes) override;

private:
    struct QueuedUplink {
        std::string rxpk;
        uint64_t queued_us = 0;
    };
    struct PendingTx {
        uint16_t token = 0; // of the PULL_RESP, echoed in the TX_ACK
        bool acked = false; // TX_ACK sent
        uint64_t created_us = 0;
    };
    struct PendingPush {
        uint16_t token = 0;
        uint64_t sent_us = 0;
        size_t uplinks = 0;
    };
    struct RecentUplink {
        uint32_t count_us = 0;
        uint32_t radio = 0;
        uint64_t mono_us = 0;
    };
    // What the stat object reports; reset every stat interval.
    struct Interval {
        uint32_t rxnb = 0, rxok = 0, rxfw = 0, dwnb = 0, txnb = 0;
        uint32_t pushes = 0, push_acks = 0;
    };

    void run();
    bool resolve();
    bool open_sockets();
    void close_sockets();
    bool send_uplinks(uint64_t now);
    void send_pull_data(uint64_t now);
    void send_stat(uint64_t now);
    void receive_up();
    void receive_down(uint64_t now);
    void handle_pull_resp(const Header& header, std::string_view body, uint64_t now);
    void handle_result(const forwarder::v1::TxResult& result);
    void expire(uint64_t now);
    void path_state(bool up, const std::string& why);
    bool send_datagram(int fd, const std::string& datagram, const char* what);
    bool rate_allows(uint64_t now) const;
    void wake();
    uint32_t downlink_radio(const Txpk& txpk, uint64_t now);
    std::string peer(uint16_t port) const;

    sdk::Host host_;
    std::string name_;
    uint64_t gateway_eui_ = 0;
    UdpOptions options_;

    std::thread thread_;
    std::atomic<bool> running_{false};
    int wake_fd_ = -1;

    // I/O thread only.
    int up_fd_ = -1;
    int down_fd_ = -1;
    sockaddr_storage address_{};
    socklen_t address_len_ = 0;
    std::string address_text_;
    uint64_t next_resolve_us_ = 0;
    uint32_t resolve_failures_ = 0;
    uint64_t next_pull_us_ = 0;
    uint64_t next_stat_us_ = 0;
    std::optional<std::pair<uint16_t, uint64_t>> pull_pending_; // token, sent
    uint32_t pull_misses_ = 0;
    bool path_up_ = false;
    std::deque<PendingPush> pushes_;
    std::deque<uint64_t> sent_times_; // the last datagrams' send times (rate limit)
    std::mt19937 rng_;
    std::string last_failure_;

    std::mutex mutex_; // guards everything below
    std::deque<QueuedUplink> uplinks_;
    std::deque<std::string> tx_acks_; // datagrams for the down socket
    std::map<uint64_t, PendingTx> pending_tx_;
    std::deque<RecentUplink> recent_;
    uint64_t next_tx_id_ = 1;
    Interval interval_;
    std::optional<double> temperature_c_;
};

} // namespace forwarder::udp
