#include "udp_transport.hpp"

#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace forwarder::udp {

namespace {

constexpr uint64_t kSecond = 1'000'000;
constexpr uint64_t kRateWindowUs = 11'000; // 10 ms (TTS's window) + 1 ms of margin
constexpr size_t kRecentUplinks = 512;
constexpr uint64_t kRecentUplinkAgeUs = 10 * kSecond;
constexpr uint64_t kPendingTxAgeUs = 15 * 60 * kSecond; // beyond the scheduler's horizon
constexpr uint32_t kClassADelaysS[] = {1, 2, 5, 6};     // RX1/RX2, join RX1/RX2

std::string errno_text(int e)
{
    return std::strerror(e);
}

int64_t int_option(const YAML::Node& n, const char* key, int64_t min, int64_t max, const char* unit)
{
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < min || v > max) {
        throw sdk::Error(std::string(key) + ": expected " + unit + " from " + std::to_string(min) +
                         " to " + std::to_string(max));
    }
    return v;
}

double float_option(const YAML::Node& n, const std::string& key, double min, double max)
{
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= min && v <= max)) {
        throw sdk::Error(key + ": expected a number from " + std::to_string(min) + " to " +
                         std::to_string(max));
    }
    return v;
}

} // namespace

UdpOptions UdpOptions::parse(const std::string& yaml)
{
    UdpOptions o;
    YAML::Node n;
    try {
        n = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw sdk::Error(std::string("options: invalid YAML: ") + e.what());
    }
    if (!n.IsMap()) {
        throw sdk::Error("server: missing (the network server's host name or address)");
    }
    for (const auto& kv : n) {
        const auto key = kv.first.as<std::string>();
        const YAML::Node& v = kv.second;
        if (key == "server") {
            if (!v.IsScalar() || v.Scalar().empty()) {
                throw sdk::Error("server: expected a host name or an IPv4/IPv6 address");
            }
            o.server = v.Scalar();
            if (o.server.size() > 2 && o.server.front() == '[' && o.server.back() == ']') {
                o.server = o.server.substr(1, o.server.size() - 2);
            }
        } else if (key == "port_up") {
            o.port_up = static_cast<uint16_t>(int_option(v, "port_up", 1, 65535, "a UDP port"));
        } else if (key == "port_down") {
            o.port_down = static_cast<uint16_t>(int_option(v, "port_down", 1, 65535, "a UDP port"));
        } else if (key == "keepalive") {
            // Servers drop the downlink path after 15 s without PULL_DATA (TTS before 2021; the
            // Console still shows the gateway as disconnected after 15 s).
            o.keepalive_s = static_cast<uint32_t>(
                int_option(v, "keepalive", 1, 14, "seconds (under the 15 s servers allow)"));
        } else if (key == "stat_interval") {
            o.stat_interval_s = static_cast<uint32_t>(
                int_option(v, "stat_interval", 0, 3600, "seconds (0 = no stat)"));
        } else if (key == "push_timeout") {
            o.push_timeout_ms =
                static_cast<uint32_t>(int_option(v, "push_timeout", 10, 5000, "milliseconds"));
        } else if (key == "rate_limit") {
            o.rate_limit = static_cast<uint32_t>(
                int_option(v, "rate_limit", 0, 1000, "datagrams per 10 ms (0 = no limit)"));
        } else if (key == "radio") {
            o.radio = static_cast<uint32_t>(int_option(v, "radio", 0, 255, "a radio index"));
        } else if (key == "queue_max") {
            o.queue_max = static_cast<size_t>(
                int_option(v, "queue_max", 1, 1'000'000, "a number of uplinks"));
        } else if (key == "queue_max_age_s") {
            o.queue_max_age_s =
                static_cast<uint32_t>(int_option(v, "queue_max_age_s", 1, 3600, "seconds"));
        } else if (key == "max_datagram_json") {
            o.max_datagram_json =
                static_cast<size_t>(int_option(v, "max_datagram_json", 512, 65000, "bytes"));
        } else if (key == "position") {
            if (!v.IsMap()) {
                throw sdk::Error("position: expected {latitude, longitude, altitude}");
            }
            for (const auto& p : v) {
                const auto k = p.first.as<std::string>();
                if (k == "latitude") {
                    o.latitude = float_option(p.second, "position.latitude", -90, 90);
                } else if (k == "longitude") {
                    o.longitude = float_option(p.second, "position.longitude", -180, 180);
                } else if (k == "altitude") {
                    o.altitude_m = static_cast<int32_t>(
                        int_option(p.second, "position.altitude", -1000, 100000, "metres"));
                } else {
                    throw sdk::Error("position." + k +
                                     ": unknown key (expected latitude, longitude, altitude)");
                }
            }
            if (o.latitude.has_value() != o.longitude.has_value()) {
                throw sdk::Error("position: needs both latitude and longitude");
            }
        } else {
            throw sdk::Error(key + ": unknown option");
        }
    }
    if (o.server.empty()) {
        throw sdk::Error("server: missing (the network server's host name or address)");
    }
    return o;
}

