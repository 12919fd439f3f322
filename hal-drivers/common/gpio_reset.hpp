#pragma once
// Board reset through the Linux GPIO character device (libgpiod), as Semtech's reset_lgw.sh
// does with sysfs: power-enable on, then a pulse on the concentrator's reset line (and the
// SX1261's), before the HAL starts. Throws std::runtime_error naming the chip and line.
#include <optional>
#include <string>

namespace forwarder::lgw {

struct ResetLines {
    std::string chip = "/dev/gpiochip0";
    unsigned line = 0;
    bool active_high = true;
    std::optional<unsigned> power_enable_line;
    std::optional<unsigned> sx1261_reset_line;
};

void gpio_reset(const ResetLines& lines, const std::string& consumer);

// Runs `command` with /bin/sh -c; throws with its exit status if it fails or takes > 10 s.
void run_reset_command(const std::string& command);

} // namespace forwarder::lgw
