#pragma once
// A small Semtech UDP (GWMP v2) network server for integration tests, plus a Prometheus
// scrape helper with a strict text-format parser.
//
// UdpServer binds 127.0.0.1 or ::1 on an ephemeral port (one socket serves as both port_up
// and port_down). A receive thread records every datagram (type, token, EUI, JSON body,
// arrival time), answers PUSH_DATA with PUSH_ACK and PULL_DATA with PULL_ACK (each switchable
// off to simulate loss) and remembers where the last PULL_DATA came from, which is where
// send_pull_resp() sends. Every wait is bounded in time.
#include "udp_codec.hpp"

#include <base64.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace forwarder::testing {

struct GwmpDatagram {
    std::string bytes;                 // the whole datagram
    forwarder::udp::PacketType type{}; // from the header
    uint8_t version = 0;
    uint16_t token = 0;
    std::optional<uint64_t> eui; // PUSH_DATA, PULL_DATA, TX_ACK
    std::string json;            // the body after the header ("" if none)
    std::chrono::steady_clock::time_point at;
    uint16_t from_port = 0;
};

class UdpServer {
public:
    using Type = forwarder::udp::PacketType;
    using Predicate = std::function<bool(const GwmpDatagram&)>;

    // Binds ::1 (ipv6) or 127.0.0.1 on an ephemeral port. ok() is false if that failed.
    explicit UdpServer(bool ipv6 = false) : ipv6_(ipv6)
    {
        fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            return;
        }
        int rc = -1;
        if (ipv6) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
            socklen_t len = sizeof a;
            if (rc == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
                port_ = ntohs(a.sin6_port);
            }
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
            socklen_t len = sizeof a;
            if (rc == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
                port_ = ntohs(a.sin_port);
            }
        }
        if (rc != 0 || port_ == 0) {
            ::close(fd_);
            fd_ = -1;
            port_ = 0;
            return;
        }
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }

    ~UdpServer() { stop(); }
    UdpServer(const UdpServer&) = delete;
    UdpServer& operator=(const UdpServer&) = delete;

    bool ok() const { return port_ != 0; }
    int port() const { return port_; }
    const char* host() const { return ipv6_ ? "::1" : "127.0.0.1"; }

    void set_push_ack(bool on) { push_ack_ = on; }
    void set_pull_ack(bool on) { pull_ack_ = on; }

    // Closes the socket and joins the thread: the server is gone (datagrams to its port are
    // refused from then on). Idempotent.
    void stop()
    {
        if (running_.exchange(false) && thread_.joinable()) {
            thread_.join();
        }
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    // Everything received so far, in arrival order.
    std::vector<GwmpDatagram> received() const
    {
        std::lock_guard lock(mutex_);
        return log_;
    }
    size_t mark() const
    {
        std::lock_guard lock(mutex_);
        return log_.size();
    }
    std::vector<GwmpDatagram> of(Type type, size_t from = 0) const
    {
        std::vector<GwmpDatagram> out;
        std::lock_guard lock(mutex_);
        for (size_t i = from; i < log_.size(); ++i) {
            if (log_[i].type == type) {
                out.push_back(log_[i]);
            }
        }
        return out;
    }

    // The first datagram of `type` at index >= `from` that satisfies `pred`, waiting at most
    // `timeout` for it.
    std::optional<GwmpDatagram> wait_for(Type type, const Predicate& pred,
                                         std::chrono::milliseconds timeout, size_t from = 0) const
    {
        auto got = wait_count(type, 1, timeout, pred, from);
        if (got.empty()) {
            return std::nullopt;
        }
        return got.front();
    }
    std::optional<GwmpDatagram> wait_for(Type type, std::chrono::milliseconds timeout,
                                         size_t from = 0) const
    {
        return wait_for(type, nullptr, timeout, from);
    }

    // Datagrams of `type` (index >= from, satisfying pred if given): returns as soon as there
    // are `n` of them, or what there is after `timeout`.
    std::vector<GwmpDatagram> wait_count(Type type, size_t n, std::chrono::milliseconds timeout,
                                         const Predicate& pred = nullptr, size_t from = 0) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::unique_lock lock(mutex_);
        for (;;) {
            std::vector<GwmpDatagram> out;
            for (size_t i = from; i < log_.size() && out.size() < n; ++i) {
                if (log_[i].type == type && (!pred || pred(log_[i]))) {
                    out.push_back(log_[i]);
                }
            }
            if (out.size() >= n || std::chrono::steady_clock::now() >= deadline) {
                return out;
            }
            cv_.wait_until(lock, deadline);
        }
    }

    // Sends a PULL_RESP to where the last PULL_DATA came from. False if none came yet.
    bool send_pull_resp(uint16_t token, const std::string& json)
    {
        return send_down(forwarder::udp::encode_pull_resp(token, json));
    }
    bool send_down(const std::string& datagram)
    {
        sockaddr_storage to{};
        socklen_t len = 0;
        {
            std::lock_guard lock(mutex_);
            if (down_len_ == 0) {
                return false;
            }
            to = down_;
            len = down_len_;
        }
        return ::sendto(fd_, datagram.data(), datagram.size(), 0,
                        reinterpret_cast<const sockaddr*>(&to),
                        len) == static_cast<ssize_t>(datagram.size());
    }
    // One line per datagram received (type, token, size, JSON), for failure messages.
    std::string dump() const
    {
        std::string out;
        std::lock_guard lock(mutex_);
        for (const auto& d : log_) {
            out += "type " + std::to_string(static_cast<int>(d.type)) + " token " +
                   std::to_string(d.token) + " size " + std::to_string(d.bytes.size()) +
                   " from port " + std::to_string(d.from_port) + ": " + d.json + "\n";
        }
        return out;
    }
    bool have_downlink_path() const
    {
        std::lock_guard lock(mutex_);
        return down_len_ != 0;
    }

