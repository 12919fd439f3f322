// Uplink path benchmark on the real binary: frames injected into the virtual radio over UDP
// → event bus → a transport → a sink this program reads, so every frame is counted when it
// leaves the forwarder and its latency is taken from a CLOCK_MONOTONIC stamp the sender put
// in the payload.
//
//   uplink-bench [--sink capture|lns] [RATE] [SECONDS]
//
//   capture  the capture transport writing JSON lines to a FIFO (latency at 1,000/s)
//   lns      the LNS transport over ws:// on 127.0.0.1 to forwarder-lns-sim, whose
//            printed messages are the receipts (latency at 500/s)
//
// Prints idle RSS, latency percentiles, sustained throughput, CPU seconds per 10k uplinks
// and peak RSS. Every phase is bounded in time and count.
#include "base64.hpp"

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
    explicit Receiver(int fd) : fd_(fd), thread_([this] { run(); }) {}
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
        }
    }
    int fd_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> count_{0};
    std::mutex mutex_;
    std::vector<double> latencies_;
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

} // namespace

int main(int argc, char** argv)
{
    std::string sink = "capture";
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--sink" && i + 1 < argc) {
            sink = argv[++i];
        } else {
            positional.emplace_back(argv[i]);
        }
    }
    if (sink != "capture" && sink != "lns") {
        std::fprintf(stderr, "usage: uplink-bench [--sink capture|lns] [RATE] [SECONDS]\n");
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