UdpTransport::UdpTransport(sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml)
    : host_(host), name_(info.instance_name), gateway_eui_(info.gateway_eui),
      options_(UdpOptions::parse(yaml)), rng_(std::random_device{}())
{
}

UdpTransport::~UdpTransport()
{
    stop();
}

void UdpTransport::start()
{
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        throw sdk::Error("cannot create an eventfd: " + errno_text(errno));
    }
    host_.stat_set("connected", 0);
    host_.info("Semtech UDP to " + options_.server + " (up " + std::to_string(options_.port_up) +
               ", down " + std::to_string(options_.port_down) + "), keepalive " +
               std::to_string(options_.keepalive_s) + " s, stat every " +
               std::to_string(options_.stat_interval_s) + " s");
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void UdpTransport::stop()
{
    if (!running_.exchange(false)) {
        return;
    }
    wake();
    if (thread_.joinable()) {
        thread_.join();
    }
    close_sockets();
    ::close(wake_fd_);
    wake_fd_ = -1;
    host_.stat_set("connected", 0);
}

void UdpTransport::wake()
{
    if (wake_fd_ >= 0) {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }
}

// --- bus side (delivery thread) ---------------------------------------------------------------

void UdpTransport::deliver(uint32_t topic, std::string_view bytes)
{
    if (topic == FWD_TOPIC_UPLINK) {
        forwarder::v1::Uplink up;
        if (!up.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            host_.stat_add("malformed_events");
            return;
        }
        QueuedUplink q;
        try {
            q.rxpk = rxpk_json(up, true);
        } catch (const std::exception& e) {
            host_.stat_add("malformed_events");
            host_.debug(std::string("uplink not sent: ") + e.what());
            return;
        }
        q.queued_us = host_.monotonic_us();
        size_t dropped = 0;
        {
            std::lock_guard lock(mutex_);
            ++interval_.rxnb;
            interval_.rxok += up.crc() == forwarder::v1::CRC_OK ? 1 : 0;
            recent_.push_back({up.count_us(), up.radio(), q.queued_us});
            while (
                recent_.size() > kRecentUplinks ||
                (!recent_.empty() && q.queued_us - recent_.front().mono_us > kRecentUplinkAgeUs)) {
                recent_.pop_front();
            }
            uplinks_.push_back(std::move(q));
            while (uplinks_.size() > options_.queue_max) {
                uplinks_.pop_front();
                ++dropped;
            }
        }
        if (dropped > 0) {
            host_.stat_add("uplinks_dropped", static_cast<int64_t>(dropped));
        }
        wake();
    } else if (topic == FWD_TOPIC_TX_RESULT) {
        forwarder::v1::TxResult r;
        if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            host_.stat_add("malformed_events");
            return;
        }
        if (r.requester() == name_) {
            handle_result(r);
        }
    } else if (topic == FWD_TOPIC_GATEWAY_STATS) {
        forwarder::v1::GatewayStats s;
        if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            host_.stat_add("malformed_events");
            return;
        }
        // The first radio that reports a temperature (stat "<radio>.temperature_mc").
        for (const auto& c : s.counters()) {
            const std::string& n = c.name();
            const std::string suffix = ".temperature_mc";
            if (n.size() > suffix.size() &&
                n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
                std::lock_guard lock(mutex_);
                temperature_c_ = static_cast<double>(c.value()) / 1000.0;
                break;
            }
        }
    }
}