private:
    void run()
    {
        std::vector<char> buf(65536);
        while (running_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) {
                continue;
            }
            // Bounded: at most 256 datagrams per wake-up before checking running_ again.
            for (int i = 0; i < 256; ++i) {
                sockaddr_storage from{};
                socklen_t len = sizeof from;
                const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                                             reinterpret_cast<sockaddr*>(&from), &len);
                if (n < 0) {
                    break;
                }
                handle(std::string(buf.data(), static_cast<size_t>(n)), from, len);
            }
        }
    }

    void handle(std::string bytes, const sockaddr_storage& from, socklen_t len)
    {
        using namespace forwarder::udp;
        GwmpDatagram d;
        d.at = std::chrono::steady_clock::now();
        d.from_port = from.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<const sockaddr_in6*>(&from)->sin6_port)
                          : ntohs(reinterpret_cast<const sockaddr_in*>(&from)->sin_port);
        const auto header = parse_header(bytes);
        if (!header) {
            d.type = static_cast<PacketType>(0xFF); // recorded, never matches a real type
        } else {
            d.type = header->type;
            d.version = header->version;
            d.token = header->token;
            d.eui = packet_eui(bytes);
            const size_t h = header_size(header->type);
            d.json = bytes.size() > h ? bytes.substr(h) : std::string();
        }
        d.bytes = std::move(bytes);
        std::string answer;
        if (header && header->type == PacketType::push_data && push_ack_) {
            answer = encode_ack(PacketType::push_ack, header->token, header->version);
        } else if (header && header->type == PacketType::pull_data) {
            {
                std::lock_guard lock(mutex_);
                down_ = from;
                down_len_ = len;
            }
            if (pull_ack_) {
                answer = encode_ack(PacketType::pull_ack, header->token, header->version);
            }
        }
        if (!answer.empty()) {
            ::sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<const sockaddr*>(&from),
                     len);
        }
        {
            std::lock_guard lock(mutex_);
            log_.push_back(std::move(d));
        }
        cv_.notify_all();
    }

    bool ipv6_ = false;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> running_{false};
    std::atomic<bool> push_ack_{true};
    std::atomic<bool> pull_ack_{true};
    std::thread thread_;
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    std::vector<GwmpDatagram> log_;
    sockaddr_storage down_{};
    socklen_t down_len_ = 0;
};

// --- LoRaWAN frames for injection ----------------------------------------------------------

