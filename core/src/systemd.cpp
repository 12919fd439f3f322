#include "systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

// The notification protocol is systemd's documented stable interface (sd_notify(3),
// "NOTIFY_SOCKET"): one datagram of newline-separated assignments to the AF_UNIX socket named
// in $NOTIFY_SOCKET ('@' = Linux abstract namespace). Written here instead of linking
// libsystemd: that library and what it pulls in (libgcrypt, libcap, lz4, zstd, lzma) cost about
// 1 MB of resident memory for these few lines.

namespace forwarder::core::systemd {

bool notify(const std::string& state)
{
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || path[0] == '\0') {
        return false;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
        return false;
    }
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') {
        addr.sun_path[0] = '\0';
    }
    const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&addr), addr_len);
    ::close(fd);
    return n == static_cast<ssize_t>(state.size());
}

bool ready(const std::string& status_text)
{
    return notify("READY=1\nSTATUS=" + status_text);
}

bool reloading()
{
    // MONOTONIC_USEC lets systemd ≥ 253 (Type=notify-reload) match the reload; older ones
    // ignore it.
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const uint64_t us =
        static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
    return notify("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" +
                  std::to_string(us));
}

bool stopping()
{
    return notify("STOPPING=1\nSTATUS=stopping");
}

bool status(const std::string& text)
{
    return notify("STATUS=" + text);
}

bool watchdog()
{
    return notify("WATCHDOG=1");
}

uint64_t watchdog_interval_us()
{
    // WATCHDOG_USEC is meant for the process in WATCHDOG_PID when that is set
    // (sd_watchdog_enabled).
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr && pid[0] != '\0') {
        char* end = nullptr;
        const long value = std::strtol(pid, &end, 10);
        if (end == pid || *end != '\0' || value != static_cast<long>(::getpid())) {
            return 0;
        }
    }
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr || usec[0] == '\0') {
        return 0;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(usec, &end, 10);
    if (errno != 0 || end == usec || *end != '\0') {
        return 0;
    }
    return value;
}

} // namespace forwarder::core::systemd