// A provisional result (admitted) or a refusal is the scheduler's verdict: answer the PULL_RESP
// with TX_ACK now, not after emission (TTS measures its round trip with it, ChirpStack falls
// back to the next downlink item on an error).
void UdpTransport::handle_result(const forwarder::v1::TxResult& result)
{
    std::string datagram;
    {
        std::lock_guard lock(mutex_);
        auto it = pending_tx_.find(result.id());
        if (it == pending_tx_.end()) {
            return;
        }
        PendingTx& p = it->second;
        const bool ok = result.outcome() == forwarder::v1::OK;
        if (result.admitted()) {
            if (!p.acked) {
                p.acked = true;
                std::optional<float> lowered;
                if (result.power_limited()) {
                    lowered = result.power_dbm();
                }
                datagram =
                    encode_tx_ack(p.token, gateway_eui_, tx_ack_json(result.outcome(), lowered));
            }
        } else {
            if (ok) {
                ++interval_.txnb;
            }
            if (!p.acked) {
                std::optional<float> lowered;
                if (ok && result.power_limited()) {
                    lowered = result.power_dbm();
                }
                datagram =
                    encode_tx_ack(p.token, gateway_eui_, tx_ack_json(result.outcome(), lowered));
            }
            const bool failed_after_ack = p.acked && !ok;
            pending_tx_.erase(it);
            if (failed_after_ack) {
                host_.stat_add("downlinks_failed_after_ack");
                host_.info("downlink " + std::to_string(result.id()) + " was acknowledged but " +
                           "not sent: " + forwarder::v1::TxOutcome_Name(result.outcome()) + " (" +
                           result.detail() + ")");
            }
        }
        if (!datagram.empty()) {
            tx_acks_.push_back(datagram);
        }
    }
    if (!result.admitted()) {
        host_.stat_add(result.outcome() == forwarder::v1::OK ? "downlinks_transmitted"
                                                             : "downlinks_refused");
        if (result.outcome() != forwarder::v1::OK) {
            host_.info("downlink " + std::to_string(result.id()) + " refused: " +
                       forwarder::v1::TxOutcome_Name(result.outcome()) + " -> TX_ACK " +
                       tx_ack_error(result.outcome()) + " (" + result.detail() + ")");
        }
    }
    if (!datagram.empty()) {
        wake();
    }
}

// --- I/O thread -------------------------------------------------------------------------------

std::string UdpTransport::peer(uint16_t port) const
{
    const bool v6 = address_text_.find(':') != std::string::npos;
    return (v6 ? "[" + address_text_ + "]" : address_text_) + ":" + std::to_string(port);
}

bool UdpTransport::resolve()
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const int rc = ::getaddrinfo(options_.server.c_str(), nullptr, &hints, &result);
    if (rc != 0 || result == nullptr) {
        const std::string why = "cannot resolve " + options_.server + ": " +
                                (rc == EAI_SYSTEM ? errno_text(errno) : gai_strerror(rc));
        if (why != last_failure_) {
            host_.warn(why);
            last_failure_ = why;
        }
        host_.stat_add("connection_failures");
        return false;
    }
    std::memcpy(&address_, result->ai_addr, result->ai_addrlen);
    address_len_ = result->ai_addrlen;
    ::freeaddrinfo(result);
    char text[INET6_ADDRSTRLEN] = {0};
    const void* raw =
        address_.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&address_)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&address_)->sin_addr);
    ::inet_ntop(address_.ss_family, raw, text, sizeof text);
    address_text_ = text;
    return true;
}

