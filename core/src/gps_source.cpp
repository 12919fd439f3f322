#include "gps_source.hpp"

#include "nmea.hpp"

#include <dlfcn.h>
#include <gps.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

namespace forwarder::core {

GpsSource::~GpsSource() = default;

namespace {

constexpr int kTrace = 0;
constexpr int kDebug = 1;
constexpr int kInfo = 2;
constexpr int kWarn = 3;
constexpr int kError = 4;

constexpr int kBackoffMinMs = 1'000;
constexpr int kBackoffMaxMs = 30'000;
// stop() waits this long for the thread before detaching it (stop() must return in 500 ms).
constexpr auto kStopWait = std::chrono::milliseconds(400);
// Poll period of the I/O loops: an upper bound, since stop() also wakes them through an eventfd.
constexpr int kPollMs = 250;

uint64_t mono_us()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

std::string errno_text(int err)
{
    return std::strerror(err);
}

int next_backoff(int ms)
{
    return std::min(ms * 2, kBackoffMaxMs);
}

// What a source object and its thread share. The thread holds its own reference, so a thread
// stuck in a blocking library call (DNS lookup or connect in gps_open) can be detached by
// stop(); it then finishes on its own without touching the source object or the callbacks.
class Worker {
public:
    Worker(const void* owner, std::string name, GpsCallback callback, GpsLogCallback log)
        : owner_(owner), name_(std::move(name)), callback_(std::move(callback)),
          log_(std::move(log)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
    {
    }
    ~Worker()
    {
        if (wake_fd_ >= 0)
            close(wake_fd_);
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    const void* owner() const { return owner_; }
    bool stopping() const { return stopping_.load(); }
    int wake_fd() const { return wake_fd_; }

    void request_stop()
    {
        stopping_ = true;
        const uint64_t one = 1;
        if (wake_fd_ >= 0)
            (void)!write(wake_fd_, &one, sizeof one);
    }

    // No callback (fix or log) starts after this. From another thread, also waits for a
    // callback in progress; on the worker thread (a callback stopping its own source) it
    // cannot, and need not.
    void silence(bool on_worker_thread)
    {
        silenced_ = true;
        if (!on_worker_thread) {
            std::lock_guard<std::mutex> lock(callback_mutex_);
        }
    }

    // Sleeps up to `ns` nanoseconds; false if a stop was requested.
    bool sleep_ns(int64_t ns)
    {
        if (stopping())
            return false;
        pollfd pfd{wake_fd_, POLLIN, 0};
        timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        (void)ppoll(&pfd, 1, &ts, nullptr);
        return !stopping();
    }
    bool sleep_ms(int ms) { return sleep_ns(static_cast<int64_t>(ms) * 1'000'000); }

    // At most one fix per GPS second: later reports for the same second are dropped.
    void emit(const GpsFix& fix)
    {
        if (fix.gps_second && last_second_ && *fix.gps_second == *last_second_)
            return;
        if (fix.gps_second)
            last_second_ = fix.gps_second;
        std::lock_guard<std::mutex> lock(callback_mutex_);
        if (silenced_ || stopping() || !callback_)
            return;
        callback_(fix);
    }

    void log(int level, const std::string& message)
    {
        std::lock_guard<std::mutex> lock(callback_mutex_);
        if (silenced_ || !log_)
            return;
        log_(level, name_ + ": " + message);
    }

    void finished() { done_.set_value(); }
    std::future<void> done_future() { return done_.get_future(); }

private:
    const void* owner_;
    std::string name_;
    GpsCallback callback_;
    GpsLogCallback log_;
    int wake_fd_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> silenced_{false};
    std::mutex callback_mutex_;
    std::optional<uint64_t> last_second_;
    std::promise<void> done_;
};

// Logs a line when a state changes, never per attempt.
template <typename State> class StateLog {
public:
    explicit StateLog(State initial) : state_(initial) {}
    bool is(State s) const { return state_ == s; }
    // Returns true (and logs) if `s` differs from the current state.
    bool enter(Worker& w, State s, int level, const std::string& message)
    {
        if (state_ == s)
            return false;
        state_ = s;
        w.log(level, message);
        return true;
    }

private:
    State state_;
};

using Body = std::function<void(Worker&)>;

// The Worker whose thread this is (null on other threads).
thread_local Worker* tl_worker = nullptr;

// Owns the thread; the kind-specific loop is `body`, which must only use its Worker and what it
// captured by value.
class ThreadedSource : public GpsSource {
public:
    ThreadedSource(std::string description, GpsCallback callback, GpsLogCallback log)
        : description_(std::move(description)), callback_(std::move(callback)), log_(std::move(log))
    {
    }
    ~ThreadedSource() override
    {
        if (on_own_thread()) { // destroyed by its own callback: the thread cannot join itself
            stop();
            if (thread_.joinable())
                thread_.detach();
            return;
        }
        stop();
    }

    void start() override
    {
        if (on_own_thread()) // from our own callback: ignored (the source is running anyway)
            return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (thread_.joinable()) {
            if (!worker_->stopping())
                return;
            reap_locked(); // a callback stopped the source; finish that thread first
        }
        worker_ = std::make_shared<Worker>(this, description_, callback_, log_);
        if (worker_->wake_fd() < 0) {
            if (log_)
                log_(kError, description_ + ": eventfd: " + errno_text(errno));
            worker_.reset();
            return;
        }
        done_ = worker_->done_future();
        thread_ = std::thread([worker = worker_, body = body()] {
            tl_worker = worker.get();
            // libgps writes to its socket with write(): a gpsd that just went away must
            // not raise SIGPIPE in a process that did not ignore it. A SIGPIPE blocked here
            // stays pending on this thread only and is discarded when it exits.
            sigset_t sigpipe;
            sigemptyset(&sigpipe);
            sigaddset(&sigpipe, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);
            body(*worker);
            worker->finished();
        });
    }

    void stop() override
    {
        if (on_own_thread()) {
            // From our own callback: no lock (another thread may hold mutex_ while waiting for
            // this callback to return). The thread ends when the callback returns; the next
            // start() or stop() joins it.
            tl_worker->request_stop();
            tl_worker->silence(true);
            return;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        reap_locked();
    }

    std::string describe() const override { return description_; }

protected:
    virtual Body body() const = 0;

private:
    bool on_own_thread() const { return tl_worker != nullptr && tl_worker->owner() == this; }

    // Stops and joins the thread; detaches it if it is still stuck in a blocking call after
    // kStopWait (it then finishes on its own, silenced).
    void reap_locked()
    {
        if (!thread_.joinable())
            return;
        worker_->request_stop();
        if (done_.wait_for(kStopWait) == std::future_status::ready) {
            thread_.join();
        } else {
            worker_->silence(false);
            thread_.detach();
            if (log_)
                log_(kWarn, description_ + ": worker thread still blocked; detached it");
        }
        worker_.reset();
    }

    const std::string description_;
    const GpsCallback callback_;
    const GpsLogCallback log_;
    std::mutex mutex_;
    std::shared_ptr<Worker> worker_;
    std::thread thread_;
    std::future<void> done_;
};

// ---------------------------------------------------------------------------------------------
// system: host UTC as GPS time

void run_system(Worker& w)
{
    w.log(kInfo, "host UTC clock taken as GPS time (only as accurate as NTP; no PPS)");
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t next = static_cast<int64_t>(now.tv_sec) + 1; // first report at the next boundary
    while (!w.stopping()) {
        clock_gettime(CLOCK_REALTIME, &now);
        const int64_t second = now.tv_sec;
        if (second >= next) {
            GpsFix fix;
            fix.received_mono_us = mono_us();
            fix.gps_second = utc_to_gps_seconds(second);
            w.emit(fix);
            next = second + 1;
            continue;
        }
        if (second < next - 1) // the clock was stepped back
            next = second + 1;
        const int64_t until_boundary =
            (next - second) * 1'000'000'000 - static_cast<int64_t>(now.tv_nsec);
        // Wake 100 µs after the boundary; re-check at least every 500 ms for clock steps.
        if (!w.sleep_ns(std::min<int64_t>(until_boundary + 100'000, 500'000'000)))
            break;
    }
}

class SystemSource final : public ThreadedSource {
public:
    SystemSource(GpsCallback cb, GpsLogCallback log)
        : ThreadedSource("system clock (host UTC via NTP)", std::move(cb), std::move(log))
    {
    }

protected:
    Body body() const override { return run_system; }
};

// ---------------------------------------------------------------------------------------------
// nmea: receiver on a tty

speed_t baud_constant(uint32_t baud)
{
    switch (baud) {
    case 1200:
        return B1200;
    case 2400:
        return B2400;
    case 4800:
        return B4800;
    case 9600:
        return B9600;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    case 230400:
        return B230400;
    case 460800:
        return B460800;
    case 921600:
        return B921600;
    default:
        return B0;
    }
}

constexpr size_t kMaxLineBytes = 512;        // longer without a newline: garbage, dropped
constexpr uint64_t kNoDataUs = 5'000'000;    // open but silent this long: warn once
constexpr int kGarbageStreak = 5;            // consecutive bad lines before warning
constexpr uint64_t kGgaMaxAgeUs = 1'500'000; // a GGA this recent supplies the altitude

struct NmeaSettings {
    std::string device;
    uint32_t baud = 9600;
    speed_t speed = B9600;
};

enum class LinkState { starting, open_failed, io_error, silent, garbage, receiving };
enum class FixState { unknown, fix, no_fix };

class NmeaReader {
public:
    NmeaReader(Worker& w, const NmeaSettings& s) : w_(w), s_(s) {}

    void run()
    {
        int backoff = kBackoffMinMs;
        bool opened_once = false;
        while (!w_.stopping()) {
            std::string problem;
            const int fd = open_device(problem);
            if (fd < 0) {
                link_.enter(w_, LinkState::open_failed, kWarn,
                            problem + "; retrying with backoff up to 30 s");
                if (!w_.sleep_ms(backoff))
                    break;
                backoff = next_backoff(backoff);
                continue;
            }
            w_.log(opened_once ? kDebug : kInfo,
                   "opened " + s_.device + " at " + std::to_string(s_.baud) + " baud");
            opened_once = true;
            good_sentences_ = 0;
            problem = read_loop(fd);
            close(fd);
            if (w_.stopping())
                break;
            // Backoff restarts only after a session that produced valid sentences, so a
            // device that opens and fails at once is retried at a falling rate.
            if (good_sentences_ > 0)
                backoff = kBackoffMinMs;
            link_.enter(w_, LinkState::io_error, kWarn,
                        s_.device + ": " + problem + "; reopening with backoff up to 30 s");
            if (!w_.sleep_ms(backoff))
                break;
            backoff = next_backoff(backoff);
        }
    }

private:
    int open_device(std::string& problem)
    {
        const int fd = open(s_.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            problem = "cannot open " + s_.device + ": " + errno_text(errno);
            return -1;
        }
        if (!isatty(fd)) // a FIFO or file replaying recorded NMEA: no line settings
            return fd;
        termios tio{};
        if (tcgetattr(fd, &tio) != 0) {
            problem = s_.device + ": tcgetattr: " + errno_text(errno);
            close(fd);
            return -1;
        }
        cfmakeraw(&tio);
        tio.c_cflag |= CLOCAL | CREAD;
        tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS);
        tio.c_cc[VMIN] = 1; // with O_NONBLOCK: EAGAIN when empty, 0 only on hangup
        tio.c_cc[VTIME] = 0;
        if (cfsetispeed(&tio, s_.speed) != 0 || cfsetospeed(&tio, s_.speed) != 0 ||
            tcsetattr(fd, TCSANOW, &tio) != 0) {
            problem = s_.device + ": cannot set " + std::to_string(s_.baud) +
                      " baud raw mode: " + errno_text(errno);
            close(fd);
            return -1;
        }
        // Sentences buffered before we opened carry no usable receive time.
        (void)tcflush(fd, TCIFLUSH);
        return fd;
    }

    // Returns why the device must be reopened (empty when stopping).
    std::string read_loop(int fd)
    {
        std::string pending;
        uint64_t last_data = mono_us();
        char buf[256];
        while (!w_.stopping()) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {w_.wake_fd(), POLLIN, 0}};
            const int r = poll(fds, 2, kPollMs);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return "poll: " + errno_text(errno);
            }
            if (fds[1].revents != 0)
                return {};
            const uint64_t now = mono_us();
            if (fds[0].revents == 0) {
                if (now - last_data > kNoDataUs)
                    link_.enter(w_, LinkState::silent, kWarn,
                                "no data from " + s_.device +
                                    " for 5 s (receiver connected? baud rate?)");
                continue;
            }
            if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0)
                return "device error";
            const ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                return "read: " + errno_text(errno);
            }
            if (n == 0)
                return "hangup or end of file";
            last_data = now;
            pending.append(buf, static_cast<size_t>(n));
            size_t start = 0;
            for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
                handle_line(std::string_view(pending).substr(start, nl - start), now);
            pending.erase(0, start);
            if (pending.size() > kMaxLineBytes) {
                pending.clear();
                bad_line("no line end in " + std::to_string(kMaxLineBytes) + " bytes");
            }
        }
        return {};
    }