// An unconfirmed data up frame (FPort 1, 4 payload bytes, a dummy MIC), base64.
inline std::string data_frame_b64(uint32_t dev_addr, uint16_t fcnt)
{
    std::string f;
    f += static_cast<char>(0x40);
    for (int i = 0; i < 4; ++i) {
        f += static_cast<char>((dev_addr >> (8 * i)) & 0xFF);
    }
    f += static_cast<char>(0x00); // FCtrl
    f += static_cast<char>(fcnt & 0xFF);
    f += static_cast<char>(fcnt >> 8);
    f += static_cast<char>(0x01); // FPort
    f += std::string("\xAA\xBB\xCC\xDD\x11\x22\x33\x44", 8);
    return forwarder::support::base64_encode(f);
}

// One injected rxpk item for the virtual radio (868.1 MHz SF7BW125 unless overridden).
inline std::string rxpk_item(const std::string& data_b64, const std::string& extra = "")
{
    return R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","rssi":-42,"lsnr":7.5,"data":")" +
           data_b64 + "\"" + extra + "}";
}
inline std::string rxpk_datagram(const std::string& item)
{
    return "{\"rxpk\":[" + item + "]}";
}

// --- Prometheus ---------------------------------------------------------------------------

// A parsed exposition: series "name{a="x",b="y"}" (labels sorted by name) -> value.
struct Scrape {
    bool ok = false;
    std::string error; // why parsing failed (line number and reason)
    std::string text;
    std::map<std::string, double> series;
    std::map<std::string, std::string> types; // family -> counter/gauge/untyped/...

    static std::string key(const std::string& name, std::map<std::string, std::string> labels = {})
    {
        std::string k = name;
        if (!labels.empty()) {
            k += '{';
            bool first = true;
            for (const auto& [n, v] : labels) {
                k += (first ? "" : ",") + n + "=\"" + v + "\"";
                first = false;
            }
            k += '}';
        }
        return k;
    }
    bool has(const std::string& name, const std::map<std::string, std::string>& labels = {}) const
    {
        return series.count(key(name, labels)) != 0;
    }
    // The value, or `fallback` when the series is absent.
    double value(const std::string& name, const std::map<std::string, std::string>& labels = {},
                 double fallback = -1) const
    {
        auto it = series.find(key(name, labels));
        return it == series.end() ? fallback : it->second;
    }
};