bool UdpTransport::open_sockets()
{
    close_sockets();
    auto open_one = [&](uint16_t port) {
        sockaddr_storage target = address_;
        if (target.ss_family == AF_INET6) {
            reinterpret_cast<sockaddr_in6*>(&target)->sin6_port = htons(port);
        } else {
            reinterpret_cast<sockaddr_in*>(&target)->sin_port = htons(port);
        }
        const int fd = ::socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            return -1;
        }
        // connect(): only the server's datagrams arrive; the kernel picks the source port.
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), address_len_) != 0) {
            const int e = errno;
            ::close(fd);
            errno = e;
            return -1;
        }
        return fd;
    };
    up_fd_ = open_one(options_.port_up);
    down_fd_ = up_fd_ >= 0 ? open_one(options_.port_down) : -1;
    if (up_fd_ < 0 || down_fd_ < 0) {
        const std::string why =
            "cannot open a UDP socket to " + peer(options_.port_up) + ": " + errno_text(errno);
        if (why != last_failure_) {
            host_.warn(why);
            last_failure_ = why;
        }
        host_.stat_add("connection_failures");
        close_sockets();
        return false;
    }
    host_.info("sending to " + peer(options_.port_up) +
               (options_.port_down != options_.port_up
                    ? " (downlink path " + peer(options_.port_down) + ")"
                    : std::string()));
    return true;
}

void UdpTransport::close_sockets()
{
    for (int* fd : {&up_fd_, &down_fd_}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
    pull_pending_.reset();
    pushes_.clear();
}

bool UdpTransport::rate_allows(uint64_t now) const
{
    return options_.rate_limit == 0 || sent_times_.size() < options_.rate_limit ||
           now - sent_times_.front() >= kRateWindowUs;
}

bool UdpTransport::send_datagram(int fd, const std::string& datagram, const char* what)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        const ssize_t n = ::send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(datagram.size())) {
            sent_times_.push_back(host_.monotonic_us());
            while (sent_times_.size() > std::max<size_t>(options_.rate_limit, 1)) {
                sent_times_.pop_front();
            }
            return true;
        }
        // A connected UDP socket reports an earlier ICMP "port unreachable" on its next call:
        // that error belongs to a datagram already gone, so send once more.
        if (n < 0 && errno == ECONNREFUSED && attempt == 0) {
            continue;
        }
        host_.stat_add("send_errors");
        host_.debug(std::string("cannot send ") + what + " to " + address_text_ + ": " +
                    (n < 0 ? errno_text(errno) : std::string("short write")));
        return false;
    }
    return false;
}

void UdpTransport::path_state(bool up, const std::string& why)
{
    if (up == path_up_) {
        return;
    }
    path_up_ = up;
    host_.stat_set("connected", up ? 1 : 0);
    if (up) {
        host_.stat_add("connections");
        host_.info("downlink path to " + peer(options_.port_down) + " is up");
        last_failure_.clear();
    } else {
        host_.stat_add("connection_failures");
        host_.warn("downlink path to " + peer(options_.port_down) + " lost: " + why);
    }
}

void UdpTransport::send_pull_data(uint64_t now)
{
    if (pull_pending_) {
        ++pull_misses_;
        host_.stat_add("pull_unacked");
        if (pull_misses_ >= options_.keepalive_misses) {
            path_state(false, std::to_string(pull_misses_) + " PULL_DATA without PULL_ACK");
            // The server may have moved: resolve its name again and start over with new sockets.
            pull_misses_ = 0;
            close_sockets();
            next_resolve_us_ = now;
            return;
        }
    }
    const auto token = static_cast<uint16_t>(rng_());
    if (send_datagram(down_fd_, encode_pull_data(token, gateway_eui_), "PULL_DATA")) {
        host_.stat_add("pull_data_sent");
    }
    pull_pending_ = std::make_pair(token, now);
    next_pull_us_ = now + options_.keepalive_s * kSecond;
}