    void bad_line(const std::string& why)
    {
        if (++bad_streak_ >= kGarbageStreak)
            link_.enter(w_, LinkState::garbage, kWarn,
                        "only invalid data from " + s_.device +
                            " (wrong baud rate?); last: " + why);
    }

    void handle_line(std::string_view line, uint64_t now)
    {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        if (line.empty())
            return;
        // Noise before the sentence (or a truncated one) ends at the last '$'.
        const size_t dollar = line.rfind('$');
        if (dollar == std::string_view::npos) {
            bad_line("no '$' in line");
            return;
        }
        NmeaSentence sentence;
        std::string error;
        if (!parse_nmea(line.substr(dollar), sentence, error)) {
            w_.log(kTrace, "ignored line: " + error);
            bad_line(error);
            return;
        }
        bad_streak_ = 0;
        ++good_sentences_;
        link_.enter(w_, LinkState::receiving, kInfo, "receiving NMEA from " + s_.device);
        if (const auto* gga = std::get_if<NmeaGga>(&sentence)) {
            if (gga->fix_quality > 0) {
                last_gga_ = *gga;
                last_gga_us_ = now;
            }
        } else if (const auto* rmc = std::get_if<NmeaRmc>(&sentence)) {
            handle_rmc(*rmc, now);
        }
    }

