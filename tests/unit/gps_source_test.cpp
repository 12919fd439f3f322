// GPS sources through real interfaces: a pseudo-terminal for NMEA, a fake gpsd on 127.0.0.1
// for libgps, the host clock for "system". Every wait is bounded.
#include "gps_source.hpp"
#include "nmea.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace forwarder::core;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kNov30Noon = 1796040000; // 2026-11-30T12:00:00Z

uint64_t now_mono_us()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

std::string nmea(const std::string& body)
{
    unsigned sum = 0;
    for (char c : body)
        sum ^= static_cast<unsigned char>(c);
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02X", sum);
    return "$" + body + "*" + hex + "\r\n";
}

// Collects fixes and log lines from a source's thread.
class Collector {
public:
    GpsCallback callback()
    {
        return [this](const GpsFix& fix) {
            std::lock_guard<std::mutex> lock(mutex_);
            fixes_.push_back(fix);
            cv_.notify_all();
        };
    }
    GpsLogCallback logger()
    {
        return [this](int level, const std::string& line) {
            std::lock_guard<std::mutex> lock(mutex_);
            logs_.emplace_back(level, line);
        };
    }
    // Waits until `pred(fixes)` holds or `timeout` passes.
    bool wait(const std::function<bool(const std::vector<GpsFix>&)>& pred,
              std::chrono::milliseconds timeout)
    {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return pred(fixes_); });
    }
    std::vector<GpsFix> fixes()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return fixes_;
    }
    // Log lines at `level` or above that contain `needle`.
    int count_logs(const std::string& needle, int level = 0)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        int n = 0;
        for (const auto& [l, text] : logs_)
            n += l >= level && text.find(needle) != std::string::npos ? 1 : 0;
        return n;
    }
    std::string dump_logs()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::string out;
        for (const auto& [l, text] : logs_)
            out += std::to_string(l) + " " + text + "\n";
        return out;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<GpsFix> fixes_;
    std::vector<std::pair<int, std::string>> logs_;
};

// Runs stop() and returns how long it took.
std::chrono::milliseconds timed_stop(GpsSource& source)
{
    const auto t0 = Clock::now();
    source.stop();
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

bool has_position(const std::vector<GpsFix>& fixes)
{
    for (const auto& f : fixes)
        if (f.altitude_m)
            return true;
    return false;
}

// ---------------------------------------------------------------------------------------------
// Pseudo-terminal: the source opens the slave by name; the test writes to the master.

class Pty {
public:
    Pty()
    {
        char name[128] = {};
        termios raw{};
        cfmakeraw(&raw); // no echo or line editing before the source configures the slave
        if (openpty(&master_, &slave_, name, &raw, nullptr) == 0) {
            name_ = name;
            fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
        }
    }
    ~Pty()
    {
        close_master();
        if (slave_ >= 0)
            close(slave_);
    }
    bool ok() const { return master_ >= 0 && !name_.empty(); }
    const std::string& name() const { return name_; }
    void write_text(const std::string& text)
    {
        if (master_ >= 0)
            (void)!write(master_, text.data(), text.size());
    }
    void close_master()
    {
        if (master_ >= 0)
            close(master_);
        master_ = -1;
    }
    void close_slave()
    {
        if (slave_ >= 0)
            close(slave_);
        slave_ = -1;
    }

private:
    int master_ = -1;
    int slave_ = -1;
    std::string name_;
};

std::string hhmmss(int64_t unix_seconds)
{
    const int64_t s = unix_seconds % 86400;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d%02d%02d.00", static_cast<int>(s / 3600),
                  static_cast<int>(s / 60 % 60), static_cast<int>(s % 60));
    return buf;
}

