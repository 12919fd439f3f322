// Uplink path benchmark on the real binary: frames injected into the virtual radio over UDP
// → event bus → a transport → a sink this program reads, so every frame is counted when it
// leaves the forwarder and its latency is taken from a CLOCK_MONOTONIC stamp the sender put
// in the payload.
//
//   uplink-bench [--sink capture|lns] [RATE] [SECONDS]
//   uplink-bench --sink udp|lns+udp [--metrics] [RATE=12000] [SECONDS=5]
//   uplink-bench --help
//
//   capture  the capture transport writing JSON lines to a FIFO (latency at 1,000/s)
//   lns      the LNS transport over ws:// on 127.0.0.1 to forwarder-lns-sim, whose
//            printed messages are the receipts (latency at 500/s)
//   udp      the semtech-udp transport to a GWMP server inside this program (udp_sink.hpp:
//            PUSH_ACK / PULL_ACK, every PUSH_DATA decoded, every rxpk timestamped)
//   lns+udp  both transports active in one forwarder; every frame is identified by its stamp
//            at each sink, so latency and loss are per transport in the same run
//
// Prints idle RSS, latency percentiles, sustained throughput, CPU seconds per 10k uplinks
// and peak RSS. The udp modes also step the rate (1k..32k/s, 2 s a step) for the highest rate
// each transport carries without loss, and report PUSH_DATA per second, rxpk per datagram and
// the datagram pacing (kernel receive times) against TTS's 10-per-10-ms limit. Every phase is
// bounded in time and count; a udp mode takes about a minute.
#include "base64.hpp"
#include "udp_sink.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

// A LoRaWAN data up frame: MHDR, DevAddr, FCtrl, FCnt, FPort (9 bytes), then the stamp.
constexpr size_t kStampAt = 9;

uint64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

long status_kb(pid_t pid, const char* key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) {
            return std::stol(line.substr(std::strlen(key)));
        }
    }
    return -1;
}

double cpu_seconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14)
            utime = std::stoul(f);
        if (i == 15)
            stime = std::stoul(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Reads capture lines from the FIFO; records the latency of every stamped uplink.
class Receiver {
public:
    // keep_arrivals: also keep (stamp, arrival) per frame for take_arrivals() (--sink lns+udp).
    explicit Receiver(int fd, bool keep_arrivals = false)
        : fd_(fd), keep_arrivals_(keep_arrivals), thread_([this] { run(); })
    {
    }
    ~Receiver()
    {
        stop_ = true;
        thread_.join();
    }
    uint64_t count() const { return count_.load(); }
    std::vector<double> take_latencies_us()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(latencies_, {});
    }
    std::vector<bench::Arrival> take_arrivals()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(arrivals_, {});
    }

private:
    void run()
    {
        std::string buf;
        char chunk[65536];
        while (!stop_) {
            const ssize_t n = read(fd_, chunk, sizeof chunk);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) {
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                    continue;
                }
                if (n == 0) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    continue;
                }
                break;
            }
            buf.append(chunk, static_cast<size_t>(n));
            size_t start = 0, nl;
            while ((nl = buf.find('\n', start)) != std::string::npos) {
                line(buf.substr(start, nl - start));
                start = nl + 1;
            }
            buf.erase(0, start);
        }
    }
    void line(const std::string& l)
    {
        const uint64_t t = now_ns();
        std::string frame_part;
        if (l.find("\"type\":\"uplink\"") != std::string::npos) {
            // capture: the whole frame, base64; the stamp follows the 9-byte header.
            const auto p = l.find("\"data\":\"");
            if (p == std::string::npos) {
                return;
            }
            const auto e = l.find('"', p + 8);
            std::string payload;
            forwarder::support::base64_decode(std::string_view(l).substr(p + 8, e - p - 8),
                                              payload);
            if (payload.size() >= kStampAt + 8) {
                frame_part = payload.substr(kStampAt, 8);
            }
        } else if (l.find("\"msgtype\":\"updf\"") != std::string::npos) {
            // lns-sim: FRMPayload in hex starts with the stamp.
            const auto p = l.find("\"FRMPayload\":\"");
            if (p == std::string::npos || p + 14 + 16 > l.size()) {
                return;
            }
            for (size_t i = 0; i < 8; ++i) {
                frame_part.push_back(
                    static_cast<char>(std::stoi(l.substr(p + 14 + 2 * i, 2), nullptr, 16)));
            }
        } else {
            return;
        }
        count_.fetch_add(1);
        if (frame_part.size() == 8) {
            uint64_t sent = 0;
            std::memcpy(&sent, frame_part.data(), 8);
            std::lock_guard lock(mutex_);
            latencies_.push_back(static_cast<double>(t - sent) / 1000.0);
            if (keep_arrivals_) {
                arrivals_.push_back({sent, t});
            }
        }
    }
    int fd_;
    const bool keep_arrivals_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> count_{0};
    std::mutex mutex_;
    std::vector<double> latencies_;
    std::vector<bench::Arrival> arrivals_;
    std::thread thread_;
};

