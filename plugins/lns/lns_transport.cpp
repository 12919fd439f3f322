#include "lns_transport.hpp"
#include "text.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace forwarder::lns {

namespace {

constexpr uint64_t kMask48 = 0xFFFFFFFFFFFFull;
// At most this many recently sent uplinks are kept for resending: more than the socket
// buffers between us and the server hold (≈ 2 MB of JSON), without keeping seconds of
// traffic at high rates.
constexpr size_t kResendMaxFrames = 4096;
// An LNS time transfer {xtime, gpstime} is used only for an xtime this close to now (CS pairs
// an uplink's xtime with its current GPS time: the xtime is a network latency old).
constexpr int64_t kTransferMaxAgeUs = 600'000'000;
constexpr int64_t kTransferMaxAheadUs = 10'000'000;

const fwd_option kOptions[] = {
    {"uri", FWD_OPT_STRING, 0, nullptr,
     "discovery endpoint ws://host:port or wss://host:port (e.g. "
     "wss://eu1.cloud.thethings.network:8887)"},
    {"trust", FWD_OPT_STRING, 0, nullptr,
     "CA certificate(s) of the LNS, PEM or DER (needed for wss)"},
    {"key", FWD_OPT_STRING, 0, nullptr,
     "token file of `Name: value` header lines (e.g. Authorization: Bearer ...), or the client "
     "private key for mutual TLS"},
    {"cert", FWD_OPT_STRING, 0, nullptr, "client certificate for mutual TLS, PEM or DER"},
    {"tls_verify_hostname", FWD_OPT_BOOL, 0, "true", "check the server certificate's host name"},
    {"router_eui", FWD_OPT_STRING, 0, "gateway EUI",
     "router id sent to /router-info (16 hex or ID6)"},
    {"station_dir", FWD_OPT_STRING, 0, nullptr,
     "a Basic Station home directory: tc.uri, tc.trust, tc.key, tc.crt fill the options not given"},
    {"queue_max", FWD_OPT_INT, 0, "10000",
     "uplinks kept while disconnected (oldest dropped first)"},
    {"queue_max_age_s", FWD_OPT_INT, 0, "3600", "uplinks older than this are dropped"},
    {"ping_interval_s", FWD_OPT_INT, 0, "30",
     "websocket ping interval; 2 unanswered pings or 3 intervals of silence mean a dead link"},
    {"connect_timeout_s", FWD_OPT_INT, 0, "10", "DNS + TCP + TLS + upgrade timeout"},
    {"backoff_initial_ms", FWD_OPT_INT, 0, "1000", "first reconnect delay (doubles, with jitter)"},
    {"backoff_max_s", FWD_OPT_INT, 0, "60", "longest reconnect delay"},
    {"resend_window_ms", FWD_OPT_INT, 0, "2000",
     "uplinks sent this shortly before a connection broke are sent again after reconnecting"},
    {"runcmd_allow", FWD_OPT_LIST, 0, "[]",
     "commands the LNS may run with runcmd (none by default)"},
    {"model", FWD_OPT_STRING, 0, "linux", "`model` in the version message"},
    {"features", FWD_OPT_STRING, 0, "prod", "`features` in the version message"},
    {"forward_heard_downlinks", FWD_OPT_BOOL, 0, "false",
     "forward downlink and join-accept frames heard on air (dndf, jacc)"},
    {"wait_for_credentials", FWD_OPT_BOOL, 0, "false",
     "take the LNS address and credentials from a bootstrap plugin (CUPS); `uri` is optional"},
    {nullptr, 0, 0, nullptr, nullptr}};

using support::trim;

template <class T> T number(const YAML::Node& n, const char* key, T min, T max, T fallback)
{
    if (!n[key]) {
        return fallback;
    }
    T v{};
    if (!YAML::convert<T>::decode(n[key], v) || v < min || v > max) {
        throw sdk::Error(std::string(key) + ": expected an integer " + std::to_string(min) + ".." +
                         std::to_string(max));
    }
    return v;
}

bool flag(const YAML::Node& n, const char* key, bool fallback)
{
    if (!n[key]) {
        return fallback;
    }
    bool v = false;
    if (!YAML::convert<bool>::decode(n[key], v)) {
        throw sdk::Error(std::string(key) + ": expected true or false");
    }
    return v;
}

uint64_t utc_us()
{
    timeval tv{};
    gettimeofday(&tv, nullptr);
    return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
}

const char* outcome_text(forwarder::v1::TxOutcome o)
{
    return forwarder::v1::TxOutcome_Name(o).c_str();
}

} // namespace