void UdpTransport::send_stat(uint64_t now)
{
    Stat stat;
    stat.unix_time_s = static_cast<int64_t>(std::time(nullptr));
    stat.latitude = options_.latitude;
    stat.longitude = options_.longitude;
    stat.altitude_m = options_.altitude_m;
    {
        std::lock_guard lock(mutex_);
        stat.rxnb = interval_.rxnb;
        stat.rxok = interval_.rxok;
        stat.rxfw = interval_.rxfw;
        stat.dwnb = interval_.dwnb;
        stat.txnb = interval_.txnb;
        stat.ackr = interval_.pushes == 0 ? 0.0 : 100.0 * interval_.push_acks / interval_.pushes;
        stat.temperature_c = temperature_c_;
        interval_ = Interval{};
    }
    host_.stat_set("ackr_permille", static_cast<int64_t>(std::lround(stat.ackr * 10)));
    const auto bodies = push_data_bodies({}, stat_json(stat), options_.max_datagram_json);
    for (const auto& body : bodies) {
        const auto token = static_cast<uint16_t>(rng_());
        if (send_datagram(up_fd_, encode_push_data(token, gateway_eui_, body), "stat")) {
            pushes_.push_back({token, now, 0});
            std::lock_guard lock(mutex_);
            ++interval_.pushes;
        }
    }
    host_.stat_add("stat_sent");
    next_stat_us_ = now + options_.stat_interval_s * kSecond;
}

// Sends what is queued, batched into as few PUSH_DATA as fit max_datagram_json, but never more
// datagrams than the rate limit allows: what does not fit now goes back to the front of the
// queue (and batches up further). Returns false if it stopped because of the rate limit.
bool UdpTransport::send_uplinks(uint64_t now)
{
    // Take only what the rate limit lets out now (datagrams left in the window × their size):
    // the rest stays queued, so a long backlog costs nothing per pass.
    size_t budget_bytes = SIZE_MAX;
    if (options_.rate_limit != 0) {
        size_t recent = 0;
        const uint64_t t = host_.monotonic_us();
        for (uint64_t sent : sent_times_) {
            recent += t - sent < kRateWindowUs ? 1 : 0;
        }
        const size_t datagrams = options_.rate_limit > recent ? options_.rate_limit - recent : 0;
        if (datagrams == 0) {
            return false;
        }
        budget_bytes = datagrams * options_.max_datagram_json;
    }
    std::vector<QueuedUplink> batch;
    size_t expired = 0;
    size_t taken_bytes = 0;
    {
        std::lock_guard lock(mutex_);
        while (!uplinks_.empty()) {
            if (!batch.empty() && taken_bytes + uplinks_.front().rxpk.size() + 1 > budget_bytes) {
                break;
            }
            // `now` was read before this uplink may have been queued: compare without wrapping.
            const uint64_t queued = uplinks_.front().queued_us;
            if (now > queued && now - queued > options_.queue_max_age_s * kSecond) {
                ++expired;
            } else {
                taken_bytes += uplinks_.front().rxpk.size() + 1;
                batch.push_back(std::move(uplinks_.front()));
            }
            uplinks_.pop_front();
        }
    }
    if (expired > 0) {
        host_.stat_add("uplinks_dropped", static_cast<int64_t>(expired));
    }
    if (batch.empty()) {
        return true;
    }
    bool more = false;
    {
        std::lock_guard lock(mutex_);
        more = !uplinks_.empty();
    }
    std::vector<std::string> rxpks;
    rxpks.reserve(batch.size());
    for (const auto& q : batch) {
        rxpks.push_back(q.rxpk);
    }
    std::vector<size_t> counts;
    const auto bodies = push_data_bodies(rxpks, "", options_.max_datagram_json, &counts);
    size_t consumed = 0; // rxpk of `batch` placed in bodies sent (or failed) so far
    size_t forwarded = 0;
    size_t failed = 0;
    size_t sent_bodies = 0;
    bool limited = false;
    for (size_t b = 0; b < bodies.size(); ++b) {
        const std::string& body = bodies[b];
        if (!rate_allows(host_.monotonic_us())) {
            limited = true;
            break;
        }
        const size_t count = counts[b];
        const auto token = static_cast<uint16_t>(rng_());
        if (send_datagram(up_fd_, encode_push_data(token, gateway_eui_, body), "PUSH_DATA")) {
            pushes_.push_back({token, host_.monotonic_us(), count});
            forwarded += count;
            ++sent_bodies;
            host_.stat_add("push_data_sent");
        } else {
            failed += count;
        }
        consumed += count;
    }
    {
        std::lock_guard lock(mutex_);
        // Unsent uplinks keep their place (and age) at the front of the queue.
        for (size_t i = batch.size(); i > consumed; --i) {
            uplinks_.push_front(std::move(batch[i - 1]));
        }
        interval_.rxfw += static_cast<uint32_t>(forwarded);
        interval_.pushes += static_cast<uint32_t>(sent_bodies);
    }
    host_.stat_add("uplinks_forwarded", static_cast<int64_t>(forwarded));
    if (failed > 0) {
        host_.stat_add("uplinks_dropped", static_cast<int64_t>(failed));
    }
    if (limited || more) {
        host_.stat_add("rate_limited");
    }
    return !limited && !more;
}

