#include "radio_worker.hpp"

#include "clock.hpp"
#include "log.hpp"
#include "options.hpp"

#include "forwarder.pb.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace forwarder::core {

namespace {

using namespace worker;

constexpr int kInitTimeoutMs = 10'000;
constexpr int kStartTimeoutMs = 30'000;
constexpr int kCallTimeoutMs = 500;
constexpr int kStopTimeoutMs = 600;
constexpr int kReapGraceMs = 500;
constexpr uint64_t kBackoffMinMs = 1000;
constexpr uint64_t kBackoffMaxMs = 30'000;
constexpr uint64_t kStableUptimeUs = 60'000'000;
constexpr int kWorkerFd = 3;

std::string g_executable = "/proc/self/exe";

std::string describe_status(int status)
{
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* text = strsignal(sig);
        return "was killed by signal " + std::to_string(sig) + " (" + (text ? text : "?") + ")";
    }
    return "ended (status " + std::to_string(status) + ")";
}

} // namespace

void RadioWorker::set_executable(std::string path)
{
    g_executable = std::move(path);
}

RadioWorker::RadioWorker(std::shared_ptr<LoadedPlugin> plugin, PluginSpec spec,
                         std::string config_file, int32_t radio_index, uint64_t gateway_eui,
                         EventBus& bus, Stats& stats)
    : plugin_(std::move(plugin)), spec_(std::move(spec)), config_file_(std::move(config_file)),
      radio_index_(radio_index), gateway_eui_(gateway_eui), bus_(bus), stats_(stats)
{
    published_uplinks_ = &stats_.counter("core.uplinks_received");
    restarts_ = &stats_.counter(spec_.name + ".worker_restarts");
}

RadioWorker::~RadioWorker()
{
    stop();
    reap(kReapGraceMs);
}

std::string RadioWorker::plugin_text() const
{
    return std::string(plugin_->descriptor->name) + " " + plugin_->descriptor->version +
           ", worker pid " + std::to_string(pid_.load());
}

uint32_t RadioWorker::next_id()
{
    uint32_t id = next_id_.fetch_add(1);
    if (id == 0) {
        id = next_id_.fetch_add(1);
    }
    return id;
}

bool RadioWorker::spawn(std::string& error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        error = std::string("radio worker: socketpair: ") + std::strerror(errno);
        return false;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("radio worker: pipe: ") + std::strerror(errno);
        close(sv[0]);
        close(sv[1]);
        return false;
    }
    // Everything the child does between fork and exec must be async-signal-safe.
    const std::string exe = g_executable;
    const std::string fd_text = std::to_string(kWorkerFd);
    std::string arg0 = "forwarder", arg1 = "--radio-worker";
    char* argv[] = {arg0.data(), arg1.data(), const_cast<char*>(fd_text.c_str()), nullptr};
    const pid_t pid = fork();
    if (pid < 0) {
        error = std::string("radio worker: fork: ") + std::strerror(errno);
        for (int fd : {sv[0], sv[1], out[0], out[1]}) {
            close(fd);
        }
        return false;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        // No PR_SET_PDEATHSIG: it fires when the forking *thread* ends. A worker ends by
        // itself on EOF of its socket, which also happens when the daemon dies.
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        if (sv[1] == kWorkerFd) {
            fcntl(kWorkerFd, F_SETFD, 0);
        } else {
            dup2(sv[1], kWorkerFd);
        }
        if (syscall(SYS_close_range, kWorkerFd + 1, ~0u, 0) != 0) {
            for (int fd = kWorkerFd + 1; fd < 1024; ++fd) {
                close(fd);
            }
        }
        execv(exe.c_str(), argv);
        _exit(127);
    }
    close(sv[1]);
    close(out[1]);
    {
        std::lock_guard lock(mutex_);
        fd_ = sv[0];
    }
    pid_ = pid;
    spawned_at_us_ = monotonic_us();
    chatter_stop_ = false;
    chatter_thread_ = std::thread([this, fd = out[0]] { chatter_loop(fd); });
    return true;
}