TEST(NmeaSource, FixesFromPseudoTerminal)
{
    Pty pty;
    ASSERT_TRUE(pty.ok());
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "nmea";
    cfg.device = pty.name();
    cfg.baud = 9600;
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    EXPECT_EQ(source->describe(), "nmea " + pty.name() + " @9600");
    const uint64_t started = now_mono_us();
    source->start();

    // One epoch per 100 ms, each a new UTC second: noise, a bad checksum, GGA then RMC
    // (southern/eastern hemisphere), and a GSV the source ignores.
    int written = 0;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline &&
           !c.wait([](const auto& f) { return has_position(f); }, 100ms)) {
        const int64_t t = kNov30Noon + written++;
        const std::string tod = hhmmss(t);
        pty.write_text(
            "\x01\xfe noise\r\n" +
            nmea("GNGGA," + tod + ",3352.12800,S,15112.55800,E,1,09,0.9,58.0,M,22.1,M,,") +
            nmea("GNRMC," + tod + ",A,3352.12800,S,15112.55800,E,0.0,,301126,,,A") + "$GNRMC," +
            tod + ",A,0000.000,N,00000.000,E,0.0,,301126,,,A*00\r\n" +
            nmea("GPGSV,1,1,01,10,63,137,17"));
    }
    ASSERT_TRUE(has_position(c.fixes())) << c.dump_logs();
    const auto stop_time = timed_stop(*source);
    EXPECT_LT(stop_time, 500ms);

    const auto fixes = c.fixes();
    uint64_t previous = 0;
    for (const auto& f : fixes) {
        ASSERT_TRUE(f.gps_second);
        // Every fix is one of the written epochs, in order, one per second.
        EXPECT_GE(*f.gps_second, utc_to_gps_seconds(kNov30Noon));
        EXPECT_LT(*f.gps_second, utc_to_gps_seconds(kNov30Noon + written));
        EXPECT_GT(*f.gps_second, previous);
        previous = *f.gps_second;
        EXPECT_GE(f.received_mono_us, started);
        EXPECT_LE(f.received_mono_us, now_mono_us());
        ASSERT_TRUE(f.latitude && f.longitude);
        EXPECT_NEAR(*f.latitude, -(33.0 + 52.128 / 60.0), 1e-9);
        EXPECT_NEAR(*f.longitude, 151.0 + 12.558 / 60.0, 1e-9);
    }
    const GpsFix& last = fixes.back();
    ASSERT_TRUE(last.altitude_m);
    EXPECT_DOUBLE_EQ(*last.altitude_m, 58.0);
    // 2026-11-30T12:00:00Z is GPS second 1480075218.
    EXPECT_EQ(utc_to_gps_seconds(kNov30Noon), 1480075218u);
    EXPECT_EQ(c.count_logs("receiving NMEA"), 1) << c.dump_logs();
    EXPECT_EQ(c.count_logs("has a fix"), 1) << c.dump_logs();
}