void UdpTransport::receive_up()
{
    char buf[2048];
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(up_fd_, buf, sizeof buf, 0);
        if (n < 0) {
            return; // EAGAIN, or an ICMP error for an earlier datagram
        }
        const auto header = parse_header(std::string_view(buf, static_cast<size_t>(n)));
        if (!header || header->type != PacketType::push_ack) {
            host_.stat_add("malformed_datagrams");
            continue;
        }
        for (auto it = pushes_.begin(); it != pushes_.end(); ++it) {
            if (it->token == header->token) {
                pushes_.erase(it);
                host_.stat_add("push_acks");
                std::lock_guard lock(mutex_);
                ++interval_.push_acks;
                break;
            }
        }
    }
}

void UdpTransport::receive_down(uint64_t now)
{
    char buf[65536];
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(down_fd_, buf, sizeof buf, 0);
        if (n < 0) {
            return;
        }
        const std::string_view datagram(buf, static_cast<size_t>(n));
        const auto header = parse_header(datagram);
        if (!header) {
            host_.stat_add("malformed_datagrams");
            continue;
        }
        if (header->type == PacketType::pull_ack) {
            if (pull_pending_ && pull_pending_->first == header->token) {
                pull_pending_.reset();
                pull_misses_ = 0;
                host_.stat_add("pull_acks");
                path_state(true, "");
            } else {
                host_.stat_add("pull_acks_out_of_sync");
            }
        } else if (header->type == PacketType::pull_resp) {
            handle_pull_resp(*header, datagram.substr(4), now);
        } else {
            host_.stat_add("malformed_datagrams");
        }
    }
}

uint32_t UdpTransport::downlink_radio(const Txpk& txpk, uint64_t now)
{
    if (txpk.board) {
        return *txpk.board;
    }
    if (txpk.request.timing().when_case() == forwarder::v1::TxTiming::kCountUs) {
        const uint32_t t = txpk.request.timing().count_us();
        std::lock_guard lock(mutex_);
        for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
            if (now > it->mono_us && now - it->mono_us > kRecentUplinkAgeUs) {
                break;
            }
            for (uint32_t d : kClassADelaysS) {
                if (t == it->count_us + d * 1'000'000u) {
                    return it->radio;
                }
            }
        }
    }
    return options_.radio;
}