std::string RadioWorker::reap(int grace_ms)
{
    {
        std::lock_guard lock(mutex_);
        if (fd_ >= 0) {
            close(fd_); // the worker sees EOF, stops its driver and exits
            fd_ = -1;
        }
    }
    std::string how;
    const pid_t pid = pid_.load();
    if (pid > 0) {
        int status = 0;
        pid_t r = 0;
        for (int waited = 0; (r = waitpid(pid, &status, WNOHANG)) == 0 && waited < grace_ms;
             waited += 10) {
            usleep(10'000);
        }
        if (r == 0) {
            kill(pid, SIGKILL);
            r = waitpid(pid, &status, 0);
            how = "did not exit in time and was killed";
        } else {
            how = describe_status(status);
        }
        pid_ = -1;
    }
    chatter_stop_ = true;
    if (chatter_thread_.joinable()) {
        chatter_thread_.join();
    }
    return how;
}

void RadioWorker::chatter_loop(int fd)
{
    std::string partial;
    char buf[4096];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        const int r = poll(&p, 1, 100);
        if (r == 0) {
            if (chatter_stop_) {
                break;
            }
            continue;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        const ssize_t n = r < 0 ? -1 : read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        partial.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
            Log::write(LogLevel::debug, spec_.name, partial.substr(start, nl - start));
        }
        partial.erase(0, start);
        if (partial.size() > 4096) { // a line without end: log it in pieces
            Log::write(LogLevel::debug, spec_.name, partial);
            partial.clear();
        }
    }
    if (!partial.empty()) {
        Log::write(LogLevel::debug, spec_.name, partial);
    }
    close(fd);
}

void RadioWorker::dispatch(const char* data, size_t len, uint32_t* wanted_id, Reply* reply,
                           bool* matched)
{
    Reader in(data, len);
    const uint32_t type = in.u32();
    const uint32_t id = in.u32();
    switch (type) {
    case REPLY: {
        Reply r = parse_reply(in);
        if (wanted_id != nullptr && id == *wanted_id) {
            *reply = std::move(r);
            *matched = true;
            return;
        }
        std::lock_guard lock(mutex_);
        if (auto it = pending_.find(id); it != pending_.end()) {
            it->second = std::move(r);
            cv_.notify_all();
        }
        return;
    }
    case PUBLISH: {
        const uint32_t topic = in.u32();
        std::string bytes = in.str();
        if (in.ok()) {
            publish(topic, std::move(bytes));
        }
        return;
    }
    case LOG: {
        const uint32_t level = std::min<uint32_t>(in.u32(), FWD_LOG_ERROR);
        Log::write(static_cast<LogLevel>(level), spec_.name, in.str());
        return;
    }
    case STAT_ADD:
    case STAT_SET: {
        const std::string name = in.str();
        const int64_t value = in.i64();
        if (!in.ok() || name.empty()) {
            return;
        }
        auto& c = counter(name);
        if (type == STAT_ADD) {
            c.fetch_add(value, std::memory_order_relaxed);
        } else {
            c.store(value, std::memory_order_relaxed);
        }
        return;
    }
    default:
        log_warn(spec_.name, "radio worker sent an unknown message type " + std::to_string(type));
    }
}