TEST(NmeaSource, VoidStatusGivesNoFix)
{
    Pty pty;
    ASSERT_TRUE(pty.ok());
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "nmea";
    cfg.device = pty.name();
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    source->start();
    const auto deadline = Clock::now() + 3s;
    while (Clock::now() < deadline && c.count_logs("no fix") == 0) {
        pty.write_text(nmea("GPRMC,120000.00,V,,,,,,,301126,,,N") +
                       nmea("GPGGA,120000.00,,,,,0,00,99.99,,,,,,"));
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(c.count_logs("no fix"), 1) << c.dump_logs();
    EXPECT_LT(timed_stop(*source), 500ms);
    EXPECT_TRUE(c.fixes().empty());
}

TEST(NmeaSource, HangupThenMissingDevice)
{
    Pty pty;
    ASSERT_TRUE(pty.ok());
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "nmea";
    cfg.device = pty.name();
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    source->start();
    const auto deadline = Clock::now() + 3s;
    while (Clock::now() < deadline && !c.wait([](const auto& f) { return !f.empty(); }, 100ms))
        pty.write_text(nmea("GPRMC,120000.00,A,4807.038,N,01131.000,W,0.0,0.0,301126,,"));
    ASSERT_FALSE(c.fixes().empty()) << c.dump_logs();
    EXPECT_NEAR(*c.fixes()[0].longitude, -(11.0 + 31.0 / 60.0), 1e-9);
    // The receiver goes away: the pty disappears, so reopening fails from now on.
    pty.close_slave();
    pty.close_master();
    std::this_thread::sleep_for(2500ms); // hangup, then reopen attempts after 1 s and 2 s
    EXPECT_EQ(c.count_logs("reopening", 3), 1) << c.dump_logs();
    EXPECT_LE(c.count_logs("cannot open", 3), 1) << c.dump_logs();
    EXPECT_LT(timed_stop(*source), 500ms);
}

TEST(NmeaSource, AbsentDeviceStopsPromptly)
{
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "nmea";
    cfg.device = "/dev/nonexistent-gps-tty";
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    source->start();
    std::this_thread::sleep_for(1300ms); // two attempts
    EXPECT_LT(timed_stop(*source), 500ms);
    EXPECT_EQ(c.count_logs("cannot open /dev/nonexistent-gps-tty", 3), 1) << c.dump_logs();
    // Restartable, and stop() twice is harmless.
    source->start();
    EXPECT_LT(timed_stop(*source), 500ms);
    source->stop();
}

// ---------------------------------------------------------------------------------------------
// A fake gpsd: a TCP listener on an ephemeral 127.0.0.1 port speaking enough of the gpsd JSON
// protocol for libgps.

class FakeGpsd {
public:
    struct Options {
        int64_t first_second = kNov30Noon;
        int reports_before_close = -1; // close each connection after this many TPVs; -1 never
    };

    explicit FakeGpsd(Options options) : options_(options)
    {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            listen(listen_fd_, 4) != 0 ||
            getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            return;
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeGpsd()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        if (listen_fd_ >= 0)
            close(listen_fd_);
    }
    uint16_t port() const { return port_; }
    int connections() const { return connections_; }
    std::string received()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }

private:
    static bool send_text(int fd, const std::string& text)
    {
        return send(fd, text.data(), text.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(text.size());
    }

    static std::string tpv(int mode, int64_t unix_seconds)
    {
        const time_t t = static_cast<time_t>(unix_seconds);
        tm utc{};
        gmtime_r(&t, &utc);
        char time_text[40];
        std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%S.000Z", &utc);
        std::string line =
            "{\"class\":\"TPV\",\"device\":\"/dev/ttyACM0\",\"mode\":" + std::to_string(mode) +
            ",\"time\":\"" + time_text + "\",\"ept\":0.005";
        if (mode >= 2)
            line += ",\"lat\":-33.868800000,\"lon\":151.209300000";
        if (mode >= 3)
            line += ",\"altHAE\":80.500,\"altMSL\":58.000,\"alt\":58.000";
        return line + ",\"epx\":3.0,\"epy\":3.0,\"speed\":0.000}\r\n";
    }

    void serve()
    {
        int64_t second = options_.first_second;
        while (!stop_) {
            pollfd pfd{listen_fd_, POLLIN, 0};
            if (poll(&pfd, 1, 50) <= 0)
                continue;
            const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            ++connections_;
            serve_client(fd, second);
            close(fd);
        }
    }

    // Reads what the client sent for up to `ms`; true once it contains `needle`.
    bool await_text(int fd, const std::string& needle, int ms)
    {
        const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
        while (!stop_ && Clock::now() < deadline) {
            pollfd pfd{fd, POLLIN, 0};
            if (poll(&pfd, 1, 20) > 0) {
                char buf[512];
                const ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n <= 0)
                    return false;
                std::lock_guard<std::mutex> lock(mutex_);
                received_.append(buf, static_cast<size_t>(n));
            }
            std::lock_guard<std::mutex> lock(mutex_);
            if (received_.find(needle) != std::string::npos)
                return true;
        }
        return false;
    }

    void serve_client(int fd, int64_t& second)
    {
        if (!send_text(fd, "{\"class\":\"VERSION\",\"release\":\"3.22\",\"rev\":\"3.22\","
                           "\"proto_major\":3,\"proto_minor\":14}\r\n") ||
            !await_text(fd, "?WATCH=", 2000))
            return;
        if (!send_text(fd, "{\"class\":\"DEVICES\",\"devices\":[{\"class\":\"DEVICE\",\"path\":"
                           "\"/dev/ttyACM0\",\"driver\":\"u-blox\",\"activated\":"
                           "\"2026-11-30T11:59:00.000Z\",\"native\":1,\"bps\":9600}]}\r\n"
                           "{\"class\":\"WATCH\",\"enable\":true,\"json\":true,\"nmea\":false,"
                           "\"raw\":0,\"scaled\":false,\"timing\":false,\"split24\":false,"
                           "\"pps\":false}\r\n"))
            return;
        // Not yet a fix: mode 1 with a time must not produce a report.
        if (!send_text(fd, tpv(1, second - 1)))
            return;
        for (int i = 0; !stop_; ++i) {
            if (options_.reports_before_close >= 0 && i >= options_.reports_before_close)
                return;
            const std::string line = tpv(i % 2 == 0 ? 3 : 2, second++);
            const std::string sky = "{\"class\":\"SKY\",\"device\":\"/dev/ttyACM0\","
                                    "\"hdop\":0.9,\"satellites\":[]}\r\n";
            bool ok = true;
            if (i % 3 == 0) { // split in the middle of a line
                ok = send_text(fd, line.substr(0, 40));
                std::this_thread::sleep_for(20ms);
                ok = ok && send_text(fd, line.substr(40) + sky);
            } else if (i % 3 == 1) { // two reports in one segment
                ok = send_text(fd, sky + line);
            } else {
                ok = send_text(fd, line);
            }
            if (!ok)
                return;
            std::this_thread::sleep_for(100ms);
        }
    }

    Options options_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::mutex mutex_;
    std::string received_;
};