void UdpTransport::handle_pull_resp(const Header& header, std::string_view body, uint64_t now)
{
    host_.stat_add("downlinks_received");
    {
        std::lock_guard lock(mutex_);
        ++interval_.dwnb;
    }
    Txpk txpk;
    try {
        txpk = parse_pull_resp(body);
    } catch (const std::exception& e) {
        // An answer rather than silence: ChirpStack then tries the next item (RX2).
        host_.stat_add("downlinks_malformed");
        host_.warn("PULL_RESP from " + peer(options_.port_down) + " refused: " + e.what());
        send_datagram(down_fd_,
                      encode_tx_ack(header.token, gateway_eui_,
                                    tx_ack_json(forwarder::v1::TX_OUTCOME_UNSPECIFIED, {})),
                      "TX_ACK");
        return;
    }
    for (const auto& w : txpk.warnings) {
        host_.debug("PULL_RESP: " + w);
    }
    auto& request = txpk.request;
    request.set_radio(downlink_radio(txpk, now));
    request.set_report_admission(true);
    uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_tx_id_++;
        pending_tx_[id] = PendingTx{header.token, false, now};
    }
    request.set_id(id);
    if (!host_.publish(FWD_TOPIC_TX_REQUEST, request.SerializeAsString())) {
        {
            std::lock_guard lock(mutex_);
            pending_tx_.erase(id);
        }
        host_.warn("could not hand a downlink to the scheduler");
        send_datagram(down_fd_,
                      encode_tx_ack(header.token, gateway_eui_,
                                    tx_ack_json(forwarder::v1::TX_OUTCOME_UNSPECIFIED, {})),
                      "TX_ACK");
    }
}

void UdpTransport::expire(uint64_t now)
{
    const uint64_t push_timeout = options_.push_timeout_ms * 1000ull;
    while (!pushes_.empty() && now - pushes_.front().sent_us > push_timeout) {
        pushes_.pop_front();
        host_.stat_add("push_unacked");
    }
    std::lock_guard lock(mutex_);
    for (auto it = pending_tx_.begin(); it != pending_tx_.end();) {
        it = now - it->second.created_us > kPendingTxAgeUs ? pending_tx_.erase(it) : std::next(it);
    }
}

void UdpTransport::run()
{
    uint64_t now = host_.monotonic_us();
    next_resolve_us_ = now;
    next_stat_us_ = now + options_.stat_interval_s * kSecond;
    while (running_) {
        now = host_.monotonic_us();
        if (up_fd_ < 0 && now >= next_resolve_us_) {
            if (resolve() && open_sockets()) {
                resolve_failures_ = 0;
                next_pull_us_ = now; // a PULL_DATA at once opens the downlink path
            } else {
                // 1, 2, 4 ... 30 s between attempts; uplinks wait in the queue meanwhile.
                const uint32_t step = std::min<uint32_t>(resolve_failures_++, 5);
                next_resolve_us_ = now + std::min<uint64_t>(kSecond << step, 30 * kSecond);
            }
        }
        expire(now);
        bool waiting_for_rate = false;
        if (up_fd_ >= 0) {
            std::deque<std::string> acks;
            {
                std::lock_guard lock(mutex_);
                acks.swap(tx_acks_);
            }
            for (const auto& a : acks) {
                if (send_datagram(down_fd_, a, "TX_ACK")) {
                    host_.stat_add("tx_acks_sent");
                }
            }
            if (now >= next_pull_us_) {
                send_pull_data(now);
            }
            if (up_fd_ >= 0 && options_.stat_interval_s > 0 && now >= next_stat_us_) {
                send_stat(now);
            }
            if (up_fd_ >= 0) {
                bool queued = false;
                {
                    std::lock_guard lock(mutex_);
                    queued = !uplinks_.empty();
                }
                if (queued) {
                    // Uplinks beyond the rate limit wait and batch up meanwhile.
                    waiting_for_rate = !send_uplinks(now);
                }
            }
        }
        // Sleep until the next deadline, a datagram or a wake-up.
        uint64_t next = now + kSecond;
        if (up_fd_ < 0) {
            next = std::min<uint64_t>(next, next_resolve_us_);
        } else {
            next = std::min<uint64_t>(
                {next, next_pull_us_, options_.stat_interval_s > 0 ? next_stat_us_ : next});
            if (!pushes_.empty()) {
                next = std::min<uint64_t>(next, pushes_.front().sent_us +
                                                    options_.push_timeout_ms * 1000ull);
            }
        }
        if (waiting_for_rate && !sent_times_.empty()) {
            // The window opens when the oldest of the last datagrams is old enough.
            next = std::min<uint64_t>(next, sent_times_.front() + kRateWindowUs);
        }
        const int timeout_ms =
            next <= now ? 0 : static_cast<int>(std::min<uint64_t>((next - now + 999) / 1000, 1000));
        pollfd fds[3] = {{wake_fd_, POLLIN, 0}, {up_fd_, POLLIN, 0}, {down_fd_, POLLIN, 0}};
        const nfds_t count = up_fd_ >= 0 ? 3 : 1;
        if (::poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
            host_.error("poll failed: " + errno_text(errno));
            return;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t v = 0;
            [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
        }
        now = host_.monotonic_us();
        if (count == 3) {
            if (fds[1].revents & (POLLIN | POLLERR)) {
                receive_up();
            }
            if (fds[2].revents & (POLLIN | POLLERR)) {
                receive_down(now);
            }
        }
    }
}

} // namespace forwarder::udp