bool RadioWorker::exchange(const std::string& message, uint32_t id, Reply& reply, int timeout_ms)
{
    const int fd = fd_;
    if (fd < 0 || ::send(fd, message.data(), message.size(), MSG_NOSIGNAL) < 0) {
        reply.text = "radio worker: cannot send a request";
        return false;
    }
    std::string buf(kMaxMessage, '\0');
    const uint64_t deadline = monotonic_us() + static_cast<uint64_t>(timeout_ms) * 1000;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                reply.text = "radio worker: stopping";
                return false;
            }
        }
        const uint64_t now = monotonic_us();
        if (now >= deadline) {
            reply.text = "radio worker did not answer within " + std::to_string(timeout_ms) + " ms";
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        const int r =
            poll(&p, 1, static_cast<int>(std::min<uint64_t>((deadline - now) / 1000 + 1, 100)));
        if (r <= 0) {
            continue;
        }
        const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            reply.text = "radio worker exited during start-up";
            return false;
        }
        bool matched = false;
        dispatch(buf.data(), static_cast<size_t>(n), &id, &reply, &matched);
        if (matched) {
            return true;
        }
    }
}

bool RadioWorker::handshake(bool start, std::string& error)
{
    const std::string dir = plugin_->path.substr(0, plugin_->path.find_last_of('/') + 1);
    const uint32_t id = next_id();
    Writer init(INIT, id);
    init.str(dir.empty() ? "." : dir)
        .str(spec_.plugin)
        .str(spec_.name)
        .u32(static_cast<uint32_t>(radio_index_))
        .u64(gateway_eui_)
        .str(config_file_)
        .str(options_yaml(spec_.options));
    Reply r;
    if (!exchange(init.bytes(), id, r, kInitTimeoutMs) || r.rc != FWD_OK) {
        error = r.text.empty() ? "create failed (no reason given)" : r.text;
        return false;
    }
    capabilities_ = r.v2;
    lead_time_us_ = static_cast<uint32_t>(r.v3);
    if (start) {
        const uint32_t sid = next_id();
        Reply s;
        if (!exchange(Writer(START, sid).bytes(), sid, s, kStartTimeoutMs) || s.rc != FWD_OK) {
            error = s.text.empty() ? "start failed (no reason given)" : s.text;
            return false;
        }
        if (s.v3 != 0) {
            lead_time_us_ = static_cast<uint32_t>(s.v3);
        }
    }
    return true;
}

void RadioWorker::create()
{
    const auto& d = *plugin_->descriptor;
    validate_options(d.options, spec_.options, config_file_, spec_.node, spec_.path);
    std::string error;
    if (!spawn(error) || !handshake(false, error)) {
        reap(kReapGraceMs);
        throw ConfigError(
            locate_plugin_error(error, config_file_, spec_.node, spec_.options, spec_.path));
    }
    created_ = true;
    if (d.subscriptions != 0) {
        inbox_ = bus_.subscribe(spec_.name, d.subscriptions, spec_.queue_size);
    }
}

void RadioWorker::start()
{
    const uint32_t id = next_id();
    Reply r;
    if (!exchange(Writer(START, id).bytes(), id, r, kStartTimeoutMs) || r.rc != FWD_OK) {
        throw ConfigError(
            locate_plugin_error(r.text.empty() ? "start failed (no reason given)" : r.text,
                                config_file_, spec_.node, spec_.options, spec_.path));
    }
    if (r.v3 != 0) {
        lead_time_us_ = static_cast<uint32_t>(r.v3);
    }
    {
        std::lock_guard lock(mutex_);
        alive_ = true;
        stopping_ = false;
    }
    started_ = true;
    log_debug(spec_.name, "radio worker running as pid " + std::to_string(pid_.load()));
    io_thread_ = std::thread([this] { io_loop(); });
    if (inbox_) {
        deliver_thread_ = std::thread([this] { deliver_loop(); });
    }
}

void RadioWorker::stop()
{
    if (!started_) {
        return;
    }
    started_ = false;
    if (deliver_thread_.joinable()) {
        inbox_->close();
        deliver_thread_.join();
    }
    Reply r;
    const uint32_t id = next_id();
    call_bytes(Writer(STOP, id).bytes(), id, r, kStopTimeoutMs);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        alive_ = false;
    }
    cv_.notify_all();
    if (io_thread_.joinable()) {
        io_thread_.join();
    }
    fail_pending("radio worker stopped");
    reap(kReapGraceMs);
}