TEST(GpsdSource, FixesFromFakeGpsd)
{
    FakeGpsd gpsd({});
    ASSERT_NE(gpsd.port(), 0);
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "gpsd";
    cfg.port = gpsd.port();
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    EXPECT_EQ(source->describe(), "gpsd 127.0.0.1:" + std::to_string(gpsd.port()));
    const uint64_t started = now_mono_us();
    source->start();
    ASSERT_TRUE(c.wait([](const auto& f) { return f.size() >= 4; }, 5s)) << c.dump_logs();
    EXPECT_LT(timed_stop(*source), 500ms);
    EXPECT_NE(gpsd.received().find("?WATCH={\"enable\":true,\"json\":true"), std::string::npos)
        << gpsd.received();

    const auto fixes = c.fixes();
    for (size_t i = 0; i < fixes.size(); ++i) {
        const GpsFix& f = fixes[i];
        ASSERT_TRUE(f.gps_second);
        // TPV i carries 12:00:00 + i; the mode-1 report before it gave nothing.
        EXPECT_EQ(*f.gps_second, utc_to_gps_seconds(kNov30Noon + static_cast<int64_t>(i)));
        EXPECT_GE(f.received_mono_us, started);
        ASSERT_TRUE(f.latitude && f.longitude);
        EXPECT_DOUBLE_EQ(*f.latitude, -33.8688);
        EXPECT_DOUBLE_EQ(*f.longitude, 151.2093);
        if (i % 2 == 0) { // 3D: altMSL
            ASSERT_TRUE(f.altitude_m);
            EXPECT_DOUBLE_EQ(*f.altitude_m, 58.0);
        } else { // 2D: no altitude
            EXPECT_FALSE(f.altitude_m);
        }
    }
    EXPECT_EQ(*fixes[0].gps_second, 1480075218u);
    EXPECT_EQ(c.count_logs("connected to gpsd"), 1) << c.dump_logs();
}

TEST(GpsdSource, ReconnectsAfterGpsdGoesAway)
{
    FakeGpsd::Options options;
    options.reports_before_close = 2;
    FakeGpsd gpsd(options);
    ASSERT_NE(gpsd.port(), 0);
    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "gpsd";
    cfg.port = gpsd.port();
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    source->start();
    // Two reports, connection closed, reconnect after 1 s, two more reports.
    ASSERT_TRUE(c.wait([](const auto& f) { return f.size() >= 4; }, 5s)) << c.dump_logs();
    EXPECT_LT(timed_stop(*source), 500ms);
    EXPECT_GE(gpsd.connections(), 2);
    EXPECT_GE(c.count_logs("lost gpsd", 3), 1) << c.dump_logs();
    EXPECT_GE(c.count_logs("connected to gpsd"), 2) << c.dump_logs();
    const auto fixes = c.fixes();
    for (size_t i = 1; i < fixes.size(); ++i) {
        EXPECT_GT(*fixes[i].gps_second, *fixes[i - 1].gps_second);
    }
}

TEST(GpsdSource, AbsentGpsdStopsPromptlyAndLogsOnce)
{
    // A port nobody listens on: bound, never listened, then closed.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const uint16_t port = ntohs(addr.sin_port);
    close(fd);

    Collector c;
    GpsSourceConfig cfg;
    cfg.kind = "gpsd";
    cfg.port = port;
    auto source = make_gps_source(cfg, c.callback(), c.logger());
    ASSERT_TRUE(source);
    source->start();
    std::this_thread::sleep_for(1300ms); // attempts at 0 s and 1 s
    EXPECT_LT(timed_stop(*source), 500ms);
    EXPECT_EQ(c.count_logs("unavailable", 3), 1) << c.dump_logs();
    EXPECT_TRUE(c.fixes().empty());
    // Stopping during the backoff sleep right after start is prompt too.
    source->start();
    std::this_thread::sleep_for(50ms);
    EXPECT_LT(timed_stop(*source), 500ms);
}