// Options that do not depend on where the LNS is.
void LnsOptions::parse_tuning(const YAML::Node& n)
{
    credentials.verify_hostname = flag(n, "tls_verify_hostname", true);
    if (n["router_eui"]) {
        uint64_t eui = 0;
        if (!parse_eui(n["router_eui"].as<std::string>(), eui)) {
            throw sdk::Error("router_eui: expected 16 hex digits or an ID6, got '" +
                             n["router_eui"].as<std::string>() + "'");
        }
        router_eui = eui;
    }
    queue_max = number<size_t>(n, "queue_max", 1, 10'000'000, queue_max);
    queue_max_age_s = number<uint32_t>(n, "queue_max_age_s", 1, 7 * 86400, queue_max_age_s);
    ping_interval_s = number<uint32_t>(n, "ping_interval_s", 1, 3600, ping_interval_s);
    connect_timeout_s = number<uint32_t>(n, "connect_timeout_s", 1, 300, connect_timeout_s);
    backoff_initial_ms = number<uint32_t>(n, "backoff_initial_ms", 10, 600'000, backoff_initial_ms);
    backoff_max_s = number<uint32_t>(n, "backoff_max_s", 1, 3600, backoff_max_s);
    resend_window_ms = number<uint32_t>(n, "resend_window_ms", 0, 60'000, resend_window_ms);
    if (n["runcmd_allow"]) {
        if (!n["runcmd_allow"].IsSequence()) {
            throw sdk::Error("runcmd_allow: expected a list of commands");
        }
        for (const auto& c : n["runcmd_allow"]) {
            runcmd_allow.push_back(c.as<std::string>());
        }
    }
    if (n["model"]) {
        model = n["model"].as<std::string>();
    }
    if (n["features"]) {
        features = n["features"].as<std::string>();
    }
    forward_heard_downlinks = flag(n, "forward_heard_downlinks", false);
}

LnsOptions LnsOptions::parse(const std::string& yaml)
{
    YAML::Node n;
    try {
        n = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw sdk::Error(std::string("options: invalid YAML: ") + e.what());
    }
    LnsOptions o;
    auto str = [&](const char* key) { return n[key] ? n[key].as<std::string>() : std::string(); };
    o.station_dir = str("station_dir");
    o.uri = trim(str("uri"));
    o.credentials.trust_file = str("trust");
    o.credentials.key_file = str("key");
    o.credentials.cert_file = str("cert");
    if (!o.station_dir.empty()) {
        namespace fs = std::filesystem;
        const fs::path dir(o.station_dir);
        if (!fs::is_directory(dir)) {
            throw sdk::Error("station_dir: " + o.station_dir + " is not a directory");
        }
        auto have = [&](const char* f) { return fs::exists(dir / f); };
        if (o.uri.empty() && have("tc.uri")) {
            std::ifstream in(dir / "tc.uri");
            std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
            o.uri = trim(text);
        }
        if (o.credentials.trust_file.empty() && have("tc.trust")) {
            o.credentials.trust_file = (dir / "tc.trust").string();
        }
        if (o.credentials.key_file.empty() && have("tc.key")) {
            o.credentials.key_file = (dir / "tc.key").string();
        }
        if (o.credentials.cert_file.empty() && have("tc.crt")) {
            o.credentials.cert_file = (dir / "tc.crt").string();
        }
    }
    o.wait_for_credentials = flag(n, "wait_for_credentials", false);
    o.parse_tuning(n);
    if (o.uri.empty()) {
        if (o.wait_for_credentials) {
            return o; // address and credentials arrive from the bootstrap plugin
        }
        throw sdk::Error("uri: missing (set `uri`, or `station_dir` with a tc.uri file)");
    }
    WsUri parsed;
    std::string why;
    if (!parse_ws_uri(o.uri, false, parsed, why)) {
        throw sdk::Error("uri: " + why);
    }
    if (!parsed.path.empty() && parsed.path != "/") {
        throw sdk::Error("uri: a discovery URI has no path (got '" + o.uri + "')");
    }
    if (parsed.tls && o.credentials.trust_file.empty()) {
        throw sdk::Error("trust: a wss:// URI needs the LNS's CA certificate (`trust`)");
    }
    if (!o.credentials.trust_file.empty() && !std::filesystem::exists(o.credentials.trust_file)) {
        throw sdk::Error("trust: no such file " + o.credentials.trust_file);
    }
    if (!o.credentials.key_file.empty()) {
        try {
            o.token = read_token_file(o.credentials.key_file, o.credentials.token_headers);
        } catch (const std::runtime_error& e) {
            throw sdk::Error(e.what());
        }
    }
    if (!o.credentials.cert_file.empty()) {
        if (!std::filesystem::exists(o.credentials.cert_file)) {
            throw sdk::Error("cert: no such file " + o.credentials.cert_file);
        }
        if (o.credentials.key_file.empty() || o.token) {
            throw sdk::Error("cert: mutual TLS needs `key` to be the client's private key");
        }
    } else if (!o.credentials.key_file.empty() && !o.token) {
        throw sdk::Error("key: a private key needs the client certificate (`cert`)");
    }
    return o;
}

// --- LnsTransport ----------------------------------------------------------------------

LnsTransport::LnsTransport(sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml)
    : host_(host), name_(info.instance_name), gateway_eui_(info.gateway_eui),
      options_(LnsOptions::parse(yaml)), backoff_rng_(std::random_device{}()),
      session_rng_(std::random_device{}())
{
    endpoint_.uri = options_.uri;
    endpoint_.credentials = options_.credentials;
}

LnsTransport::Endpoint LnsTransport::endpoint() const
{
    std::lock_guard lock(mutex_);
    return endpoint_;
}

// New address and credentials from a bootstrap plugin: checked, then used from the next
// connection on (the current one is closed). A bad set is refused and the old one kept.
void LnsTransport::apply_credentials(const forwarder::v1::Credentials& c)
{
    if (c.target() != "tc") {
        return;
    }
    namespace fs = std::filesystem;
    auto usable = [](const std::string& path) {
        std::error_code ec;
        return !path.empty() && fs::exists(path, ec) && fs::file_size(path, ec) > 0;
    };
    Endpoint next;
    next.uri = trim(c.uri());
    next.generation = c.generation();
    next.credentials.verify_hostname = options_.credentials.verify_hostname;
    WsUri parsed;
    std::string why;
    try {
        if (!parse_ws_uri(next.uri, false, parsed, why)) {
            throw std::runtime_error("uri '" + next.uri + "': " + why);
        }
        if (usable(c.trust_path())) {
            next.credentials.trust_file = c.trust_path();
        }
        if (usable(c.key_path())) {
            next.credentials.key_file = c.key_path();
            const bool token = read_token_file(c.key_path(), next.credentials.token_headers);
            if (!token && !usable(c.cert_path())) {
                throw std::runtime_error("a private key without a client certificate");
            }
        }
        if (usable(c.cert_path())) {
            if (!next.credentials.token_headers.empty()) {
                throw std::runtime_error("a token together with a client certificate");
            }
            next.credentials.cert_file = c.cert_path();
        }
        if (parsed.tls && next.credentials.trust_file.empty()) {
            throw std::runtime_error("a wss:// URI without trust");
        }
    } catch (const std::exception& e) {
        host_.error("credentials " + std::to_string(c.generation()) + " (" + c.set() +
                    " set) refused: " + e.what() + "; keeping the current ones");
        return;
    }
    host_.info("new LNS credentials " + std::to_string(c.generation()) + " (" + c.set() +
               " set): " + next.uri);
    {
        std::lock_guard lock(mutex_);
        endpoint_ = std::move(next);
    }
    endpoint_changed_ = true;
    wake();
}

void LnsTransport::link_status(forwarder::v1::LinkStatus::State state, const std::string& detail)
{
    forwarder::v1::LinkStatus s;
    s.set_target("tc");
    s.set_state(state);
    s.set_generation(endpoint().generation);
    s.set_detail(detail);
    host_.publish(FWD_TOPIC_LINK_STATUS, s.SerializeAsString());
}

LnsTransport::~LnsTransport()
{
    stop();
}

RadioClock& LnsTransport::radio_clock(uint32_t radio)
{
    auto it = clocks_.find(radio);
    if (it == clocks_.end()) {
        // A fresh, non-zero session id per radio and start (rule 3).
        const auto session = static_cast<uint8_t>(1 + session_rng_() % 255);
        it = clocks_.emplace(radio, RadioClock(radio, session)).first;
    }
    return it->second;
}

void LnsTransport::start()
{
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        throw sdk::Error(std::string("cannot create an eventfd: ") + std::strerror(errno));
    }
    host_.stat_set("connected", 0);
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

bool LnsTransport::Watch::attach(int fd)
{
    std::lock_guard lock(owner_.fd_mutex_);
    if (!owner_.running_) {
        return false;
    }
    owner_.live_fd_ = fd;
    // Dead peers are noticed by the kernel too (lns.md §5: idle 60 s, 15 s × 4 probes).
    int on = 1, idle = 60, interval = 15, count = 4;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    return true;
}

void LnsTransport::Watch::detach()
{
    std::lock_guard lock(owner_.fd_mutex_);
    owner_.live_fd_ = -1;
}

void LnsTransport::stop()
{
    if (!running_.exchange(false)) {
        return;
    }
    {
        // Every blocking call of the I/O thread on this socket (connect, TLS, send,
        // receive) fails at once; only a DNS lookup in progress cannot be cut short.
        std::lock_guard lock(fd_mutex_);
        if (live_fd_ >= 0) {
            ::shutdown(live_fd_, SHUT_RDWR);
        }
    }
    wake();
    if (thread_.joinable()) {
        thread_.join();
    }
    ::close(wake_fd_);
    wake_fd_ = -1;
    ssl_.reset();
    host_.stat_set("connected", 0);
}

void LnsTransport::wake()
{
    if (wake_fd_ >= 0) {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }
}

void LnsTransport::queue_control(std::string json)
{
    {
        std::lock_guard lock(mutex_);
        control_.push_back(std::move(json));
    }
    wake();
}

double LnsTransport::ref_time(uint64_t mono_us) const
{
    if (!mux_time_) {
        return 0.0;
    }
    return mux_time_->first + static_cast<double>(mono_us - mux_time_->second) / 1e6;
}

void LnsTransport::deliver(uint32_t topic, std::string_view bytes)
{
    if (topic == FWD_TOPIC_UPLINK) {
        PendingUplink p;
        if (!p.uplink.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            host_.stat_add("malformed_events");
            return;
        }
        if (p.uplink.crc() != forwarder::v1::CRC_OK) {
            // The protocol has no CRC field: LoRaWAN servers take CRC-valid frames only.
            host_.stat_add("uplinks_not_forwarded");
            return;
        }
        const uint64_t now = host_.monotonic_us();
        // The frame was received a little before now: extend its counter at that moment.
        const uint64_t at = p.uplink.received_mono_us() != 0 ? p.uplink.received_mono_us() : now;
        size_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            RadioClock* clock = &radio_clock(p.uplink.radio());
            if (clock->restarted(p.uplink.count_us(), at)) {
                clocks_.erase(p.uplink.radio()); // the counter restarted: new xtime session
                clock = &radio_clock(p.uplink.radio());
                host_.info("radio " + std::to_string(p.uplink.radio()) +
                           ": counter restarted, new xtime session");
            }
            p.xtime = clock->xtime(p.uplink.count_us(), at);
            p.queued_mono_us = now;
            uplinks_.push_back(std::move(p));
            const uint64_t max_age = uint64_t{options_.queue_max_age_s} * 1000000u;
            while (uplinks_.size() > options_.queue_max ||
                   (!uplinks_.empty() && now - uplinks_.front().queued_mono_us > max_age)) {
                uplinks_.pop_front();
                ++dropped;
            }
        }
        if (dropped > 0) {
            host_.stat_add("uplinks_dropped", static_cast<int64_t>(dropped));
        }
        wake();
    } else if (topic == FWD_TOPIC_CREDENTIALS) {
        forwarder::v1::Credentials c;
        if (c.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            apply_credentials(c);
        }
    } else if (topic == FWD_TOPIC_TX_RESULT) {
        forwarder::v1::TxResult r;
        if (r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
            r.requester() == name_) {
            handle_result(r);
        }
    } else if (topic == FWD_TOPIC_TIME_STATUS) {
        forwarder::v1::TimeStatus status;
        if (!status.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            host_.stat_add("malformed_events");
            return;
        }
        handle_time_status(status);
    }
}

// timesync requests are wanted while a radio has PPS edges without GPS second labels: the
// LNS round trip labels them (lns.md §8.5). The I/O thread sends them.
void LnsTransport::handle_time_status(const forwarder::v1::TimeStatus& status)
{
    std::vector<uint32_t> pps;
    std::string unlabelled;
    for (const auto& radio : status.radios()) {
        if (!radio.pps()) {
            continue;
        }
        pps.push_back(radio.radio());
        if (!radio.gps_second_known()) {
            unlabelled += (unlabelled.empty() ? "" : ", ") + std::to_string(radio.radio());
        }
    }
    const bool wanted = !unlabelled.empty();
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        changed = wanted != timesync_wanted_;
        timesync_wanted_ = wanted;
        pps_radios_ = std::move(pps);
    }
    if (changed) {
        host_.info(wanted ? "timesync: PPS without GPS seconds on radio " + unlabelled +
                                ": asking the LNS for GPS time"
                          : "timesync: GPS seconds known: no more requests");
        wake();
    }
}

