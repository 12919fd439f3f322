// `forwarder --radio-worker FD`: one radio driver in a process of its own. The daemon
// (RadioWorker) speaks radio_worker_protocol.hpp over the SOCK_SEQPACKET socket FD; this
// side loads the plugin with the ordinary loader and forwards its host services back.
#include "clock.hpp"
#include "plugin_loader.hpp"
#include "radio_worker.hpp"
#include "radio_worker_protocol.hpp"

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace forwarder::core {

namespace {

using namespace worker;

constexpr size_t kErrorSize = 512;

struct Worker {
    int fd = -1;
    std::mutex send_mutex;
    std::shared_ptr<LoadedPlugin> plugin;
    void* self = nullptr;
    bool started = false;

    // deliver() runs on its own thread, as in the daemon, so radio calls do not wait for it.
    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<std::pair<uint32_t, std::string>> queue;
    bool delivering = false;
    std::thread deliver_thread;

    void send(const std::string& message)
    {
        std::lock_guard lock(send_mutex);
        ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    }

    void deliver_loop()
    {
        std::unique_lock lock(queue_mutex);
        while (true) {
            queue_cv.wait(lock, [&] { return !queue.empty() || !delivering; });
            if (queue.empty()) {
                return;
            }
            auto [topic, bytes] = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            if (plugin->descriptor->deliver != nullptr) {
                plugin->descriptor->deliver(self, topic, bytes.data(), bytes.size());
            }
            lock.lock();
        }
    }

    void stop_delivering()
    {
        {
            std::lock_guard lock(queue_mutex);
            delivering = false;
        }
        queue_cv.notify_all();
        if (deliver_thread.joinable()) {
            deliver_thread.join();
        }
    }

    void stop()
    {
        if (started) {
            started = false;
            stop_delivering();
            plugin->descriptor->stop(self);
        }
    }
};

Worker g_worker;
fwd_host g_host{nullptr};

int api_publish(fwd_host*, uint32_t topic, const void* data, size_t len)
{
    g_worker.send(Writer(PUBLISH, 0).u32(topic).str({static_cast<const char*>(data), len}).bytes());
    return FWD_OK;
}

void api_log(fwd_host*, int level, const char* message)
{
    g_worker.send(Writer(LOG, 0)
                      .u32(static_cast<uint32_t>(level))
                      .str(message != nullptr ? message : "")
                      .bytes());
}

uint64_t api_monotonic_us(fwd_host*)
{
    return monotonic_us();
}

void api_stat_add(fwd_host*, const char* name, int64_t delta)
{
    g_worker.send(Writer(STAT_ADD, 0).str(name).i64(delta).bytes());
}

void api_stat_set(fwd_host*, const char* name, int64_t value)
{
    g_worker.send(Writer(STAT_SET, 0).str(name).i64(value).bytes());
}

const fwd_host_api_v1 kWorkerApi{sizeof(fwd_host_api_v1), api_publish,  api_log,
                                 api_monotonic_us,        api_stat_add, api_stat_set};

Reply handle_init(Reader& in)
{
    Reply r;
    const std::string dir = in.str();
    const std::string plugin = in.str();
    static std::string instance; // the create info's strings outlive the instance
    instance = in.str();
    const auto radio_index = static_cast<int32_t>(in.u32());
    const uint64_t eui = in.u64();
    static std::string config_path;
    config_path = in.str();
    const std::string yaml = in.str();
    if (g_worker.self != nullptr) {
        r.text = "already initialised";
        return r;
    }
    try {
        g_worker.plugin = load_plugin(dir, plugin);
    } catch (const LoadError& e) {
        r.text = e.what();
        return r;
    }
    const auto& d = *g_worker.plugin->descriptor;
    if (d.kind != FWD_KIND_RADIO) {
        r.text = g_worker.plugin->path + ": is not a radio plugin";
        return r;
    }
    fwd_create_info_v1 info{sizeof(fwd_create_info_v1), instance.c_str(), radio_index, eui,
                            config_path.c_str()};
    char err[kErrorSize] = {0};
    g_worker.self = d.create(&g_host, &kWorkerApi, &info, yaml.c_str(), err, sizeof err);
    if (g_worker.self == nullptr) {
        r.text = err[0] ? err : "create failed (no reason given)";
        return r;
    }
    r.rc = FWD_OK;
    r.v1 = g_worker.plugin->abi_version;
    r.v2 = g_worker.plugin->radio_capabilities;
    r.v3 = d.lead_time_us(g_worker.self);
    return r;
}

Reply handle(uint32_t type, Reader& in)
{
    Reply r;
    if (type == INIT) {
        return handle_init(in);
    }
    if (g_worker.self == nullptr) {
        r.text = "radio worker not initialised";
        return r;
    }
    const auto& p = *g_worker.plugin;
    const auto& d = *p.descriptor;
    char err[kErrorSize] = {0};
    switch (type) {
    case START:
        if (g_worker.started) {
            r.rc = FWD_OK;
            break;
        }
        r.rc = d.start(g_worker.self, err, sizeof err) == FWD_OK ? FWD_OK : FWD_ERROR;
        if (r.rc != FWD_OK) {
            r.text = err[0] ? err : "start failed (no reason given)";
            break;
        }
        g_worker.started = true;
        g_worker.delivering = true;
        g_worker.deliver_thread = std::thread([] { g_worker.deliver_loop(); });
        r.v3 = d.lead_time_us(g_worker.self);
        break;
    case STOP:
        g_worker.stop();
        r.rc = FWD_OK;
        break;
    case COUNTER_NOW:
        r.rc = d.counter_now(g_worker.self, &r.v1) == FWD_OK ? FWD_OK : FWD_ERROR;
        break;
    case TRANSMIT: {
        const uint32_t count_us = in.u32();
        const std::string bytes = in.str();
        r.rc = d.transmit(g_worker.self, bytes.data(), bytes.size(), count_us, err, sizeof err);
        r.text = err;
        break;
    }
    case CHANNEL_CLEAR: {
        const uint64_t frequency_hz = in.u64();
        const uint32_t bandwidth_hz = in.u32();
        const uint32_t count_us = in.u32();
        const uint32_t airtime_us = in.u32();
        r.rc = p.channel_clear == nullptr ? FWD_OK
                                          : p.channel_clear(g_worker.self, frequency_hz,
                                                            bandwidth_hz, count_us, airtime_us);
        break;
    }
    case LAST_PPS:
        r.rc = p.last_pps == nullptr ? FWD_ERROR : p.last_pps(g_worker.self, &r.v1, &r.v3);
        break;
    default:
        r.text = "unknown request " + std::to_string(type);
        break;
    }
    return r;
}

} // namespace

int radio_worker_main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "forwarder: --radio-worker is for the daemon's own use\n");
        return 2;
    }
    // The daemon stops its workers with STOP; a terminal's Ctrl-C must not kill them first.
    // The daemon stops its workers itself (and a worker ends when the daemon dies): a SIGTERM
    // to the whole service (systemd's default KillMode) must not look like a crash.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);
    // The driver's chatter goes to a pipe the daemon logs line by line: flush per line.
    setvbuf(stdout, nullptr, _IOLBF, 0);
    g_worker.fd = std::atoi(argv[2]);
    std::string buffer(kMaxMessage, '\0');
    while (true) {
        const ssize_t n = recv(g_worker.fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // the daemon closed the socket (or died): stop and leave
        }
        Reader in(buffer.data(), static_cast<size_t>(n));
        const uint32_t type = in.u32();
        const uint32_t id = in.u32();
        if (type == DELIVER) {
            const uint32_t topic = in.u32();
            std::string bytes = in.str();
            if (g_worker.started) {
                {
                    std::lock_guard lock(g_worker.queue_mutex);
                    g_worker.queue.emplace_back(topic, std::move(bytes));
                }
                g_worker.queue_cv.notify_one();
            }
            continue;
        }
        g_worker.send(reply_message(id, handle(type, in)));
    }
    g_worker.stop();
    if (g_worker.self != nullptr) {
        g_worker.plugin->descriptor->destroy(g_worker.self);
        g_worker.self = nullptr;
    }
    std::fflush(nullptr);
    // Plugins stay loaded until exit; skip static destructors a driver may not expect to run.
    std::_Exit(0);
}

} // namespace forwarder::core