    void handle_rmc(const NmeaRmc& rmc, uint64_t now)
    {
        if (!rmc.active || !rmc.unix_seconds) {
            fix_.enter(w_, FixState::no_fix, kInfo, "receiver has no fix (RMC status V)");
            return;
        }
        fix_.enter(w_, FixState::fix, kInfo, "receiver has a fix (" + rmc.talker + "RMC)");
        GpsFix fix;
        fix.gps_second = utc_to_gps_seconds(*rmc.unix_seconds);
        fix.received_mono_us = now;
        fix.latitude = rmc.latitude;
        fix.longitude = rmc.longitude;
        const bool gga_recent = last_gga_ && now - last_gga_us_ <= kGgaMaxAgeUs;
        if (gga_recent) {
            if (!fix.latitude || !fix.longitude) {
                fix.latitude = last_gga_->latitude;
                fix.longitude = last_gga_->longitude;
            }
            fix.altitude_m = last_gga_->altitude_m;
        }
        w_.emit(fix);
    }

    Worker& w_;
    const NmeaSettings& s_;
    StateLog<LinkState> link_{LinkState::starting};
    StateLog<FixState> fix_{FixState::unknown};
    int bad_streak_ = 0;
    uint64_t good_sentences_ = 0;
    std::optional<NmeaGga> last_gga_;
    uint64_t last_gga_us_ = 0;
};

class NmeaSource final : public ThreadedSource {
public:
    NmeaSource(NmeaSettings settings, GpsCallback cb, GpsLogCallback log)
        : ThreadedSource("nmea " + settings.device + " @" + std::to_string(settings.baud),
                         std::move(cb), std::move(log)),
          settings_(std::move(settings))
    {
    }

protected:
    Body body() const override
    {
        return [settings = settings_](Worker& w) { NmeaReader(w, settings).run(); };
    }

private:
    const NmeaSettings settings_;
};

// ---------------------------------------------------------------------------------------------
// gpsd: libgps client

// True if a gpsd JSON report is of class `cls` ("class" is the first member gpsd writes).
bool json_class_is(const char* message, std::string_view cls)
{
    std::string_view m(message);
    size_t pos = m.find("\"class\"");
    if (pos == std::string_view::npos)
        return false;
    pos += 7;
    while (pos < m.size() && (m[pos] == ' ' || m[pos] == ':'))
        ++pos;
    m.remove_prefix(std::min(pos, m.size()));
    return m.size() >= cls.size() + 2 && m[0] == '"' && m.substr(1, cls.size()) == cls &&
           m[cls.size() + 1] == '"';
}

enum class GpsdState { starting, unavailable, connected, lost };

// libgps, opened only when a gpsd source is configured: it pulls in D-Bus and friends
// (about 1.7 MB of resident shared libraries) that no other configuration needs.
struct LibGps {
    decltype(&::gps_open) open = nullptr;
    decltype(&::gps_close) close = nullptr;
    decltype(&::gps_stream) stream = nullptr;
    decltype(&::gps_read) read = nullptr;
    decltype(&::gps_errstr) errstr = nullptr;
    std::string error; // why it could not be loaded; empty when loaded