void LnsTransport::failure(const std::string& cause)
{
    if (!running_) {
        host_.debug(cause + " (stopping)"); // stop() shut the socket down
        return;
    }
    // Each distinct failure is logged once as a warning; repeats go to debug.
    if (cause != last_failure_) {
        host_.warn(cause);
        last_failure_ = cause;
    } else {
        host_.debug(cause + " (again)");
    }
    host_.stat_add("connection_failures");
    host_.stat_set("connected", 0);
}

void LnsTransport::sleep_backoff(uint32_t attempt)
{
    const double base =
        options_.backoff_initial_ms * std::pow(2.0, std::min<uint32_t>(attempt, 16));
    const double capped = std::min(base, options_.backoff_max_s * 1000.0);
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto delay_ms = static_cast<int64_t>(capped * jitter(backoff_rng_));
    host_.debug("reconnecting in " + std::to_string(delay_ms) + " ms");
    const uint64_t until = host_.monotonic_us() + static_cast<uint64_t>(delay_ms) * 1000u;
    while (running_ && !endpoint_changed_ && host_.monotonic_us() < until) {
        pollfd fd{wake_fd_, POLLIN, 0};
        ::poll(&fd, 1, 100);
        uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
    }
}

void LnsTransport::run()
{
    uint32_t attempt = 0;
    uint32_t muxs_failures = 0;
    std::optional<WsUri> muxs;
    while (running_) {
        try {
            run_once(attempt, muxs_failures, muxs);
        } catch (const std::exception& e) {
            failure(std::string("unexpected error: ") + e.what());
        } catch (...) {
            failure("unexpected error");
        }
        if (running_) {
            sleep_backoff(attempt++);
        }
    }
}