namespace {

const fwd_option kOptions[] = {
    {"server", FWD_OPT_STRING, 1, nullptr,
     "network server host name or IPv4/IPv6 address (re-resolved when the path is lost)"},
    {"port_up", FWD_OPT_INT, 0, "1700", "server UDP port for PUSH_DATA (uplinks, stat)"},
    {"port_down", FWD_OPT_INT, 0, "1700", "server UDP port for PULL_DATA, PULL_RESP and TX_ACK"},
    {"keepalive", FWD_OPT_INT, 0, "5",
     "seconds between PULL_DATA keepalives (1..14: servers drop the downlink path after 15 s)"},
    {"stat_interval", FWD_OPT_INT, 0, "30", "seconds between stat reports (0 = none)"},
    {"push_timeout", FWD_OPT_INT, 0, "100",
     "milliseconds a PUSH_DATA waits for its PUSH_ACK before it counts as unacknowledged "
     "(ackr); there is no retransmission in this protocol"},
    {"rate_limit", FWD_OPT_INT, 0, "8",
     "at most this many datagrams per 10 ms (The Things Stack drops a gateway's datagrams beyond "
     "10 per 10 ms); uplinks beyond it wait and batch up; 0 = no limit"},
    {"radio", FWD_OPT_INT, 0, "0",
     "radio for downlinks that name no board (brd) and match no recent uplink's tmst"},
    {"queue_max", FWD_OPT_INT, 0, "1000",
     "uplinks kept while the server's name cannot be resolved (oldest dropped first)"},
    {"queue_max_age_s", FWD_OPT_INT, 0, "30",
     "uplinks older than this are dropped instead of sent (servers pair tmst with their receive "
     "time to model the gateway clock)"},
    {"max_datagram_json", FWD_OPT_INT, 0, "1400",
     "largest JSON body of one PUSH_DATA in bytes; more rxpk are split over several datagrams"},
    {"position", FWD_OPT_MAP, 0, nullptr,
     "{latitude, longitude, altitude}: the gateway position reported in stat (like "
     "fake_gps / ref_latitude of Semtech's forwarder)"},
    {nullptr, 0, 0, nullptr, nullptr}};

} // namespace

FORWARDER_PLUGIN(forwarder::udp::UdpTransport, "semtech-udp", FWD_KIND_TRANSPORT, "1.0.0",
                 "Semtech UDP packet forwarder protocol (GWMP v2): PUSH_DATA, PULL_DATA, "
                 "PULL_RESP, TX_ACK",
                 kOptions,
                 FWD_TOPIC_BIT(FWD_TOPIC_UPLINK) | FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT) |
                     FWD_TOPIC_BIT(FWD_TOPIC_GATEWAY_STATS))