bool RadioWorker::call_bytes(const std::string& bytes, uint32_t id, Reply& reply, int timeout_ms)
{
    std::unique_lock lock(mutex_);
    if (!alive_ || fd_ < 0) {
        reply.text = "radio worker restarting";
        return false;
    }
    pending_[id];
    if (::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        pending_.erase(id);
        reply.text = std::string("radio worker: ") + std::strerror(errno);
        return false;
    }
    const bool answered = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                       [&] { return pending_[id].has_value(); });
    if (!answered) {
        pending_.erase(id);
        reply.text = "radio worker did not answer within " + std::to_string(timeout_ms) + " ms";
        return false;
    }
    reply = std::move(*pending_[id]);
    pending_.erase(id);
    return true;
}

void RadioWorker::fail_pending(const std::string& error)
{
    std::lock_guard lock(mutex_);
    for (auto& [id, reply] : pending_) {
        if (!reply) {
            Reply r;
            r.text = error;
            reply = std::move(r);
        }
    }
    cv_.notify_all();
}

void RadioWorker::io_loop()
{
    std::string buf(kMaxMessage, '\0');
    uint64_t backoff_ms = kBackoffMinMs;
    while (true) {
        int fd;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                return;
            }
            fd = fd_;
        }
        pollfd p{fd, POLLIN, 0};
        const int pr = poll(&p, 1, 100);
        if (pr == 0 || (pr < 0 && errno == EINTR)) {
            continue;
        }
        const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (n > 0) {
            dispatch(buf.data(), static_cast<size_t>(n), nullptr, nullptr, nullptr);
            continue;
        }
        // The worker is gone: fail what waits for it, then restart it with backoff.
        {
            std::lock_guard lock(mutex_);
            alive_ = false;
            if (stopping_) {
                return;
            }
        }
        fail_pending("radio worker restarting");
        const pid_t old_pid = pid_.load();
        const uint64_t uptime_us = monotonic_us() - spawned_at_us_;
        std::string how = reap(2000);
        restarts_->fetch_add(1, std::memory_order_relaxed);
        if (uptime_us >= kStableUptimeUs) {
            backoff_ms = kBackoffMinMs;
        }
        log_error(spec_.name, "radio worker (pid " + std::to_string(old_pid) + ") " + how +
                                  "; restarting it in " + std::to_string(backoff_ms / 1000) + " s");
        while (true) {
            {
                std::unique_lock lock(mutex_);
                if (cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                                 [&] { return stopping_; })) {
                    return;
                }
            }
            backoff_ms = std::min(backoff_ms * 2, kBackoffMaxMs);
            std::string error;
            if (spawn(error) && handshake(true, error)) {
                break;
            }
            reap(kReapGraceMs);
            {
                std::lock_guard lock(mutex_);
                if (stopping_) {
                    return;
                }
            }
            log_error(spec_.name, "radio worker restart failed: " + error + "; retrying in " +
                                      std::to_string(backoff_ms / 1000) + " s");
        }
        // The channel plan the radio had before.
        {
            std::lock_guard configs(configs_mutex_);
            std::lock_guard lock(mutex_);
            for (const auto& [radio, bytes] : radio_configs_) {
                const std::string m =
                    Writer(DELIVER, 0).u32(FWD_TOPIC_RADIO_CONFIG).str(bytes).bytes();
                ::send(fd_, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            }
            alive_ = true;
        }
        log_info(spec_.name, "radio worker restarted (pid " + std::to_string(pid_.load()) + ")");
    }
}