// One connection attempt (discovery if needed, then traffic until it breaks).
void LnsTransport::run_once(uint32_t& attempt, uint32_t& muxs_failures, std::optional<WsUri>& muxs)
{
    if (endpoint_changed_.exchange(false)) {
        muxs.reset(); // new address or credentials: start over with discovery
        attempt = 0;
        muxs_failures = 0;
        consecutive_failures_ = 0;
    }
    if (endpoint().uri.empty()) {
        // Waiting for a bootstrap plugin (CUPS) to name the LNS.
        pollfd fd{wake_fd_, POLLIN, 0};
        ::poll(&fd, 1, 200);
        uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
        attempt = 0;
        return;
    }
    if (!muxs) {
        WsUri found;
        if (!discover(found)) {
            return;
        }
        muxs = found;
        muxs_failures = 0;
    }
    const std::string where = std::string(muxs->tls ? "wss://" : "ws://") + muxs->host + ":" +
                              std::to_string(muxs->port) + muxs->path;
    session_started_us_ = 0;
    try {
        traffic(*muxs);
        return; // stopping
    } catch (const ConnectError& e) {
        failure("traffic " + where + ": " + e.what());
        ++muxs_failures;
        if (e.kind() == ConnectError::Kind::http) {
            muxs_failures = options_.muxs_failures_before_discovery;
            link_status(forwarder::v1::LinkStatus::REJECTED, e.what());
        } else if (++consecutive_failures_ % 3 == 0) {
            link_status(forwarder::v1::LinkStatus::FAILING, e.what());
        }
    } catch (const ConnectionLost& e) {
        failure(std::string("connection lost: ") + e.what());
        const uint64_t lasted =
            session_started_us_ == 0 ? 0 : host_.monotonic_us() - session_started_us_;
        if (lasted >= 60'000'000u) {
            attempt = 0; // a session that worked for a while resets the backoff
            muxs_failures = 0;
        } else {
            ++muxs_failures; // short-lived sessions count as failures (no reconnect storm)
        }
    }
    if (muxs_failures >= options_.muxs_failures_before_discovery) {
        muxs.reset(); // back to discovery (§9)
    }
}

bool LnsTransport::discover(WsUri& muxs)
{
    WsUri info;
    std::string why;
    const Endpoint ep = endpoint();
    parse_ws_uri(ep.uri, false, info, why);
    info.path = "/router-info";
    const uint64_t router = options_.router_eui.value_or(gateway_eui_);
    const auto timeout = std::chrono::seconds(options_.connect_timeout_s);
    try {
        if (info.tls && !ssl_) {
            ssl_.emplace(); // OpenSSL is initialised only when TLS is used
        }
        auto conn = WsConnection::open(info, ep.credentials, timeout, &watch_);
        conn->send_text(encode_router_info_request(router));
        const uint64_t deadline = host_.monotonic_us() + 30'000'000u;
        while (running_ && host_.monotonic_us() < deadline) {
            if (!conn->wait_readable(std::chrono::milliseconds(200), -1)) {
                continue;
            }
            Frame f = conn->receive();
            if (f.type == Frame::Type::ping) {
                conn->send_pong(f.payload);
                continue;
            }
            if (f.type == Frame::Type::close) {
                failure("discovery " + conn->peer() + ": closed by the server (code " +
                        std::to_string(f.close_code) + ")");
                return false;
            }
            if (f.type != Frame::Type::text) {
                continue;
            }
            RouterInfo answer;
            if (!decode_router_info(f.payload, answer, why)) {
                failure("discovery " + conn->peer() + ": malformed answer: " + why);
                return false;
            }
            conn->send_close(1000);
            if (!answer.error.empty()) {
                failure("discovery " + conn->peer() + ": rejected by the server: " + answer.error);
                link_status(forwarder::v1::LinkStatus::REJECTED, answer.error);
                return false;
            }
            if (!parse_ws_uri(answer.uri, true, muxs, why)) {
                failure("discovery " + conn->peer() + ": unusable traffic URI '" + answer.uri +
                        "': " + why);
                return false;
            }
            host_.info("discovery: router " + answer.router + ", muxs " + answer.muxs + ", uri " +
                       answer.uri);
            return true;
        }
        if (running_) {
            failure("discovery " + conn->peer() + ": no answer within 30 s");
        }
    } catch (const ConnectError& e) {
        failure("discovery " + std::string(info.tls ? "wss://" : "ws://") + info.host + ":" +
                std::to_string(info.port) + "/router-info: " + e.what());
        if (e.kind() == ConnectError::Kind::http) {
            link_status(forwarder::v1::LinkStatus::REJECTED, e.what());
        } else if (++consecutive_failures_ % 3 == 0) {
            link_status(forwarder::v1::LinkStatus::FAILING, e.what());
        }
    } catch (const std::exception& e) {
        failure("discovery: " + std::string(e.what()));
    }
    return false;
}

