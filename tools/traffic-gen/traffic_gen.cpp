// forwarder-traffic-gen: sends Semtech-style `rxpk` JSON datagrams to the virtual radio's
// `uplink_udp` listener, at a steady rate, for tests, demos and benchmarks.
//
// Each frame looks like a LoRaWAN unconfirmed data up (MHDR 0x40, a fixed DevAddr, FCnt
// counting up from 0, FPort 1, filler FRMPayload, a fake MIC). With --stamp the first 8
// bytes of every payload carry the sender's CLOCK_MONOTONIC time in ns (little-endian),
// so a receiver on the same host can measure latency.
#include "base64.hpp"
#include "cli_args.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kProgram = "forwarder-traffic-gen";
constexpr uint32_t kDevAddr = 0x26011F2A;
constexpr size_t kMaxDatagram = 65507;

const char* const kUsage =
    "Usage: forwarder-traffic-gen [options]\n"
    "Sends rxpk JSON datagrams to the virtual radio (option uplink_udp of forwarder-virtual).\n"
    "\n"
    "  --target HOST:PORT  where to send: IPv4, [IPv6] or localhost (default 127.0.0.1:1780)\n"
    "  --rate N            frames per second, may be fractional; 0 = as fast as possible\n"
    "                      (default 2)\n"
    "  --count N           frames to send in total, 1..1000000000 (default 10)\n"
    "  --batch N           rxpk items per datagram, 1..100 (default 1)\n"
    "  --size N            payload bytes per frame, 0..255 (default 23)\n"
    "  --sf N              LoRa spreading factor 7..12, bandwidth 125 kHz (default 7)\n"
    "  --freq MHZ          send every frame on this frequency (default: cycle over\n"
    "                      868.1, 868.3 and 868.5 MHz)\n"
    "  --stamp             put CLOCK_MONOTONIC ns as the first 8 payload bytes\n"
    "                      (little-endian); needs --size 8 or more\n"
    "  --quiet             print only the summary line, not one line per frame\n"
    "  --help              print this help\n"
    "\n"
    "Frames look like LoRaWAN unconfirmed data up: MHDR 0x40, DevAddr 26011F2A, FCnt from 0.\n"
    "Exit status: 0 all frames sent, 1 some sends failed, 2 bad usage.\n";

struct Settings {
    std::string target = "127.0.0.1:1780";
    double rate = 2;
    uint64_t count = 10;
    uint32_t batch = 1;
    uint32_t size = 23;
    uint32_t sf = 7;
    std::optional<double> freq_mhz;
    bool stamp = false;
    bool quiet = false;
};

using forwarder::support::UsageError;

using forwarder::support::parse_integer;

double parse_number(const std::string& option, const std::string& text, double min, double max,
                    bool min_inclusive)
{
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    const bool above = min_inclusive ? value >= min : value > min;
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value) || !above || value > max) {
        throw UsageError{option + ": expected a number " + (min_inclusive ? ">= " : "> ") +
                         std::to_string(min) + " and <= " + std::to_string(max) + ", got '" + text +
                         "'"};
    }
    return value;
}

// Returns nullopt when --help was given.
std::optional<Settings> parse_arguments(int argc, char** argv)
{
    Settings settings;
    forwarder::support::ArgReader args(argc, argv);
    while (args.next()) {
        const std::string argument = args.name();
        auto value = [&] { return args.value(); };
        auto no_value = [&] { args.no_value(); };
        if (argument == "--help" || argument == "-h") {
            return std::nullopt;
        } else if (argument == "--target") {
            settings.target = value();
        } else if (argument == "--rate") {
            settings.rate = parse_number(argument, value(), 0, 10000000, true);
        } else if (argument == "--count") {
            settings.count = parse_integer<uint64_t>(argument, value(), 1, 1000000000);
        } else if (argument == "--batch") {
            settings.batch = parse_integer<uint32_t>(argument, value(), 1, 100);
        } else if (argument == "--size") {
            settings.size = parse_integer<uint32_t>(argument, value(), 0, 255);
        } else if (argument == "--sf") {
            settings.sf = parse_integer<uint32_t>(argument, value(), 7, 12);
        } else if (argument == "--freq") {
            settings.freq_mhz = parse_number(argument, value(), 0, 10000, false);
        } else if (argument == "--stamp") {
            no_value();
            settings.stamp = true;
        } else if (argument == "--quiet" || argument == "-q") {
            no_value();
            settings.quiet = true;
        } else {
            throw UsageError{"unknown argument '" + argument + "'"};
        }
    }
    if (settings.stamp && settings.size < 8) {
        throw UsageError{"--stamp: needs --size 8 or more (the stamp is 8 bytes)"};
    }
    return settings;
}