TEST(GpsdSource, StopIsPromptWhileConnectHangs)
{
    // A listener whose accept queue is full: the kernel drops further SYNs, so the blocking
    // connect inside gps_open() hangs. stop() must still return in time.
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
    ASSERT_EQ(listen(listener, 0), 0);
    ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    std::vector<int> fillers;
    for (int i = 0; i < 3; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
        fillers.push_back(fd);
    }
    std::this_thread::sleep_for(50ms);

    auto c = std::make_unique<Collector>();
    GpsSourceConfig cfg;
    cfg.kind = "gpsd";
    cfg.port = ntohs(addr.sin_port);
    auto source = make_gps_source(cfg, c->callback(), c->logger());
    ASSERT_TRUE(source);
    source->start();
    std::this_thread::sleep_for(300ms);
    EXPECT_LT(timed_stop(*source), 500ms);
    // If the thread was detached it must not call into the (now destroyed) callbacks.
    source.reset();
    c.reset();
    close(listener);
    for (int fd : fillers)
        close(fd);
    std::this_thread::sleep_for(100ms);
}

// ---------------------------------------------------------------------------------------------

TEST(SystemSource, FixesAtUtcSecondBoundaries)
{
    std::mutex mutex;
    std::vector<timespec> arrival; // host UTC when each fix arrived
    Collector c;
    auto inner = c.callback();
    auto source = make_gps_source(
        {"system", "", 9600, "127.0.0.1", 2947},
        [&](const GpsFix& fix) {
            timespec ts{};
            clock_gettime(CLOCK_REALTIME, &ts);
            {
                std::lock_guard<std::mutex> lock(mutex);
                arrival.push_back(ts);
            }
            inner(fix);
        },
        c.logger());
    ASSERT_TRUE(source);
    source->start();
    ASSERT_TRUE(c.wait([](const auto& f) { return f.size() >= 2; }, 3500ms)) << c.dump_logs();
    EXPECT_LT(timed_stop(*source), 500ms);
    const auto fixes = c.fixes();
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t i = 0; i < fixes.size(); ++i) {
        ASSERT_TRUE(fixes[i].gps_second);
        EXPECT_FALSE(fixes[i].latitude);
        // The fix names the UTC second it arrived in, soon after that second began.
        EXPECT_EQ(*fixes[i].gps_second, utc_to_gps_seconds(arrival[i].tv_sec));
        EXPECT_LT(arrival[i].tv_nsec, 300'000'000) << "fix " << i << " arrived late";
        if (i > 0) {
            EXPECT_EQ(*fixes[i].gps_second, *fixes[i - 1].gps_second + 1);
        }
    }
    EXPECT_EQ(c.count_logs("NTP"), 1);
}

TEST(SystemSource, StopFromCallbackAndRestart)
{
    Collector c;
    std::unique_ptr<GpsSource> source;
    std::atomic<int> calls{0};
    auto inner = c.callback();
    source = make_gps_source(
        {"system", "", 9600, "127.0.0.1", 2947},
        [&](const GpsFix& fix) {
            ++calls;
            inner(fix);
            source->stop(); // from the source's own thread
        },
        c.logger());
    ASSERT_TRUE(source);
    source->start();
    ASSERT_TRUE(c.wait([](const auto& f) { return !f.empty(); }, 2500ms));
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(calls.load(), 1); // stopped itself after the first fix
    source->start();
    ASSERT_TRUE(c.wait([](const auto& f) { return f.size() >= 2; }, 2500ms));
    EXPECT_LT(timed_stop(*source), 500ms);
}

TEST(MakeGpsSource, RejectsBadConfigs)
{
    Collector c;
    EXPECT_FALSE(make_gps_source({"galileo", "", 9600, "", 0}, c.callback(), c.logger()));
    EXPECT_FALSE(make_gps_source({"nmea", "", 9600, "", 0}, c.callback(), c.logger()));
    EXPECT_FALSE(make_gps_source({"nmea", "/dev/ttyS0", 12345, "", 0}, c.callback(), c.logger()));
    EXPECT_FALSE(make_gps_source({"gpsd", "", 9600, "", 2947}, c.callback(), c.logger()));
    EXPECT_EQ(c.count_logs("unknown source kind 'galileo'", 4), 1) << c.dump_logs();
    EXPECT_EQ(c.count_logs("baud", 4), 1) << c.dump_logs();
    // An empty log callback is allowed.
    EXPECT_FALSE(make_gps_source({"x", "", 9600, "", 0}, c.callback(), nullptr));
    EXPECT_TRUE(make_gps_source({"system", "", 9600, "", 0}, c.callback(), nullptr));
}

} // namespace