void LnsTransport::traffic(const WsUri& muxs)
{
    if (muxs.tls && !ssl_) {
        ssl_.emplace();
    }
    auto conn = WsConnection::open(muxs, endpoint().credentials,
                                   std::chrono::seconds(options_.connect_timeout_s), &watch_);
    {
        // A new connection gets a new router_config before any frame goes out (§6).
        std::lock_guard lock(mutex_);
        router_config_.reset();
    }
    timesync_.reset();
    host_.info("connected to " + conn->peer());
    last_failure_.clear();
    host_.stat_add("connections");
    host_.stat_set("connected", 1);
    VersionInfo version;
    version.station = std::string("forwarder ") + FORWARDER_LNS_VERSION;
    version.model = options_.model;
    version.features = options_.features;
    try {
        conn->send_text(encode_version(version));
        pump(*conn);
    } catch (const std::runtime_error& e) {
        // Uplinks sent just before the break may never have reached the server: send them
        // again (duplicates are harmless to a network server, losses are not).
        std::lock_guard lock(mutex_);
        const uint64_t now = host_.monotonic_us();
        size_t resent = 0;
        while (!recently_sent_.empty()) {
            auto& [sent_at, p] = recently_sent_.back();
            if (now - sent_at <= uint64_t{options_.resend_window_ms} * 1000u) {
                uplinks_.push_front(std::move(p));
                ++resent;
            }
            recently_sent_.pop_back();
        }
        size_t dropped = 0;
        while (uplinks_.size() > options_.queue_max) {
            uplinks_.pop_front();
            ++dropped;
        }
        if (dropped > 0) {
            host_.stat_add("uplinks_dropped", static_cast<int64_t>(dropped));
        }
        if (resent > 0) {
            host_.stat_add("uplinks_resent", static_cast<int64_t>(resent));
        }
        throw ConnectionLost(e.what());
    }
}

void LnsTransport::pump(WsConnection& conn)
{
    const uint64_t interval = uint64_t{options_.ping_interval_s} * 1000000u;
    uint64_t last_rx = host_.monotonic_us();
    uint64_t next_ping = last_rx + interval;
    int pings_outstanding = 0;
    std::vector<std::string> out;
    while (running_) {
        // 1. Send what is queued: control messages first, then uplinks (once configured).
        out.clear();
        const uint64_t now = host_.monotonic_us();
        size_t sent_uplinks = 0;
        bool more = false;
        {
            std::lock_guard lock(mutex_);
            for (auto& c : control_) {
                out.push_back(std::move(c));
            }
            control_.clear();
            while (!recently_sent_.empty() && now - recently_sent_.front().first >
                                                  uint64_t{options_.resend_window_ms} * 1000u) {
                recently_sent_.pop_front();
            }
        }
        for (const auto& text : out) {
            conn.send_text(text);
        }
        for (int i = 0; i < 256; ++i) {
            std::string json, why;
            PendingUplink p;
            {
                std::lock_guard lock(mutex_);
                if (!router_config_ || uplinks_.empty()) {
                    break;
                }
                // (`now` was read before this frame may have been queued: no underflow.)
                const uint64_t queued = uplinks_.front().queued_mono_us;
                if (queued < now && now - queued > uint64_t{options_.queue_max_age_s} * 1000000u) {
                    uplinks_.pop_front(); // kept too long while disconnected
                    host_.stat_add("uplinks_dropped");
                    continue;
                }
                p = std::move(uplinks_.front());
                UplinkMeta meta;
                meta.dr = find_uplink_dr(*router_config_, p.uplink.modulation());
                meta.freq_hz = p.uplink.frequency_hz();
                meta.ref_time = ref_time(now);
                meta.rctx = p.uplink.radio();
                meta.xtime = p.xtime;
                meta.gpstime = p.uplink.has_gps_time_us() ? p.uplink.gps_time_us() : 0;
                meta.fts = p.uplink.has_fine_timestamp_ns()
                               ? static_cast<int64_t>(p.uplink.fine_timestamp_ns())
                               : -1;
                meta.rssi = p.uplink.rssi_channel_dbm();
                meta.snr = p.uplink.snr_db();
                // UTC of reception, not of sending (they differ after an outage).
                const uint64_t received = p.uplink.received_mono_us();
                const uint64_t age = received != 0 && received < now ? now - received : 0;
                meta.rxtime = static_cast<double>(utc_us() - age) / 1e6;
                bool ok = meta.dr >= 0;
                if (!ok) {
                    why = "no data rate of the router_config matches the frame's modulation";
                } else {
                    ok = encode_uplink(p.uplink.payload(), meta, *router_config_,
                                       options_.forward_heard_downlinks, json, why);
                }
                uplinks_.pop_front();
                if (!ok) {
                    host_.stat_add("uplinks_not_forwarded");
                    host_.debug("uplink not forwarded: " + why);
                    continue;
                }
            }
            try {
                conn.send_text(json);
            } catch (...) {
                std::lock_guard lock(mutex_);
                uplinks_.push_front(std::move(p));
                throw;
            }
            {
                std::lock_guard lock(mutex_);
                recently_sent_.emplace_back(now, std::move(p));
                if (recently_sent_.size() > kResendMaxFrames) {
                    recently_sent_.pop_front();
                }
                more = !uplinks_.empty();
            }
            ++sent_uplinks;
        }
        if (sent_uplinks > 0) {
            host_.stat_add("uplinks_forwarded", static_cast<int64_t>(sent_uplinks));
        }

        if (endpoint_changed_) {
            conn.send_close(1000);
            throw ConnectionLost("switching to new LNS credentials");
        }
        send_timesync_requests(conn, now);

        // 2. Keepalive.
        if (now >= next_ping) {
            if (pings_outstanding >= 2) {
                throw ConnectionLost("2 pings unanswered: dead link");
            }
            conn.send_ping("fwd");
            ++pings_outstanding;
            next_ping = now + interval;
        }
        if (now - last_rx > 3 * interval) {
            throw ConnectionLost("nothing received for " + std::to_string(3 * interval / 1000000u) +
                                 " s: dead link");
        }

        // 3. Wait for input or work.
        uint64_t wait_us = more ? 0 : std::min<uint64_t>(next_ping - now, 200'000);
        if (const uint64_t next = timesync_.next_us(); next != 0) {
            const uint64_t t = host_.monotonic_us();
            wait_us = std::min<uint64_t>(wait_us, next > t ? next - t : 0);
        }
        if (conn.wait_readable(std::chrono::milliseconds(wait_us / 1000), wake_fd_)) {
            Frame f = conn.receive();
            last_rx = host_.monotonic_us();
            switch (f.type) {
            case Frame::Type::ping:
                conn.send_pong(f.payload);
                break;
            case Frame::Type::pong:
                pings_outstanding = 0;
                break;
            case Frame::Type::close:
                conn.send_close(f.close_code == 0 ? 1000 : f.close_code);
                throw ConnectionLost("closed by the server (code " + std::to_string(f.close_code) +
                                     (f.payload.empty() ? "" : ": " + f.payload) + ")");
            case Frame::Type::text:
                handle_text(conn, f.payload, last_rx);
                break;
            default:
                break; // binary (rmtsh) is not supported: ignored
            }
        }
        uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
    }
    conn.send_close(1000);
}

// While the core wants GPS seconds for a PPS radio: {"msgtype":"timesync","txtime":<µs>} in
// bursts of 10, 71 ms apart, then a 5 s pause (lns.md §7.7), once the session is configured.
void LnsTransport::send_timesync_requests(WsConnection& conn, uint64_t now)
{
    bool wanted = false;
    {
        std::lock_guard lock(mutex_);
        wanted = timesync_wanted_ && router_config_.has_value();
    }
    if (!timesync_.due(wanted, now)) {
        return;
    }
    const uint64_t txtime = host_.monotonic_us();
    conn.send_text(encode_timesync_request(static_cast<int64_t>(txtime)));
    timesync_.sent(txtime);
    host_.stat_add("timesync_sent");
}

void LnsTransport::publish_time_reference(const forwarder::v1::TimeReference& reference)
{
    if (!host_.publish(FWD_TOPIC_TIME_REFERENCE, reference.SerializeAsString())) {
        if (!time_reference_refused_.exchange(true)) {
            host_.warn("the core refused a TimeReference event: LNS time is not used");
        }
        return;
    }
    time_reference_refused_ = false;
}

// The four timesync shapes (lns.md §8.5). MuxTime is already taken.
void LnsTransport::handle_timesync(const TimeSync& sync, uint64_t received_us)
{
    if (!sync.gpstime_us || *sync.gpstime_us <= 0) {
        return; // shape 3 (gpstime 0: "nothing"), or no time at all
    }
    const auto gps_us = static_cast<uint64_t>(*sync.gpstime_us);
    if (sync.xtime) {
        // Shape 4: xtime X was GPS time G. X names a radio and its xtime session.
        const uint64_t xtime = *sync.xtime;
        const auto unit = static_cast<uint32_t>((xtime >> 56) & 0x7F);
        const auto session = static_cast<uint8_t>((xtime >> 48) & 0xFF);
        std::string refused;
        {
            std::lock_guard lock(mutex_);
            auto it = clocks_.find(unit);
            if (it == clocks_.end() || it->second.session() != session || !it->second.known()) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "xtime session 0x%02x of radio %u is not live",
                              session, unit);
                refused = buf;
            } else {
                // How long ago (bits 47..0, modulo 2^48) the xtime was.
                const int64_t age =
                    xtime_delta(static_cast<uint64_t>(it->second.ext_at(received_us)), xtime);
                if (age > kTransferMaxAgeUs || age < -kTransferMaxAheadUs) {
                    refused = "xtime " + std::to_string(age / 1000) + " ms ago";
                }
            }
        }
        if (!refused.empty()) {
            host_.stat_add("timesync_ignored");
            host_.debug("timesync transfer ignored: " + refused);
            return;
        }
        forwarder::v1::TimeReference reference;
        reference.set_radio(unit);
        reference.mutable_transfer()->set_count_us(static_cast<uint32_t>(xtime));
        reference.mutable_transfer()->set_gps_time_us(gps_us);
        host_.stat_add("timesync_transfers");
        publish_time_reference(reference);
        return;
    }
    if (!sync.txtime_us) {
        return;
    }
    // Shapes 1 and 2: the answer to one of our requests (the txtime echoed).
    const auto txtime = static_cast<uint64_t>(*sync.txtime_us);
    if (!timesync_.match(txtime)) {
        host_.stat_add("timesync_ignored");
        host_.debug("timesync reply ignored: txtime " + std::to_string(txtime) +
                    " is not a recent request");
        return;
    }
    host_.stat_add("timesync_replies");
    // One reference: the core labels the PPS edges of every radio that has them with it
    // (`radio` names the first PPS radio, for the log).
    forwarder::v1::TimeReference reference;
    {
        std::lock_guard lock(mutex_);
        reference.set_radio(pps_radios_.empty() ? 0 : pps_radios_.front());
    }
    auto* trip = reference.mutable_round_trip();
    trip->set_sent_mono_us(txtime);
    trip->set_received_mono_us(received_us);
    trip->set_gps_time_us(gps_us);
    publish_time_reference(reference);
}