    static const LibGps& get()
    {
        static const LibGps lib = load();
        return lib;
    }

private:
    static LibGps load()
    {
        LibGps lib;
        // The library whose headers we were built with (gpsd 3.22: libgps.so.28).
        void* handle = dlopen("libgps.so.28", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = dlerror();
            lib.error = std::string("cannot load libgps (package libgps28): ") +
                        (why != nullptr ? why : "unknown error");
            return lib;
        }
        lib.open = reinterpret_cast<decltype(lib.open)>(dlsym(handle, "gps_open"));
        lib.close = reinterpret_cast<decltype(lib.close)>(dlsym(handle, "gps_close"));
        lib.stream = reinterpret_cast<decltype(lib.stream)>(dlsym(handle, "gps_stream"));
        lib.read = reinterpret_cast<decltype(lib.read)>(dlsym(handle, "gps_read"));
        lib.errstr = reinterpret_cast<decltype(lib.errstr)>(dlsym(handle, "gps_errstr"));
        if (!lib.open || !lib.close || !lib.stream || !lib.read || !lib.errstr) {
            lib.error = "libgps lacks gps_open/gps_close/gps_stream/gps_read/gps_errstr";
        }
        return lib;
    }
};

class GpsdClient {
public:
    GpsdClient(Worker& w, std::string host, uint16_t port)
        : w_(w), host_(std::move(host)), port_(std::to_string(port))
    {
    }