// "A.B.C.D:PORT", "[IPv6]:PORT" or "localhost:PORT".
sockaddr_storage parse_target(const std::string& text, socklen_t& length)
{
    const UsageError bad{"--target: expected HOST:PORT (IPv4, [IPv6] or localhost) with a port "
                         "1..65535, got '" +
                         text + "'"};
    std::string host;
    std::string port_text;
    const bool bracketed = !text.empty() && text.front() == '[';
    if (bracketed) {
        const size_t close = text.find(']');
        if (close == text.npos || close + 1 >= text.size() || text[close + 1] != ':') {
            throw bad;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == text.npos) {
            throw bad;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
        throw bad;
    }
    sockaddr_storage address{};
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (!bracketed && host == "localhost") {
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in->sin_port = htons(static_cast<uint16_t>(port));
        length = sizeof(sockaddr_in);
    } else if (!bracketed && inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(static_cast<uint16_t>(port));
        length = sizeof(sockaddr_in);
    } else if (bracketed && inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<uint16_t>(port));
        length = sizeof(sockaddr_in6);
    } else {
        throw bad;
    }
    return address;
}

uint64_t monotonic_ns()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

void sleep_until_ns(uint64_t deadline)
{
    timespec at{};
    at.tv_sec = static_cast<time_t>(deadline / 1000000000u);
    at.tv_nsec = static_cast<long>(deadline % 1000000000u);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
    }
}

// A deterministic filler byte stream (xorshift32), so captures differ frame to frame.
uint8_t filler(uint32_t& state)
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return static_cast<uint8_t>(state);
}

// One frame shaped like a LoRaWAN unconfirmed data up, cut or padded to `size` bytes.
void build_payload(std::vector<uint8_t>& frame, uint32_t size, uint64_t fcnt)
{
    frame.clear();
    uint32_t state = static_cast<uint32_t>(fcnt) * 2654435761u + 1;
    frame.push_back(0x40); // MHDR: unconfirmed data up, LoRaWAN R1
    for (int shift = 0; shift < 32; shift += 8) {
        frame.push_back(static_cast<uint8_t>(kDevAddr >> shift)); // DevAddr, little-endian
    }
    frame.push_back(0x00); // FCtrl: no ADR, no ACK, no FOpts
    frame.push_back(static_cast<uint8_t>(fcnt));
    frame.push_back(static_cast<uint8_t>(fcnt >> 8)); // FCnt (16 LSBs), little-endian
    frame.push_back(0x01);                            // FPort 1
    while (frame.size() + 4 < size) {
        frame.push_back(filler(state)); // FRMPayload
    }
    for (int i = 0; i < 4; ++i) {
        frame.push_back(filler(state)); // MIC (not a real one)
    }
    frame.resize(size);
}

constexpr double kDefaultFrequencies[] = {868.1, 868.3, 868.5};

} // namespace