void LnsTransport::handle_text(WsConnection& conn, const std::string& text, uint64_t received_us)
{
    Decoded d;
    std::string error;
    if (!decode_message(text, d, error)) {
        host_.stat_add("malformed_messages");
        host_.warn("ignored a malformed message from " + conn.peer() + ": " + error);
        return;
    }
    const uint64_t now = received_us;
    if (d.mux_time) {
        std::lock_guard lock(mutex_);
        mux_time_ = std::make_pair(*d.mux_time, now);
    }
    if (auto* rc = std::get_if<RouterConfig>(&d.message)) {
        if (rc->region == Region::unknown) {
            host_.error("router_config: unknown region '" + rc->region_text +
                        "': transmitting within freq_range with a conservative power limit");
        }
        for (const auto& w : rc->warnings) {
            host_.warn("router_config: " + w);
        }
        size_t channels = 0;
        for (auto& radio : rc->radios) {
            channels += static_cast<size_t>(radio.multi_sf_channels_size()) +
                        (radio.has_std_channel() ? 1 : 0) + (radio.has_fsk_channel() ? 1 : 0);
            host_.publish(FWD_TOPIC_RADIO_CONFIG, radio.SerializeAsString());
        }
        std::string beaconing = "no beaconing";
        if (rc->beaconing && !rc->radios.empty() && rc->radios[0].has_beaconing()) {
            const auto& b = rc->radios[0].beaconing();
            beaconing = "beaconing DR" + std::to_string(rc->beaconing->dr) + " (SF" +
                        std::to_string(b.modulation().lora().spreading_factor()) + "/" +
                        std::to_string(b.modulation().lora().bandwidth_hz() / 1000) + " kHz) on";
            for (uint64_t f : b.frequencies_hz()) {
                beaconing += " " + std::to_string(f);
            }
            beaconing += " Hz, layout [" + std::to_string(b.time_offset()) + "," +
                         std::to_string(b.infodesc_offset()) + "," + std::to_string(b.length()) +
                         "]";
        }
        host_.info("router_config: region " + rc->region_text + " (" +
                   (rc->region_canonical.empty() ? std::string("unknown") : rc->region_canonical) +
                   "), " + std::to_string(rc->radios.size()) + " concentrator(s), " +
                   std::to_string(channels) + " channels, TX " + std::to_string(rc->freq_min) +
                   ".." + std::to_string(rc->freq_max) + " Hz, " + beaconing);
        session_started_us_ = now;
        consecutive_failures_ = 0;
        {
            std::lock_guard lock(mutex_);
            router_config_ = std::move(*rc);
        }
        link_status(forwarder::v1::LinkStatus::CONNECTED, conn.peer());
    } else if (auto* dl = std::get_if<Downlink>(&d.message)) {
        host_.stat_add("downlinks_received");
        handle_downlink(*dl);
    } else if (auto* sched = std::get_if<DownlinkSchedule>(&d.message)) {
        for (auto& entry : sched->entries) {
            host_.stat_add("downlinks_received");
            entry.dev_eui = 0; // dnsched frames get no dntxed (§8.3)
            handle_downlink(entry);
        }
    } else if (auto* ts = std::get_if<TimeSync>(&d.message)) {
        handle_timesync(*ts, now);
    } else if (std::get_if<GetXtime>(&d.message)) {
        std::vector<uint64_t> xtimes;
        {
            std::lock_guard lock(mutex_);
            uint32_t units = clocks_.empty() ? 1 : clocks_.rbegin()->first + 1;
            for (uint32_t u = 0; u < std::max<uint32_t>(units, 4); ++u) {
                auto it = clocks_.find(u);
                xtimes.push_back(it == clocks_.end() ? 0 : it->second.xtime_now(now));
            }
        }
        queue_control(encode_getxtime_reply(d.mux_time.value_or(0), static_cast<double>(now) / 1e6,
                                            static_cast<double>(utc_us()) / 1e6, xtimes));
    } else if (auto* cmd = std::get_if<RunCmd>(&d.message)) {
        run_command(*cmd);
    } else if (auto* err = std::get_if<ServerError>(&d.message)) {
        host_.error("the LNS reports an error: " + err->text);
    }
}