    void run()
    {
        const LibGps& gps = LibGps::get();
        if (!gps.error.empty()) {
            w_.log(kError, "gpsd source: " + gps.error);
            return;
        }
        int backoff = kBackoffMinMs;
        while (!w_.stopping()) {
            gps_data_t gd;
            std::memset(&gd, 0, sizeof gd);
            // Blocking DNS lookup and connect: fast for a local gpsd; stop() detaches the
            // thread if it is stuck here.
            if (gps.open(host_.c_str(), port_.c_str(), &gd) != 0) {
                const std::string why = gps.errstr(errno);
                if (!state_.is(GpsdState::lost))
                    state_.enter(w_, GpsdState::unavailable, kWarn,
                                 "unavailable (" + why + "); retrying with backoff up to 30 s");
                if (!w_.sleep_ms(backoff))
                    break;
                backoff = next_backoff(backoff);
                continue;
            }
            bool got_data = false;
            std::string why;
            if (gps.stream(&gd, WATCH_ENABLE | WATCH_JSON, nullptr) != 0) {
                why = "cannot send ?WATCH";
            } else {
                // gps_read() must never block: without O_NONBLOCK it would wait in recv()
                // for the rest of a partial line.
                const int flags = fcntl(gd.gps_fd, F_GETFL);
                if (flags < 0 || fcntl(gd.gps_fd, F_SETFL, flags | O_NONBLOCK) != 0)
                    why = "fcntl: " + errno_text(errno);
                else
                    why = session(gd, got_data);
            }
            (void)gps.close(&gd);
            if (w_.stopping())
                break;
            if (got_data) {
                backoff = kBackoffMinMs;
                state_.enter(w_, GpsdState::lost, kWarn, "lost gpsd (" + why + "); reconnecting");
            } else if (!state_.is(GpsdState::lost)) {
                state_.enter(w_, GpsdState::unavailable, kWarn,
                             "unusable (" + why + "); retrying with backoff up to 30 s");
            }
            if (!w_.sleep_ms(backoff))
                break;
            backoff = next_backoff(backoff);
        }
    }

private:
    // Reads reports until the connection fails (returns why) or a stop is requested.
    std::string session(gps_data_t& gd, bool& got_data)
    {
        char message[512];
        while (!w_.stopping()) {
            pollfd fds[2] = {{gd.gps_fd, POLLIN, 0}, {w_.wake_fd(), POLLIN, 0}};
            const int r = poll(fds, 2, kPollMs);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return "poll: " + errno_text(errno);
            }
            if (fds[1].revents != 0)
                return "stopped";
            if (fds[0].revents == 0)
                continue;
            const uint64_t now = mono_us();
            // One gps_read() unpacks one line; drain every complete line now, since poll()
            // cannot see lines already in libgps's buffer.
            while (!w_.stopping()) {
                message[0] = '\0';
                const int n = LibGps::get().read(&gd, message, sizeof message);
                if (n < 0)
                    return errno != 0 ? errno_text(errno) : "connection closed";
                if (n == 0)
                    break;
                if (!got_data) {
                    got_data = true;
                    state_.enter(w_, GpsdState::connected, kInfo, "connected to gpsd");
                }
                if (json_class_is(message, "TPV"))
                    handle_tpv(gd, now);
            }
        }
        return "stopped";
    }