void RadioWorker::deliver_loop()
{
    std::vector<Event> batch;
    std::atomic<int64_t>& delivered = stats_.counter(spec_.name + ".delivered");
    while (inbox_->pop_all(batch, std::chrono::milliseconds(200))) {
        for (const auto& e : batch) {
            if (e.topic == FWD_TOPIC_RADIO_CONFIG) {
                forwarder::v1::RadioConfig rc;
                const uint32_t radio =
                    rc.ParseFromString(*e.bytes) ? rc.radio() : static_cast<uint32_t>(-1);
                std::lock_guard lock(configs_mutex_);
                radio_configs_[radio] = *e.bytes;
            }
            const std::string m = Writer(DELIVER, 0).u32(e.topic).str(*e.bytes).bytes();
            std::lock_guard lock(mutex_);
            if (alive_ && fd_ >= 0) {
                ::send(fd_, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            }
        }
        delivered.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
    }
}

bool RadioWorker::counter_now(uint32_t& count_us)
{
    const uint32_t id = next_id();
    Reply r;
    if (!call_bytes(Writer(COUNTER_NOW, id).bytes(), id, r, kCallTimeoutMs) || r.rc != FWD_OK) {
        return false;
    }
    count_us = r.v1;
    return true;
}

TxStatus RadioWorker::transmit(const std::string& tx_request, uint32_t count_us, std::string& error)
{
    const uint32_t id = next_id();
    Reply r;
    if (!call_bytes(Writer(TRANSMIT, id).u32(count_us).str(tx_request).bytes(), id, r,
                    kCallTimeoutMs)) {
        error = r.text;
        return TxStatus::error;
    }
    if (r.rc == FWD_OK) {
        return TxStatus::ok;
    }
    if (r.rc == FWD_BUSY && plugin_->abi_version >= FWD_ABI_VERSION_2) {
        error = r.text.empty() ? "channel busy" : r.text;
        return TxStatus::busy;
    }
    error = r.text.empty() ? "transmit failed (no reason given)" : r.text;
    return TxStatus::error;
}

TxStatus RadioWorker::channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz, uint32_t count_us,
                                    uint32_t airtime_us)
{
    if (plugin_->channel_clear == nullptr) {
        return TxStatus::ok;
    }
    const uint32_t id = next_id();
    Reply r;
    if (!call_bytes(Writer(CHANNEL_CLEAR, id)
                        .u64(frequency_hz)
                        .u32(bandwidth_hz)
                        .u32(count_us)
                        .u32(airtime_us)
                        .bytes(),
                    id, r, kCallTimeoutMs)) {
        return TxStatus::error;
    }
    return r.rc == FWD_OK ? TxStatus::ok : r.rc == FWD_BUSY ? TxStatus::busy : TxStatus::error;
}

bool RadioWorker::last_pps(uint32_t& count_us, uint64_t& edge_mono_us)
{
    if (plugin_->last_pps == nullptr) {
        return false;
    }
    const uint32_t id = next_id();
    Reply r;
    if (!call_bytes(Writer(LAST_PPS, id).bytes(), id, r, kCallTimeoutMs) || r.rc != FWD_OK) {
        return false;
    }
    count_us = r.v1;
    edge_mono_us = r.v3;
    return true;
}

void RadioWorker::publish(uint32_t topic, std::string bytes)
{
    if (topic != FWD_TOPIC_UPLINK) { // radios publish uplinks only
        counter("rejected_publish").fetch_add(1, std::memory_order_relaxed);
        return;
    }
    published_uplinks_->fetch_add(1, std::memory_order_relaxed);
    if (uplink_stamper_) {
        uplink_stamper_(bytes);
    }
    bus_.publish(topic, std::move(bytes), inbox_.get(), &spec_.name);
}

std::atomic<int64_t>& RadioWorker::counter(const std::string& name)
{
    std::lock_guard lock(counters_mutex_);
    auto it = counters_.find(name);
    if (it != counters_.end()) {
        return *it->second;
    }
    auto& c = stats_.counter(spec_.name + "." + name);
    counters_.emplace(name, &c);
    return c;
}

} // namespace forwarder::core
