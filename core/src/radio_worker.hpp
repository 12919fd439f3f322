#pragma once
// A radio driver in a worker process of its own: `forwarder --radio-worker FD`, spoken to
// over a SOCK_SEQPACKET socketpair (radio_worker_protocol.hpp). To the gateway it is a radio
// like any other (RadioInstance). The worker's stdout/stderr become debug log lines; a
// worker that dies is restarted with backoff (1 s doubling to 30 s, reset after 60 s up)
// and gets its INIT, START and last RadioConfig again, while the rest of the daemon runs on.
#include "plugin_host.hpp"
#include "radio_worker_protocol.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <sys/types.h>

namespace forwarder::core {

// The worker process's main (`forwarder --radio-worker FD`).
int radio_worker_main(int argc, char** argv);

class RadioWorker : public RadioInstance {
public:
    RadioWorker(std::shared_ptr<LoadedPlugin> plugin, PluginSpec spec, std::string config_file,
                int32_t radio_index, uint64_t gateway_eui, EventBus& bus, Stats& stats);
    ~RadioWorker() override;

    RadioWorker(const RadioWorker&) = delete;
    RadioWorker& operator=(const RadioWorker&) = delete;

    // The executable started as the worker (default: /proc/self/exe).
    static void set_executable(std::string path);

    void create() override;
    void start() override;
    void stop() override;
    const std::string& name() const override { return spec_.name; }
    std::string plugin_text() const override;
    void set_uplink_stamper(std::function<bool(std::string&)> stamper) override
    {
        uplink_stamper_ = std::move(stamper);
    }

    // TxRadio.
    uint32_t lead_time_us() const override { return lead_time_us_.load(); }
    bool counter_now(uint32_t& count_us) override;
    TxStatus transmit(const std::string& tx_request, uint32_t count_us,
                      std::string& error) override;
    uint32_t capabilities() const override { return capabilities_.load(); }
    TxStatus channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz, uint32_t count_us,
                           uint32_t airtime_us) override;
    bool last_pps(uint32_t& count_us, uint64_t& edge_mono_us) override;

    pid_t pid() const { return pid_.load(); }

private:
    // Starts a worker process; returns false with `error` set.
    bool spawn(std::string& error);
    // Ends the current worker: closes the socket, waits up to `grace_ms`, then SIGKILL.
    // Returns a description of how it ended ("exited with status 1", "killed by SIGABRT").
    std::string reap(int grace_ms);
    // Sends a request and reads the socket itself until its reply (before the reader runs).
    bool exchange(const std::string& message, uint32_t id, worker::Reply& reply, int timeout_ms);
    // Sends a request the reader thread answers; false on timeout or a dead worker.
    bool call_bytes(const std::string& bytes, uint32_t id, worker::Reply& reply, int timeout_ms);
    uint32_t next_id();
    // INIT (+ START when `start`) on a fresh worker; false with `error` set.
    bool handshake(bool start, std::string& error);
    // Handles one message from the worker; a REPLY to `wanted_id` fills `reply` and `matched`.
    void dispatch(const char* data, size_t len, uint32_t* wanted_id, worker::Reply* reply,
                  bool* matched);
    void io_loop();
    void chatter_loop(int fd);
    void deliver_loop();
    void fail_pending(const std::string& error);
    void publish(uint32_t topic, std::string bytes);
    std::atomic<int64_t>& counter(const std::string& name);

    std::shared_ptr<LoadedPlugin> plugin_;
    PluginSpec spec_;
    std::string config_file_;
    int32_t radio_index_;
    uint64_t gateway_eui_;
    EventBus& bus_;
    Stats& stats_;
    std::function<bool(std::string&)> uplink_stamper_;
    std::atomic<int64_t>* published_uplinks_ = nullptr;
    std::atomic<int64_t>* restarts_ = nullptr;

    std::atomic<uint32_t> lead_time_us_{0};
    std::atomic<uint32_t> capabilities_{0};
    std::atomic<pid_t> pid_{-1};
    int fd_ = -1; // the daemon's end of the socketpair (guarded by mutex_ once running)
    std::thread chatter_thread_;
    std::atomic<bool> chatter_stop_{false};
    uint64_t spawned_at_us_ = 0;

    std::mutex mutex_; // guards fd_ for senders, alive_, pending_, stopping_
    std::condition_variable cv_;
    bool alive_ = false; // a started worker answers calls
    bool stopping_ = false;
    bool created_ = false;
    bool started_ = false;
    std::map<uint32_t, std::optional<worker::Reply>> pending_;
    std::atomic<uint32_t> next_id_{1};
    std::thread io_thread_;

    std::shared_ptr<Subscription> inbox_;
    std::thread deliver_thread_;
    std::mutex configs_mutex_;
    std::map<uint32_t, std::string> radio_configs_; // the last RadioConfig per radio index

    std::mutex counters_mutex_;
    std::unordered_map<std::string, std::atomic<int64_t>*> counters_;
};

} // namespace forwarder::core