void LnsTransport::run_command(const RunCmd& cmd)
{
    const bool allowed = std::find(options_.runcmd_allow.begin(), options_.runcmd_allow.end(),
                                   cmd.command) != options_.runcmd_allow.end();
    if (!allowed) {
        host_.warn("runcmd refused: '" + cmd.command + "' is not in runcmd_allow");
        host_.stat_add("runcmd_refused");
        return;
    }
    std::vector<std::string> args{cmd.command};
    args.insert(args.end(), cmd.arguments.begin(), cmd.arguments.end());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, cmd.command.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
        host_.error("runcmd: cannot run '" + cmd.command + "'");
        return;
    }
    host_.info("runcmd: started '" + cmd.command + "' (pid " + std::to_string(pid) + ")");
    std::thread([pid] {
        int status = 0;
        waitpid(pid, &status, 0);
    }).detach();
}

void LnsTransport::handle_downlink(const Downlink& dl)
{
    auto drop = [&](const std::string& why) {
        host_.stat_add("downlinks_dropped");
        host_.warn(dl.msgtype + " diid " + std::to_string(dl.diid) + " dropped: " + why);
    };
    PendingTx p;
    p.downlink = dl;
    const uint32_t xtime_unit = dl.xtime ? static_cast<uint32_t>((*dl.xtime >> 56) & 0x7F) : 0;
    p.radio = dl.rctx ? (*dl.rctx & 0x7F) : xtime_unit;
    forwarder::v1::TxTiming timing;

    const bool class_b = dl.device_class == 1 || (dl.gpstime.has_value() && !dl.xtime);
    if (class_b) {
        // Class B: the absolute GPS time goes to the core, which maps it to the radio's
        // counter with its clock (PPS, LNS time transfer); no alternative slot.
        if (!dl.gpstime || !dl.rx1) {
            return drop("class B needs gpstime, DR and Freq");
        }
        p.used = *dl.rx1;
        timing.set_gps_time_us(*dl.gpstime);
        submit_tx(std::move(p), timing, nullptr);
        return;
    }
    const bool timed_rx1 = dl.rx1 && dl.xtime;
    const bool timed_rx2 = !dl.rx1 && dl.rx2 && dl.xtime && dl.device_class == 0;
    if (!timed_rx1 && !timed_rx2) {
        if ((dl.device_class == 2 || dl.asap) && (dl.rx2 || dl.rx1)) {
            // Class C: as soon as possible on RX2 (the xtime, if any, is not used); the
            // scheduler retries a refused hand-over (retries 0 = its default).
            p.used = dl.rx2 ? *dl.rx2 : *dl.rx1;
            timing.set_immediate(true);
            submit_tx(std::move(p), timing, nullptr);
            return;
        }
        return drop("no usable window (needs RX1/RX2 fields with xtime, or class C RX2 fields)");
    }

    // Timed by xtime: its radio and session must be live (rule 4), the time not stale.
    const auto session = static_cast<uint8_t>((*dl.xtime >> 48) & 0xFF);
    const uint64_t now = host_.monotonic_us();
    uint64_t at =
        (*dl.xtime & kMask48) + (uint64_t(dl.rx_delay_s) + (timed_rx1 ? 0 : 1)) * 1000000u;
    {
        std::lock_guard lock(mutex_);
        auto it = clocks_.find(xtime_unit);
        if (it == clocks_.end() || it->second.session() != session) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "xtime session 0x%02x of radio %u is not live", session,
                          xtime_unit);
            return drop(buf);
        }
        const RadioClock& base = it->second;
        const int64_t ahead = static_cast<int64_t>(at) - (base.ext_at(now) & int64_t(kMask48));
        if (ahead < -1'000'000 || ahead > 600'000'000) {
            return drop("TX time is " + std::to_string(ahead / 1000) + " ms from now");
        }
        if (p.radio != xtime_unit) {
            // rctx names another radio than the xtime's time base: convert through the
            // host clock (§3.1).
            auto other = clocks_.find(p.radio);
            if (other == clocks_.end() || !other->second.known()) {
                return drop("radio " + std::to_string(p.radio) + " has no time base yet");
            }
            at =
                static_cast<uint64_t>(other->second.ext_at(base.mono_at(static_cast<int64_t>(at))));
        }
    }
    p.used = timed_rx1 ? *dl.rx1 : *dl.rx2;
    timing.set_count_us(static_cast<uint32_t>(at));
    if (timed_rx1 && dl.rx2) {
        // Class A (and class C with RX1 fields): RX2 one second after RX1 (§8.2), tried by the
        // scheduler when RX1 is refused (too late, collision, duty cycle, busy channel, ...).
        p.alternative = *dl.rx2;
        forwarder::v1::TxTiming rx2;
        rx2.set_count_us(static_cast<uint32_t>(at + 1000000u));
        submit_tx(std::move(p), timing, &rx2);
        return;
    }
    submit_tx(std::move(p), timing, nullptr);
}