// Strict parser for the text format 0.0.4 as the forwarder writes it: "# HELP name text",
// "# TYPE name type" (before that family's samples, at most once), samples
// `name{label="value",...} value` or `name value`, no other lines (blank lines excepted), no
// duplicate series, every sample's family declared by a TYPE line first.
inline Scrape parse_prometheus(const std::string& text)
{
    Scrape s;
    s.text = text;
    auto fail = [&](size_t line, const std::string& why) {
        s.ok = false;
        s.error = "line " + std::to_string(line) + ": " + why;
        return s;
    };
    auto name_char = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
               (!first && c >= '0' && c <= '9');
    };
    std::istringstream in(text);
    std::string line;
    size_t no = 0;
    std::string current; // family of the last TYPE line
    std::map<std::string, bool> sampled;
    while (std::getline(in, line)) {
        ++no;
        if (line.empty()) {
            continue;
        }
        if (line[0] == '#') {
            std::istringstream l(line);
            std::string hash, kind, name;
            l >> hash >> kind >> name;
            if (hash != "#" || (kind != "HELP" && kind != "TYPE") || name.empty()) {
                return fail(no, "bad comment line: " + line);
            }
            if (kind == "TYPE") {
                std::string type, extra;
                l >> type;
                if (type != "counter" && type != "gauge" && type != "untyped" &&
                    type != "summary" && type != "histogram") {
                    return fail(no, "bad TYPE: " + line);
                }
                if (l >> extra) {
                    return fail(no, "trailing text after TYPE: " + line);
                }
                if (s.types.count(name) || sampled.count(name)) {
                    return fail(no, "TYPE for " + name + " repeated or after its samples");
                }
                s.types[name] = type;
                current = name;
            }
            continue;
        }
        size_t i = 0;
        while (i < line.size() && name_char(line[i], i == 0)) {
            ++i;
        }
        if (i == 0) {
            return fail(no, "no metric name: " + line);
        }
        const std::string name = line.substr(0, i);
        std::map<std::string, std::string> labels;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                size_t b = i;
                while (i < line.size() && name_char(line[i], i == b)) {
                    ++i;
                }
                if (i == b || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
                    return fail(no, "bad label: " + line);
                }
                const std::string label = line.substr(b, i - b);
                i += 2;
                std::string value;
                while (i < line.size() && line[i] != '"') {
                    if (line[i] == '\\') {
                        if (i + 1 >= line.size()) {
                            return fail(no, "bad escape: " + line);
                        }
                        const char e = line[i + 1];
                        if (e == 'n') {
                            value += '\n';
                        } else if (e == '\\' || e == '"') {
                            value += e;
                        } else {
                            return fail(no, "bad escape: " + line);
                        }
                        i += 2;
                    } else {
                        value += line[i++];
                    }
                }
                if (i >= line.size()) {
                    return fail(no, "unterminated label value: " + line);
                }
                ++i; // closing quote
                if (labels.count(label)) {
                    return fail(no, "repeated label " + label + ": " + line);
                }
                labels[label] = value;
                if (i < line.size() && line[i] == ',') {
                    ++i;
                }
            }
            if (i >= line.size()) {
                return fail(no, "unterminated label set: " + line);
            }
            ++i; // '}'
        }
        if (i >= line.size() || line[i] != ' ') {
            return fail(no, "expected one space before the value: " + line);
        }
        const std::string v = line.substr(i + 1);
        double value = 0;
        if (v == "NaN") {
            value = std::numeric_limits<double>::quiet_NaN();
        } else if (v == "+Inf") {
            value = std::numeric_limits<double>::infinity();
        } else if (v == "-Inf") {
            value = -std::numeric_limits<double>::infinity();
        } else {
            size_t used = 0;
            try {
                value = std::stod(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size()) {
                return fail(no, "bad value (or a timestamp): " + line);
            }
        }
        // The sample's family: the name itself, or for summaries/histograms a suffix of it.
        std::string family = name;
        if (!s.types.count(family)) {
            for (const char* suffix : {"_sum", "_count", "_bucket"}) {
                const std::string sx = suffix;
                if (name.size() > sx.size() &&
                    name.compare(name.size() - sx.size(), sx.size(), sx) == 0 &&
                    s.types.count(name.substr(0, name.size() - sx.size()))) {
                    family = name.substr(0, name.size() - sx.size());
                }
            }
        }
        if (!s.types.count(family) || family != current) {
            return fail(no, "sample without a preceding TYPE line of its family: " + line);
        }
        sampled[family] = true;
        const std::string k = Scrape::key(name, labels);
        if (s.series.count(k)) {
            return fail(no, "duplicate series " + k);
        }
        s.series[k] = value;
    }
    s.ok = true;
    return s;
}

// GET http://127.0.0.1:port/metrics (bounded by a 3 s timeout), parsed strictly. ok is false
// on any HTTP or parse problem (error says which).
inline Scrape scrape_metrics(int port)
{
    Scrape s;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(3, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics",
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        std::string text;
        Poco::StreamCopier::copyToString(body, text);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            s.error = "HTTP " + std::to_string(response.getStatus());
            return s;
        }
        if (response.getContentType().rfind("text/plain; version=0.0.4", 0) != 0) {
            s.error = "content type " + response.getContentType();
            return s;
        }
        return parse_prometheus(text);
    } catch (const std::exception& e) {
        s.error = std::string("scrape failed: ") + e.what();
        return s;
    }
}

// Scrapes until `pred` holds (or `timeout`); returns the last scrape.
inline Scrape wait_metrics(int port, const std::function<bool(const Scrape&)>& pred,
                           std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        Scrape s = scrape_metrics(port);
        if ((s.ok && pred(s)) || std::chrono::steady_clock::now() >= deadline) {
            return s;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// The port of "serving Prometheus metrics at http://HOST:PORT/metrics" in a log, 0 if absent.
inline int metrics_port_from_log(const std::string& log)
{
    const std::string marker = "serving Prometheus metrics at http://";
    const auto pos = log.find(marker);
    if (pos == std::string::npos) {
        return 0;
    }
    const auto end = log.find("/metrics", pos + marker.size());
    const auto colon = log.rfind(':', end);
    if (end == std::string::npos || colon == std::string::npos || colon < pos) {
        return 0;
    }
    try {
        return std::stoi(log.substr(colon + 1, end - colon - 1));
    } catch (const std::exception&) {
        return 0;
    }
}

} // namespace forwarder::testing
