#pragma once
// A Semtech UDP (GWMP v2) network server for uplink-bench: one thread on 127.0.0.1 (ephemeral
// port) that answers PULL_DATA with PULL_ACK and every PUSH_DATA that decodes with PUSH_ACK
// (after decoding, as TTS and ChirpStack do), decodes each body with
// forwarder::udp::parse_push_data and records, for every rxpk, the 8-byte stamp the bench's
// sender put after the frame's 9-byte header together with the arrival time.
//
// Arrival = the kernel's receive time of the datagram (SO_TIMESTAMPNS) moved to
// CLOCK_MONOTONIC: on a 2-core machine that also runs the sender and the forwarder this thread
// falls behind at high rates, and the time a datagram then waits in this socket's buffer is
// the bench's, not the forwarder's (it is reported per phase as "waited in the bench's
// socket"). The pacing figures (datagrams in any 10 ms, TTS's 10-per-10-ms rule) come from the
// same kernel times. SO_RXQ_OVFL counts datagrams the kernel
// dropped because this socket's buffer was full, so a loss on the bench's side is told apart
// from a loss in the forwarder.
#include "udp_codec.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace bench {

// When a stamped frame arrived at a sink: `stamp` is the sender's CLOCK_MONOTONIC ns taken
// when the frame was built (it also names the frame), `at` the receive time on that clock.
struct Arrival {
    uint64_t stamp = 0;
    uint64_t at = 0;
};

// One datagram from the gateway as the kernel received it.
struct GatewayDatagram {
    uint64_t kernel_ns = 0; // CLOCK_REALTIME, SO_TIMESTAMPNS (0 if the kernel gave none)
    // How long it waited in this socket's buffer before the sink read it (not part of the
    // latency figures, which end at the kernel's receive time).
    int64_t waited_ns = 0;
    forwarder::udp::PacketType type = forwarder::udp::PacketType::push_data;
    uint32_t rxpk = 0;       // PUSH_DATA only
    uint32_t json_bytes = 0; // PUSH_DATA only
    bool stat = false;       // PUSH_DATA carried a stat object
};

class UdpSink {
public:
    // `stamp_at`: offset of the 8-byte stamp in each frame's payload.
    explicit UdpSink(size_t stamp_at) : stamp_at_(stamp_at)
    {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) {
            throw std::runtime_error(std::string("udp sink: socket: ") + std::strerror(errno));
        }
        // The forwarder may send a burst of datagrams while this thread is not scheduled: 4 MB
        // (the usual rmem_max) holds a few thousand 1.4 kB PUSH_DATA.
        const int buffer = 4 << 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        ::setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("udp sink: bind 127.0.0.1:0: " + why);
        }
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~UdpSink()
    {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    UdpSink(const UdpSink&) = delete;
    UdpSink& operator=(const UdpSink&) = delete;

    int port() const { return port_; }
    uint64_t rxpk_count() const { return rxpk_.load(); }
    uint64_t push_data_count() const { return push_data_.load(); }
    uint64_t pull_data_count() const { return pull_data_.load(); }
    uint64_t parse_errors() const { return parse_errors_.load(); }
    uint64_t kernel_drops() const { return kernel_drops_.load(); }
    std::string first_parse_error()
    {
        std::lock_guard lock(mutex_);
        return first_error_;
    }
    std::vector<Arrival> take_arrivals()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(arrivals_, {});
    }
    std::vector<GatewayDatagram> take_datagrams()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(datagrams_, {});
    }

private:
    void run()
    {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            // Bounded per round so that stop_ is looked at even under a flood.
            for (int i = 0; i < 1024 && receive_one(); ++i) {
            }
        }
    }

    bool receive_one()
    {
        sockaddr_in from{};
        iovec iov{buf_, sizeof buf_};
        alignas(cmsghdr) char control[256];
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &msg, 0);
        if (n < 0) {
            return false;
        }
        const uint64_t read_at = mono_ns();
        const uint64_t real_at = real_ns();
        GatewayDatagram log;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET) {
                continue;
            }
            if (c->cmsg_type == SCM_TIMESTAMPNS) {
                timespec ts{};
                std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                log.kernel_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                                static_cast<uint64_t>(ts.tv_nsec);
            } else if (c->cmsg_type == SO_RXQ_OVFL) {
                uint32_t drops = 0;
                std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
                kernel_drops_.store(drops);
            }
        }
        // The kernel's receive time on CLOCK_MONOTONIC: the two clocks' offset read now, so
        // only a slew during the wait (ppm) could shift it.
        uint64_t at = read_at;
        if (log.kernel_ns != 0 && log.kernel_ns <= real_at && real_at - log.kernel_ns < read_at) {
            at = read_at - (real_at - log.kernel_ns);
        }
        log.waited_ns = static_cast<int64_t>(read_at - at);
        const std::string_view datagram(buf_, static_cast<size_t>(n));
        const auto header = forwarder::udp::parse_header(datagram);
        if (!header) {
            parse_errors_.fetch_add(1);
            return true;
        }
        using forwarder::udp::PacketType;
        log.type = header->type;
        if (header->type == PacketType::pull_data) {
            pull_data_.fetch_add(1);
            reply(forwarder::udp::encode_ack(PacketType::pull_ack, header->token, header->version),
                  from);
        } else if (header->type == PacketType::push_data && datagram.size() >= 12) {
            push_data(datagram.substr(12), *header, from, at, log);
        } else if (header->type != PacketType::tx_ack) {
            parse_errors_.fetch_add(1);
            return true;
        }
        std::lock_guard lock(mutex_);
        datagrams_.push_back(log);
        return true;
    }

    void push_data(std::string_view body, const forwarder::udp::Header& header,
                   const sockaddr_in& from, uint64_t at, GatewayDatagram& log)
    {
        forwarder::udp::PushData decoded;
        try {
            decoded = forwarder::udp::parse_push_data(body);
        } catch (const std::exception& e) {
            // As TTS and ChirpStack: a body that does not decode is not acknowledged.
            parse_errors_.fetch_add(1);
            std::lock_guard lock(mutex_);
            if (first_error_.empty()) {
                first_error_ = e.what();
            }
            return;
        }
        reply(forwarder::udp::encode_ack(forwarder::udp::PacketType::push_ack, header.token,
                                         header.version),
              from);
        push_data_.fetch_add(1);
        log.rxpk = static_cast<uint32_t>(decoded.uplinks.size());
        log.json_bytes = static_cast<uint32_t>(body.size());
        log.stat = decoded.stat.has_value();
        std::lock_guard lock(mutex_);
        for (const auto& up : decoded.uplinks) {
            const std::string& payload = up.payload();
            if (payload.size() >= stamp_at_ + 8) {
                uint64_t stamp = 0;
                std::memcpy(&stamp, payload.data() + stamp_at_, 8);
                arrivals_.push_back({stamp, at});
            }
        }
        rxpk_.fetch_add(decoded.uplinks.size());
    }

    void reply(const std::string& datagram, const sockaddr_in& to)
    {
        ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to);
    }

    static uint64_t mono_ns()
    {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
    }
    static uint64_t real_ns()
    {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
    }

    const size_t stamp_at_;
    int fd_ = -1;
    int port_ = 0;
    char buf_[65536];
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> rxpk_{0}, push_data_{0}, pull_data_{0}, parse_errors_{0};
    std::atomic<uint64_t> kernel_drops_{0};
    std::mutex mutex_; // guards everything below
    std::vector<Arrival> arrivals_;
    std::vector<GatewayDatagram> datagrams_;
    std::string first_error_;
    std::thread thread_;
};

} // namespace bench