    void handle_tpv(const gps_data_t& gd, uint64_t now)
    {
        const gps_fix_t& f = gd.fix;
        if (f.mode < MODE_2D || f.time.tv_sec <= 0) {
            fix_.enter(w_, FixState::no_fix, kInfo, "gpsd reports no fix");
            return;
        }
        fix_.enter(w_, FixState::fix, kInfo,
                   std::string("gpsd reports a ") + (f.mode >= MODE_3D ? "3D" : "2D") + " fix");
        GpsFix fix;
        fix.received_mono_us = now;
        // tv_nsec is in [0, 1e9), so tv_sec is floor(UTC).
        fix.gps_second = utc_to_gps_seconds(static_cast<int64_t>(f.time.tv_sec));
        if (std::isfinite(f.latitude) && std::isfinite(f.longitude)) {
            fix.latitude = f.latitude;
            fix.longitude = f.longitude;
        }
        if (f.mode >= MODE_3D) {
            if (std::isfinite(f.altMSL))
                fix.altitude_m = f.altMSL;
            else if (std::isfinite(f.altHAE))
                fix.altitude_m = f.altHAE;
            else if (std::isfinite(f.altitude)) // "alt" of older gpsd
                fix.altitude_m = f.altitude;
        }
        w_.emit(fix);
    }

    Worker& w_;
    const std::string host_;
    const std::string port_;
    StateLog<GpsdState> state_{GpsdState::starting};
    StateLog<FixState> fix_{FixState::unknown};
};

class GpsdSource final : public ThreadedSource {
public:
    GpsdSource(std::string host, uint16_t port, GpsCallback cb, GpsLogCallback log)
        : ThreadedSource("gpsd " + host + ":" + std::to_string(port), std::move(cb),
                         std::move(log)),
          host_(std::move(host)), port_(port)
    {
    }

protected:
    Body body() const override
    {
        return [host = host_, port = port_](Worker& w) { GpsdClient(w, host, port).run(); };
    }

private:
    const std::string host_;
    const uint16_t port_;
};

} // namespace

std::unique_ptr<GpsSource> make_gps_source(const GpsSourceConfig& config, GpsCallback callback,
                                           GpsLogCallback log)
{
    auto fail = [&](const std::string& message) -> std::unique_ptr<GpsSource> {
        if (log)
            log(kError, "gps: " + message);
        return nullptr;
    };
    if (config.kind == "system")
        return std::make_unique<SystemSource>(std::move(callback), std::move(log));
    if (config.kind == "gpsd") {
        if (config.host.empty() || config.port == 0)
            return fail("gpsd needs a host and a non-zero port");
        return std::make_unique<GpsdSource>(config.host, config.port, std::move(callback),
                                            std::move(log));
    }
    if (config.kind == "nmea") {
        if (config.device.empty())
            return fail("nmea needs a device (tty path)");
        const speed_t speed = baud_constant(config.baud);
        if (speed == B0)
            return fail("nmea: unsupported baud rate " + std::to_string(config.baud));
        return std::make_unique<NmeaSource>(NmeaSettings{config.device, config.baud, speed},
                                            std::move(callback), std::move(log));
    }
    return fail("unknown source kind '" + config.kind + "' (expected gpsd, nmea or system)");
}

} // namespace forwarder::core
