#pragma once
// The service manager's notification protocol (sd_notify(3)): readiness,
// reloading, stopping, status text and watchdog keep-alives. Every call is a no-op when the
// daemon was not started by systemd with Type=notify (no $NOTIFY_SOCKET).
#include <cstdint>
#include <string>

namespace forwarder::core::systemd {

// Sends `state` (e.g. "READY=1\nSTATUS=running"). False when not under systemd or on error.
bool notify(const std::string& state);
bool ready(const std::string& status);
bool reloading();
bool stopping();
bool status(const std::string& text);
bool watchdog();
// The watchdog interval systemd expects keep-alives within (WatchdogSec=); 0 = no watchdog.
uint64_t watchdog_interval_us();

} // namespace forwarder::core::systemd