int main(int argc, char** argv)
{
    Settings settings;
    sockaddr_storage target{};
    socklen_t target_length = 0;
    try {
        const std::optional<Settings> parsed = parse_arguments(argc, argv);
        if (!parsed) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        settings = *parsed;
        target = parse_target(settings.target, target_length);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: %s\n(see %s --help)\n", kProgram, e.message.c_str(), kProgram);
        return 2;
    }

    const int fd = ::socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::fprintf(stderr, "%s: cannot create a UDP socket: %s\n", kProgram,
                     std::strerror(errno));
        return 1;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), target_length) != 0) {
        std::fprintf(stderr, "%s: cannot connect to %s: %s\n", kProgram, settings.target.c_str(),
                     std::strerror(errno));
        ::close(fd);
        return 1;
    }

    std::vector<uint8_t> frame;
    frame.reserve(256);
    std::string datagram;
    datagram.reserve(64 * 1024);
    char item[256];
    uint64_t sent_frames = 0;
    uint64_t sent_datagrams = 0;
    uint64_t failed_frames = 0;
    int reported_errors = 0;

    const uint64_t start_ns = monotonic_ns();
    for (uint64_t first = 0; first < settings.count; first += settings.batch) {
        if (settings.rate > 0) {
            // Absolute deadlines: no drift. When behind (a slow send), the next datagrams
            // go out at once until the schedule is met again, so the average rate holds.
            const double offset_ns = static_cast<double>(first) * 1e9 / settings.rate;
            sleep_until_ns(start_ns + static_cast<uint64_t>(std::llround(offset_ns)));
        }
        const uint64_t end = std::min<uint64_t>(first + settings.batch, settings.count);
        datagram = "{\"rxpk\":[";
        for (uint64_t fcnt = first; fcnt < end; ++fcnt) {
            build_payload(frame, settings.size, fcnt);
            if (settings.stamp) {
                const uint64_t stamp = monotonic_ns();
                for (int i = 0; i < 8; ++i) {
                    frame[static_cast<size_t>(i)] = static_cast<uint8_t>(stamp >> (8 * i));
                }
            }
            const size_t channel = static_cast<size_t>(fcnt % 3);
            const double mhz =
                settings.freq_mhz ? *settings.freq_mhz : kDefaultFrequencies[channel];
            const int rssi = -40 - static_cast<int>(fcnt * 7 % 70);
            const double snr = 10.0 - static_cast<double>(fcnt % 15);
            const int n = std::snprintf(
                item, sizeof item,
                "%s{\"chan\":%zu,\"rfch\":0,\"freq\":%.6f,\"stat\":1,\"modu\":\"LORA\","
                "\"datr\":\"SF%uBW125\",\"codr\":\"4/5\",\"rssi\":%d,\"lsnr\":%.1f,\"size\":%u,"
                "\"data\":\"",
                fcnt == first ? "" : ",", settings.freq_mhz ? size_t{0} : channel, mhz, settings.sf,
                rssi, snr, settings.size);
            datagram.append(item, static_cast<size_t>(n));
            datagram += forwarder::support::base64_encode(
                std::string_view(reinterpret_cast<const char*>(frame.data()), frame.size()));
            datagram += "\"}";
            if (!settings.quiet) {
                std::printf("frame %llu/%llu: FCnt %llu, %.6f MHz, SF%uBW125, %u bytes\n",
                            static_cast<unsigned long long>(fcnt + 1),
                            static_cast<unsigned long long>(settings.count),
                            static_cast<unsigned long long>(fcnt & 0xffff), mhz, settings.sf,
                            settings.size);
            }
        }
        datagram += "]}";
        const uint64_t frames = end - first;
        if (datagram.size() > kMaxDatagram) {
            std::fprintf(stderr,
                         "%s: a datagram of %zu bytes is too big for UDP; use a smaller "
                         "--batch or --size\n",
                         kProgram, datagram.size());
            ::close(fd);
            return 2;
        }
        if (::send(fd, datagram.data(), datagram.size(), 0) < 0) {
            failed_frames += frames;
            if (reported_errors++ < 3) {
                std::fprintf(stderr, "%s: send to %s failed: %s\n", kProgram,
                             settings.target.c_str(), std::strerror(errno));
            }
        } else {
            sent_frames += frames;
            ++sent_datagrams;
        }
    }
    const double elapsed = static_cast<double>(monotonic_ns() - start_ns) / 1e9;
    ::close(fd);

    std::printf("%s: sent %llu frames in %llu datagrams to %s in %.3f s (%.1f frames/s), %llu "
                "failed\n",
                kProgram, static_cast<unsigned long long>(sent_frames),
                static_cast<unsigned long long>(sent_datagrams), settings.target.c_str(), elapsed,
                elapsed > 0 ? static_cast<double>(sent_frames) / elapsed : 0.0,
                static_cast<unsigned long long>(failed_frames));
    return failed_frames == 0 ? 0 : 1;
}