class Sender {
public:
    explicit Sender(int port) : fd_(socket(AF_INET, SOCK_DGRAM, 0))
    {
        addr_.sin_family = AF_INET;
        addr_.sin_port = htons(static_cast<uint16_t>(port));
        addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    ~Sender() { close(fd_); }
    // Sends `frames` uplinks at `rate` per second, `batch` rxpk items per datagram.
    void send(uint64_t frames, double rate, int batch)
    {
        const uint64_t start = now_ns();
        const double interval_ns = 1e9 * batch / rate;
        for (uint64_t i = 0; i < frames; i += static_cast<uint64_t>(batch)) {
            const uint64_t due = start + static_cast<uint64_t>((i / batch) * interval_ns);
            while (now_ns() < due) {
                const uint64_t left = due - now_ns();
                if (left > 200000) {
                    std::this_thread::sleep_for(std::chrono::nanoseconds(left - 100000));
                }
            }
            std::string dg = "{\"rxpk\":[";
            for (int b = 0; b < batch; ++b) {
                // 40 | DevAddr 26011F2A | FCtrl 0 | FCnt | FPort 1 | stamp 8 | 6 | MIC 4
                std::string payload("\x40\x2a\x1f\x01\x26\x00\x00\x00\x01", kStampAt);
                const uint64_t t = now_ns();
                payload.append(reinterpret_cast<const char*>(&t), 8);
                payload.append(10, '\x55');
                payload[6] = static_cast<char>(fcnt_ & 0xFF);
                payload[7] = static_cast<char>((fcnt_ >> 8) & 0xFF);
                ++fcnt_;
                dg += (b ? "," : "");
                dg += "{\"freq\":868.1,\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-60,"
                      "\"lsnr\":7.5,\"data\":\"" +
                      forwarder::support::base64_encode(payload) + "\"}";
            }
            dg += "]}";
            sendto(fd_, dg.data(), dg.size(), 0, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
        }
    }

private:
    int fd_;
    sockaddr_in addr_{};
    uint32_t fcnt_ = 0;
};

int free_port()
{
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

double percentile(std::vector<double>& v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
    return v[i];
}

void wait_for(Receiver& rx, uint64_t target, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (rx.count() < target && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Starts forwarder-lns-sim with its stdout on a pipe; returns the pipe and the port.
int start_lns_sim(pid_t& pid, int& port)
{
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(FORWARDER_LNS_SIM, FORWARDER_LNS_SIM, "--listen", "127.0.0.1:0", "--duration", "300",
              nullptr);
        _exit(127);
    }
    close(fds[1]);
    std::string first;
    char c = 0;
    while (first.size() < 256 && read(fds[0], &c, 1) == 1 && c != '\n') {
        first.push_back(c);
    }
    const auto p = first.find("\"port\":");
    port = p == std::string::npos ? 0 : std::stoi(first.substr(p + 7));
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    return fds[0];
}

// --- --sink udp / lns+udp -------------------------------------------------------------------

// One transport's sink as the UDP modes see it.
struct Sink {
    std::string name;
    std::function<uint64_t()> count;                   // frames arrived so far
    std::function<std::vector<bench::Arrival>()> take; // arrivals since the last take
};

// What one sink received of the frames stamped in [t0, t1].
struct Delivery {
    uint64_t got = 0;        // distinct frames
    uint64_t duplicates = 0; // the same frame again
    uint64_t outside = 0;    // arrived meanwhile with a stamp of no frame of this phase
    uint64_t last_at = 0;    // arrival of the last one
    std::vector<double> latencies_us;
};

Delivery delivered(std::vector<bench::Arrival> arrivals, uint64_t t0, uint64_t t1)
{
    std::sort(arrivals.begin(), arrivals.end(),
              [](const bench::Arrival& a, const bench::Arrival& b) { return a.stamp < b.stamp; });
    Delivery d;
    uint64_t previous = 0;
    for (const auto& a : arrivals) {
        if (a.stamp < t0 || a.stamp > t1) {
            ++d.outside; // a late frame of an earlier phase, or a stamp that was not sent
            continue;
        }
        if (d.got > 0 && a.stamp == previous) {
            ++d.duplicates;
            continue;
        }
        previous = a.stamp;
        ++d.got;
        d.last_at = std::max(d.last_at, a.at);
        d.latencies_us.push_back(a.at > a.stamp ? static_cast<double>(a.at - a.stamp) / 1000.0
                                                : 0.0);
    }
    return d;
}

// Waits until every sink has `frames` more than at `before`, or none progressed for 1.5 s, or
// 10 s passed.
void wait_all(const std::vector<Sink>& sinks, const std::vector<uint64_t>& before, uint64_t frames)
{
    const auto start = std::chrono::steady_clock::now();
    auto progress = start;
    std::vector<uint64_t> last = before;
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(10) &&
           std::chrono::steady_clock::now() - progress < std::chrono::milliseconds(1500)) {
        bool done = true;
        for (size_t i = 0; i < sinks.size(); ++i) {
            const uint64_t c = sinks[i].count();
            done = done && c >= before[i] + frames;
            if (c != last[i]) {
                last[i] = c;
                progress = std::chrono::steady_clock::now();
            }
        }
        if (done) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// The PUSH_DATA stream of one phase, and how it is paced.
struct UdpStream {
    uint64_t datagrams = 0; // PUSH_DATA carrying rxpk
    uint64_t rxpk = 0;
    uint32_t max_rxpk = 0;
    uint64_t json_bytes = 0;
    double span_s = 0;            // first to last of those datagrams (kernel receive times)
    size_t max_in_11ms = 0;       // any gateway datagram (PUSH_DATA, PULL_DATA, TX_ACK)
    size_t max_in_10ms = 0;       //
    uint64_t tts_would_drop = 0;  // less than 10 ms after the datagram 10 positions earlier
    double bench_wait_p99_us = 0; // in the GWMP server's socket buffer (UdpSink)
    double bench_wait_max_us = 0;
};

UdpStream udp_stream(const std::vector<bench::GatewayDatagram>& log)
{
    UdpStream s;
    std::vector<uint64_t> times;
    std::vector<double> waits;
    uint64_t first = 0, last = 0;
    for (const auto& d : log) {
        times.push_back(d.kernel_ns);
        waits.push_back(static_cast<double>(d.waited_ns) / 1000.0);
        if (d.type != forwarder::udp::PacketType::push_data || d.rxpk == 0) {
            continue;
        }
        first = s.datagrams == 0 ? d.kernel_ns : first;
        last = d.kernel_ns;
        ++s.datagrams;
        s.rxpk += d.rxpk;
        s.max_rxpk = std::max(s.max_rxpk, d.rxpk);
        s.json_bytes += d.json_bytes;
    }
    s.span_s = static_cast<double>(last - first) / 1e9;
    s.bench_wait_p99_us = percentile(waits, 99);
    s.bench_wait_max_us = percentile(waits, 100);
    std::sort(times.begin(), times.end());
    for (size_t i = 0, lo10 = 0, lo11 = 0; i < times.size(); ++i) {
        while (times[i] - times[lo10] >= 10'000'000) {
            ++lo10;
        }
        while (times[i] - times[lo11] >= 11'000'000) {
            ++lo11;
        }
        s.max_in_10ms = std::max(s.max_in_10ms, i - lo10 + 1);
        s.max_in_11ms = std::max(s.max_in_11ms, i - lo11 + 1);
        if (i >= 10 && times[i] - times[i - 10] < 10'000'000) {
            ++s.tts_would_drop;
        }
    }
    return s;
}

std::string udp_stream_text(const UdpStream& s)
{
    char text[400];
    std::snprintf(
        text, sizeof text,
        "%llu PUSH_DATA (%.0f/s), %.1f rxpk per datagram (max %u), %.0f B JSON per "
        "datagram; at most %zu datagrams in any 11 ms (%zu in 10 ms), %llu that TTS "
        "would drop; waited in the bench's socket p99 %.0f us, max %.0f us",
        static_cast<unsigned long long>(s.datagrams),
        s.span_s > 0 ? static_cast<double>(s.datagrams) / s.span_s : 0.0,
        s.datagrams ? static_cast<double>(s.rxpk) / static_cast<double>(s.datagrams) : 0.0,
        s.max_rxpk,
        s.datagrams ? static_cast<double>(s.json_bytes) / static_cast<double>(s.datagrams) : 0.0,
        s.max_in_11ms, s.max_in_10ms, static_cast<unsigned long long>(s.tts_would_drop),
        s.bench_wait_p99_us, s.bench_wait_max_us);
    return text;
}

// Datagrams the kernel dropped at full receive buffers of the UDP sockets bound to 127.0.0.1:port
// (here: the virtual radio's ingress), from /proc/net/udp: tells a loss at the forwarder's
// door, with a core busy elsewhere, from a loss inside it.
uint64_t udp_socket_drops(int port)
{
    std::ifstream in("/proc/net/udp");
    std::string line;
    std::getline(in, line); // header
    uint64_t drops = 0;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string sl, local, field;
        f >> sl >> local;
        const auto colon = local.find(':');
        if (colon == std::string::npos || std::stoi(local.substr(colon + 1), nullptr, 16) != port) {
            continue;
        }
        for (int i = 0; i < 10 && f >> field; ++i) {
        }
        uint64_t d = 0;
        if (f >> d) {
            drops += d;
        }
    }
    return drops;
}

// One phase: `frames` uplinks at `rate`, `batch` per datagram into the virtual radio; then
// what each sink received of them.
struct Phase {
    double offered_per_s = 0;
    double send_s = 0;
    uint64_t frames = 0;
    uint64_t t0 = 0;
    double cpu_s = 0;
    uint64_t ingress_drops = 0;       // at the virtual radio's socket
    std::vector<Delivery> deliveries; // per sink
    UdpStream udp;                    // empty without the UDP sink
};

Phase run_phase(Sender& tx, int radio_port, pid_t pid, const std::vector<Sink>& sinks,
                bench::UdpSink* udp, uint64_t frames, double rate, int batch)
{
    Phase p;
    p.frames = frames;
    std::vector<uint64_t> before;
    for (const auto& s : sinks) {
        before.push_back(s.count());
    }
    const double cpu0 = cpu_seconds(pid);
    const uint64_t drops0 = udp_socket_drops(radio_port);
    p.t0 = now_ns();
    tx.send(frames, rate, batch);
    const uint64_t t1 = now_ns();
    p.send_s = static_cast<double>(t1 - p.t0) / 1e9;
    p.offered_per_s = static_cast<double>(frames) / p.send_s;
    wait_all(sinks, before, frames);
    p.cpu_s = cpu_seconds(pid) - cpu0;
    p.ingress_drops = udp_socket_drops(radio_port) - drops0;
    for (const auto& s : sinks) {
        p.deliveries.push_back(delivered(s.take(), p.t0, t1));
    }
    if (udp != nullptr) {
        p.udp = udp_stream(udp->take_datagrams());
    }
    return p;
}

std::string delivery_text(const Phase& p, const Delivery& d)
{
    const double over_s = d.last_at > p.t0 ? static_cast<double>(d.last_at - p.t0) / 1e9 : 0.0;
    auto lat = d.latencies_us;
    char text[320];
    std::snprintf(text, sizeof text,
                  "delivered %llu of %llu (%.0f/s over %.2f s), lost %llu, duplicates %llu, "
                  "late/unknown %llu; p50 %.0f us, p99 %.0f us, max %.0f us",
                  static_cast<unsigned long long>(d.got), static_cast<unsigned long long>(p.frames),
                  over_s > 0 ? static_cast<double>(d.got) / over_s : 0.0, over_s,
                  static_cast<unsigned long long>(p.frames - std::min(p.frames, d.got)),
                  static_cast<unsigned long long>(d.duplicates),
                  static_cast<unsigned long long>(d.outside), percentile(lat, 50),
                  percentile(lat, 99), percentile(lat, 100));
    return text;
}

// GET http://127.0.0.1:port/metrics (the forwarder's Prometheus endpoint), bounded to 2 s.
std::string http_get_metrics(int port)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string text;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        const std::string request =
            "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
            char chunk[16384];
            ssize_t n = 0;
            while (text.size() < (4u << 20) && (n = read(fd, chunk, sizeof chunk)) > 0) {
                text.append(chunk, static_cast<size_t>(n));
            }
        }
    }
    close(fd);
    return text;
}

int free_tcp_port()
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// --sink udp: the semtech-udp transport alone; --sink lns+udp: the LNS transport (to
// forwarder-lns-sim) and the semtech-udp transport (to the in-bench GWMP server) both active,
// every frame measured at each of them.
// metrics: also serve the forwarder's /metrics and print its transport counters at the end
// (uplinks dropped, PUSH_ACK ratio, rate-limit waits), to tell where a loss happened.
int run_udp_modes(bool with_lns, double throughput_rate, double seconds, bool metrics)
{
    setvbuf(stdout, nullptr, _IOLBF, 0); // in order with the forwarder's warnings on stderr
    constexpr double kLatencyRate = 500;
    constexpr double kStepSeconds = 2;
    const double ladder[] = {1000, 2000, 4000, 8000, 12000, 16000, 24000, 32000};

    const auto dir =
        std::filesystem::temp_directory_path() / ("fwd-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const int port = free_port();
    bench::UdpSink udp(kStampAt);
    const std::string cfg = (dir / "bench.yaml").string();
    std::ofstream out(cfg);
    out << "gateway: {eui: \"0016c001ff10a235\", log: {level: warn}}\n"
           "radios:\n  - driver: virtual\n    options: {uplink_udp: \"127.0.0.1:"
        << port << "\"}\ntransports:\n";
    int rfd = -1;
    pid_t sim = -1;
    if (with_lns) {
        int sim_port = 0;
        rfd = start_lns_sim(sim, sim_port);
        out << "  - plugin: lns\n    queue_size: 65536\n    options: {uri: \"ws://127.0.0.1:"
            << sim_port << "\", queue_max: 200000}\n";
    }
    // The plugin's defaults (max_datagram_json 1400, keepalive 5 s, stat every 30 s) except
    // queue_max, raised like the LNS transport's so that a loss is the transport's, not a
    // buffer cap.
    out << "  - plugin: semtech-udp\n    queue_size: 65536\n    options: {server: \"127.0.0.1\", "
           "port_up: "
        << udp.port() << ", port_down: " << udp.port() << ", queue_max: 200000}\n";
    out << "stats: {interval_s: 0}\n";
    const int metrics_port = metrics ? free_tcp_port() : 0;
    if (metrics) {
        out << "metrics: {listen: \"127.0.0.1:" << metrics_port << "\"}\n";
    }
    out.close();
    const pid_t pid = fork();
    if (pid == 0) {
        execl(FORWARDER_BINARY, FORWARDER_BINARY, "--config", cfg.c_str(), nullptr);
        _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // The transport opens the downlink path with a PULL_DATA as soon as it has its sockets.
    for (int i = 0; i < 60 && udp.pull_data_count() == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::unique_ptr<Receiver> rx;
    std::vector<Sink> sinks;
    if (with_lns) {
        rx = std::make_unique<Receiver>(rfd, true);
        sinks.push_back({"lns", [&] { return rx->count(); },
                         [&] {
                             rx->take_latencies_us();
                             return rx->take_arrivals();
                         }});
    }
    sinks.push_back({"udp", [&] { return udp.rxpk_count(); }, [&] { return udp.take_arrivals(); }});
    udp.take_datagrams(); // the first PULL_DATA
    Sender tx(port);
    std::printf("forwarder uplink benchmark (virtual radio -> bus -> %s), pid %d\n",
                with_lns ? "lns over ws:// -> forwarder-lns-sim AND semtech-udp -> in-bench "
                           "GWMP server (both active)"
                         : "semtech-udp -> in-bench GWMP server",
                pid);
    std::printf("semtech-udp: 127.0.0.1:%d, max_datagram_json 1400, pacing <= 8 datagrams per "
                "11 ms; PULL_DATA seen: %s\n",
                udp.port(), udp.pull_data_count() > 0 ? "yes" : "NO");
    std::printf("latency = inject -> %s\n",
                with_lns ? "udp: kernel receive time at the GWMP server's socket; lns: the "
                           "receipt line read from forwarder-lns-sim"
                         : "kernel receive time at the GWMP server's socket");
    std::printf("idle RSS:                 %ld kB\n", status_kb(pid, "VmRSS:"));

    // Latency at a fixed, moderate rate, per transport.
    {
        const auto n = static_cast<uint64_t>(kLatencyRate * seconds);
        const Phase p = run_phase(tx, port, pid, sinks, &udp, n, kLatencyRate, 1);
        std::printf("latency @%.0f/s (%llu frames over %.1f s), dropped at the virtual radio's "
                    "socket %llu:\n",
                    kLatencyRate, static_cast<unsigned long long>(n), p.send_s,
                    static_cast<unsigned long long>(p.ingress_drops));
        for (size_t i = 0; i < sinks.size(); ++i) {
            auto lat = p.deliveries[i].latencies_us;
            std::printf("  %-4s %llu of %llu, lost %llu: p50 %.0f us, p90 %.0f us, p99 %.0f us, "
                        "p99.9 %.0f us, max %.0f us\n",
                        sinks[i].name.c_str(), static_cast<unsigned long long>(lat.size()),
                        static_cast<unsigned long long>(n),
                        static_cast<unsigned long long>(n - std::min<uint64_t>(n, lat.size())),
                        percentile(lat, 50), percentile(lat, 90), percentile(lat, 99),
                        percentile(lat, 99.9), percentile(lat, 100));
        }
        std::printf("  udp  stream: %s\n", udp_stream_text(p.udp).c_str());
    }

    // Highest rate without loss: a fixed ladder, each step kStepSeconds, batch 1; a transport's
    // figure is the last step before its first loss. Stops when every transport lost frames or
    // the sender could not offer the step's rate.
    std::vector<double> best(sinks.size(), 0);
    std::vector<bool> lost(sinks.size(), false);
    std::printf("rate steps (%.0f s each, batch 1):\n", kStepSeconds);
    for (const double rate : ladder) {
        const Phase p = run_phase(tx, port, pid, sinks, &udp,
                                  static_cast<uint64_t>(rate * kStepSeconds), rate, 1);
        std::printf("  %6.0f/s (offered %.0f/s), CPU %.3f s per 10k injected uplinks, dropped at "
                    "the virtual radio's socket %llu\n",
                    rate, p.offered_per_s, p.cpu_s / static_cast<double>(p.frames) * 10000,
                    static_cast<unsigned long long>(p.ingress_drops));
        for (size_t i = 0; i < sinks.size(); ++i) {
            std::printf("    %-4s %s\n", sinks[i].name.c_str(),
                        delivery_text(p, p.deliveries[i]).c_str());
            if (!lost[i] && p.deliveries[i].got >= p.frames) {
                best[i] = rate;
            } else {
                lost[i] = true;
            }
        }
        std::printf("    udp  stream: %s\n", udp_stream_text(p.udp).c_str());
        if (std::all_of(lost.begin(), lost.end(), [](bool l) { return l; })) {
            break;
        }
        if (p.offered_per_s < 0.9 * rate) {
            std::printf("    (the sender could not offer %.0f/s: ladder ends)\n", rate);
            break;
        }
    }
    for (size_t i = 0; i < sinks.size(); ++i) {
        std::printf("highest rate without loss, %-4s %.0f/s%s\n", sinks[i].name.c_str(), best[i],
                    lost[i] ? "" : " (no loss up to the last step)");
    }

    // Sustained throughput at RATE as in --sink lns, batch 1 and 8.
    for (int batch : {1, 8}) {
        const Phase p =
            run_phase(tx, port, pid, sinks, &udp, static_cast<uint64_t>(throughput_rate * seconds),
                      throughput_rate, batch);
        std::printf("throughput, batch %d: offered %.0f/s for %.1f s; CPU %.3f s per 10k injected "
                    "uplinks, dropped at the virtual radio's socket %llu\n",
                    batch, p.offered_per_s, p.send_s,
                    p.cpu_s / static_cast<double>(p.frames) * 10000,
                    static_cast<unsigned long long>(p.ingress_drops));
        for (size_t i = 0; i < sinks.size(); ++i) {
            std::printf("  %-4s %s\n", sinks[i].name.c_str(),
                        delivery_text(p, p.deliveries[i]).c_str());
        }
        std::printf("  udp  stream: %s\n", udp_stream_text(p.udp).c_str());
    }
    std::printf("peak RSS:                 %ld kB\n", status_kb(pid, "VmHWM:"));
    if (metrics) {
        std::istringstream lines(http_get_metrics(metrics_port));
        std::string line;
        std::printf("forwarder counters (/metrics):\n");
        while (std::getline(lines, line)) {
            if (!line.empty() && line[0] != '#' &&
                (line.find("semtech-udp.") != std::string::npos ||
                 line.find("dropped") != std::string::npos) &&
                line.find("filtered") == std::string::npos) {
                std::printf("  %s\n", line.c_str());
            }
        }
    }
    const std::string error = udp.first_parse_error();
    std::printf("GWMP server: %llu PUSH_DATA acknowledged, %llu PULL_DATA, %llu undecodable%s%s, "
                "%llu dropped by the bench socket\n",
                static_cast<unsigned long long>(udp.push_data_count()),
                static_cast<unsigned long long>(udp.pull_data_count()),
                static_cast<unsigned long long>(udp.parse_errors()), error.empty() ? "" : ": ",
                error.c_str(), static_cast<unsigned long long>(udp.kernel_drops()));
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    rx.reset();
    if (sim > 0) {
        kill(sim, SIGTERM);
        waitpid(sim, &status, 0);
    }
    if (rfd >= 0) {
        close(rfd);
    }
    std::filesystem::remove_all(dir);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    static const char* const kUsage =
        "usage: uplink-bench [--sink capture|lns|udp|lns+udp] [RATE] [SECONDS]\n"
        "  capture  capture transport to a FIFO (default; RATE 25000)\n"
        "  lns      LNS transport over ws:// to forwarder-lns-sim (RATE 12000)\n"
        "  udp      semtech-udp transport to an in-bench GWMP server (RATE 12000)\n"
        "  lns+udp  LNS and semtech-udp transports both active, each measured (RATE 12000)\n"
        "udp modes: latency @500/s, rate steps 1k..32k/s (2 s each) for the highest rate without\n"
        "loss, then RATE for SECONDS (default 5) at batch 1 and 8; per transport\n"
        "  --metrics  (udp modes) also print the forwarder's transport counters from /metrics\n";
    std::string sink = "capture";
    bool metrics = false;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (std::string(argv[i]) == "--sink" && i + 1 < argc) {
            sink = argv[++i];
        } else if (std::string(argv[i]) == "--metrics") {
            metrics = true;
        } else {
            positional.emplace_back(argv[i]);
        }
    }
    if (sink == "udp" || sink == "lns+udp") {
        return run_udp_modes(sink == "lns+udp",
                             positional.size() > 0 ? std::stod(positional[0]) : 12000,
                             positional.size() > 1 ? std::stod(positional[1]) : 5, metrics);
    }
    if (sink != "capture" && sink != "lns") {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const bool lns = sink == "lns";
    const double throughput_rate =
        positional.size() > 0 ? std::stod(positional[0]) : (lns ? 12000 : 25000);
    const double seconds = positional.size() > 1 ? std::stod(positional[1]) : 5;
    const double latency_rate = lns ? 500 : 1000;
    const auto dir =
        std::filesystem::temp_directory_path() / ("fwd-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const int port = free_port();
    const std::string cfg = (dir / "bench.yaml").string();
    std::ofstream out(cfg);
    out << "gateway: {eui: \"0016c001ff10a235\", log: {level: warn}}\n"
           "radios:\n  - driver: virtual\n    options: {uplink_udp: \"127.0.0.1:"
        << port << "\"}\ntransports:\n";
    int rfd = -1;
    pid_t sim = -1;
    if (lns) {
        int sim_port = 0;
        rfd = start_lns_sim(sim, sim_port);
        out << "  - plugin: lns\n    queue_size: 65536\n    options: {uri: \"ws://127.0.0.1:"
            << sim_port << "\", queue_max: 200000}\n";
    } else {
        const std::string fifo = (dir / "capture.fifo").string();
        mkfifo(fifo.c_str(), 0600);
        rfd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
        out << "  - plugin: capture\n    queue_size: 65536\n    options: {path: " << fifo << "}\n";
    }
    out << "stats: {interval_s: 0}\n";
    out.close();
    const pid_t pid = fork();
    if (pid == 0) {
        execl(FORWARDER_BINARY, FORWARDER_BINARY, "--config", cfg.c_str(), nullptr);
        _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    Receiver rx(rfd);
    Sender tx(port);
    std::printf("forwarder uplink benchmark (virtual radio -> bus -> %s), pid %d\n",
                lns ? "lns over ws:// -> forwarder-lns-sim" : "capture", pid);
    std::printf("idle RSS:                 %ld kB\n", status_kb(pid, "VmRSS:"));

    // Latency at a fixed, moderate rate.
    const uint64_t n_lat = static_cast<uint64_t>(latency_rate * seconds);
    tx.send(n_lat, latency_rate, 1);
    wait_for(rx, n_lat, std::chrono::seconds(10));
    auto lat = rx.take_latencies_us();
    std::printf(
        "latency @%.0f/s (%zu of %llu): p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
        latency_rate, lat.size(), static_cast<unsigned long long>(n_lat), percentile(lat, 50),
        percentile(lat, 99), percentile(lat, 99.9), percentile(lat, 100));

    // Sustained throughput, 8 frames per datagram as a concentrator read would batch them.
    for (int batch : {1, 8}) {
        const uint64_t before = rx.count();
        const double cpu0 = cpu_seconds(pid);
        const uint64_t frames = static_cast<uint64_t>(throughput_rate * seconds);
        const uint64_t t0 = now_ns();
        tx.send(frames, throughput_rate, batch);
        const double send_s = static_cast<double>(now_ns() - t0) / 1e9;
        wait_for(rx, before + frames, std::chrono::seconds(10));
        const double all_s = static_cast<double>(now_ns() - t0) / 1e9;
        const uint64_t got = rx.count() - before;
        const double cpu = cpu_seconds(pid) - cpu0;
        auto l = rx.take_latencies_us();
        std::printf("throughput, batch %d: offered %.0f/s for %.1f s; delivered %llu of %llu "
                    "(%.0f/s over %.2f s); CPU %.3f s per 10k uplinks; p99 latency %.0f us\n",
                    batch, frames / send_s, send_s, static_cast<unsigned long long>(got),
                    static_cast<unsigned long long>(frames), got / all_s, all_s,
                    got ? cpu / static_cast<double>(got) * 10000 : 0.0, percentile(l, 99));
    }
    std::printf("peak RSS:                 %ld kB\n", status_kb(pid, "VmHWM:"));
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    if (sim > 0) {
        kill(sim, SIGTERM);
        waitpid(sim, &status, 0);
    }
    close(rfd);
    std::filesystem::remove_all(dir);
    return 0;
}