bool LnsTransport::submit_tx(PendingTx p, const forwarder::v1::TxTiming& timing,
                             const forwarder::v1::TxTiming* alternative_timing)
{
    forwarder::v1::TxRequest req;
    forwarder::v1::Modulation alternative_modulation;
    uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        if (!router_config_ ||
            !dr_modulation(*router_config_, p.used.dr, *req.mutable_modulation())) {
            host_.stat_add("downlinks_dropped");
            host_.warn(p.downlink.msgtype + " diid " + std::to_string(p.downlink.diid) +
                       " dropped: data rate " + std::to_string(p.used.dr) +
                       " is not defined by the router_config");
            return false;
        }
        if (p.alternative &&
            !dr_modulation(*router_config_, p.alternative->dr, alternative_modulation)) {
            host_.warn(p.downlink.msgtype + " diid " + std::to_string(p.downlink.diid) +
                       ": RX2 data rate " + std::to_string(p.alternative->dr) +
                       " is not defined by the router_config; RX1 only");
            p.alternative.reset();
        }
        req.set_power_dbm(static_cast<float>(
            router_config_->max_eirp.value_or(default_max_eirp(router_config_->region))));
        // Results can be lost with a full bus queue: forget requests after 15 minutes.
        const uint64_t now = host_.monotonic_us();
        for (auto it = pending_tx_.begin(); it != pending_tx_.end();) {
            it = now - it->second.created_us > 900'000'000u ? pending_tx_.erase(it) : std::next(it);
        }
        id = next_tx_id_++;
        p.created_us = now;
        pending_tx_[id] = p;
    }
    req.set_id(id);
    req.set_payload(p.downlink.pdu);
    req.set_radio(p.radio);
    req.set_frequency_hz(p.used.freq_hz);
    req.set_invert_iq(true);
    req.set_preamble(p.downlink.preamble);
    req.set_crc(p.downlink.addcrc);
    req.set_priority(p.downlink.priority);
    *req.mutable_timing() = timing;
    if (p.alternative && alternative_timing != nullptr) {
        auto* alternative = req.add_alternatives();
        *alternative->mutable_timing() = *alternative_timing;
        alternative->set_frequency_hz(p.alternative->freq_hz);
        *alternative->mutable_modulation() = alternative_modulation;
    }
    // retries 0 (class C: the scheduler's default), pin_radio false: the scheduler may use
    // another radio whose TX range covers the frequency; dntxed then names it in rctx.
    if (!host_.publish(FWD_TOPIC_TX_REQUEST, req.SerializeAsString())) {
        std::lock_guard lock(mutex_);
        pending_tx_.erase(id);
        host_.stat_add("downlinks_dropped");
        host_.warn(p.downlink.msgtype + " diid " + std::to_string(p.downlink.diid) +
                   " dropped: the TX request could not be published");
        return false;
    }
    return true;
}

void LnsTransport::handle_result(const forwarder::v1::TxResult& r)
{
    PendingTx p;
    {
        std::lock_guard lock(mutex_);
        auto it = pending_tx_.find(r.id());
        if (it == pending_tx_.end()) {
            return;
        }
        p = std::move(it->second);
        pending_tx_.erase(it);
    }
    const Downlink& dl = p.downlink;
    if (r.outcome() != forwarder::v1::OK) {
        // The scheduler has already tried the alternative (RX2): nothing left to try.
        host_.stat_add("downlinks_dropped");
        host_.warn(dl.msgtype + " diid " + std::to_string(dl.diid) +
                   " not transmitted: " + outcome_text(r.outcome()) + " (" + r.detail() + ")" +
                   (p.alternative ? " after trying RX1 and RX2" : ""));
        return;
    }
    host_.stat_add("downlinks_transmitted");
    // What was really used: the requested window or the alternative (RX2).
    Window used = p.used;
    if (r.alternative() == 1 && p.alternative) {
        used = *p.alternative;
        host_.debug(dl.msgtype + " diid " + std::to_string(dl.diid) + ": sent in RX2");
    } else if (r.alternative() != 0) {
        host_.warn(dl.msgtype + " diid " + std::to_string(dl.diid) + ": the scheduler reports " +
                   "alternative " + std::to_string(r.alternative()) + ", which was not offered");
    }
    if (r.frequency_hz() != 0) {
        used.freq_hz = r.frequency_hz();
    }
    if (dl.dev_eui == 0) {
        return; // dnsched, or DevEui 0: no dntxed (§7.6)
    }
    TxReport report;
    report.diid = dl.diid;
    report.dev_eui = dl.dev_eui;
    report.dr = used.dr;
    report.freq_hz = used.freq_hz;
    report.rctx = r.radio();
    report.gpstime = dl.gpstime.value_or(0);
    const uint64_t now = host_.monotonic_us();
    report.txtime = static_cast<double>(now) / 1e6;
    {
        std::lock_guard lock(mutex_);
        auto it = clocks_.find(r.radio());
        report.xtime = it == clocks_.end() ? 0 : it->second.xtime_near(r.count_us(), now);
    }
    queue_control(encode_dntxed(report));
    host_.stat_add("dntxed_sent");
}

} // namespace forwarder::lns

FORWARDER_PLUGIN(forwarder::lns::LnsTransport, "lns", FWD_KIND_TRANSPORT, FORWARDER_LNS_VERSION,
                 "LoRa Basics Station LNS transport (router-info discovery, muxs websocket)",
                 forwarder::lns::kOptions,
                 FWD_TOPIC_BIT(FWD_TOPIC_UPLINK) | FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT) |
                     FWD_TOPIC_BIT(FWD_TOPIC_CREDENTIALS) | FWD_TOPIC_BIT(FWD_TOPIC_TIME_STATUS))
