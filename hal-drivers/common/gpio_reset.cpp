#include "gpio_reset.hpp"

#include <gpiod.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace forwarder::lgw {

namespace {

struct Chip {
    gpiod_chip* chip = nullptr;
    std::vector<gpiod_line*> held;
    ~Chip()
    {
        for (auto* l : held) {
            gpiod_line_release(l);
        }
        if (chip != nullptr) {
            gpiod_chip_close(chip);
        }
    }
};

gpiod_line* output(Chip& c, const std::string& path, unsigned line, int value,
                   const std::string& consumer)
{
    gpiod_line* l = gpiod_chip_get_line(c.chip, line);
    if (l == nullptr || gpiod_line_request_output(l, consumer.c_str(), value) != 0) {
        throw std::runtime_error("reset: cannot drive line " + std::to_string(line) + " of " +
                                 path + ": " + std::strerror(errno));
    }
    c.held.push_back(l);
    return l;
}

} // namespace

void gpio_reset(const ResetLines& lines, const std::string& consumer)
{
    Chip c;
    c.chip = gpiod_chip_open(lines.chip.c_str());
    if (c.chip == nullptr) {
        throw std::runtime_error("reset: cannot open " + lines.chip + ": " + std::strerror(errno));
    }
    using namespace std::chrono_literals;
    const int on = lines.active_high ? 1 : 0;
    if (lines.power_enable_line) {
        output(c, lines.chip, *lines.power_enable_line, 1, consumer);
        std::this_thread::sleep_for(100ms);
    }
    gpiod_line* reset = output(c, lines.chip, lines.line, on, consumer);
    gpiod_line* sx1261 = lines.sx1261_reset_line
                             ? output(c, lines.chip, *lines.sx1261_reset_line, 0, consumer)
                             : nullptr;
    std::this_thread::sleep_for(100ms);
    gpiod_line_set_value(reset, 1 - on);
    if (sx1261 != nullptr) {
        gpiod_line_set_value(sx1261, 1);
    }
    std::this_thread::sleep_for(100ms);
}

void run_reset_command(const std::string& command)
{
    pid_t pid = 0;
    std::string copy = command;
    char sh[] = "/bin/sh";
    char dash_c[] = "-c";
    char* argv[] = {sh, dash_c, copy.data(), nullptr};
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) != 0) {
        throw std::runtime_error("reset_command: cannot run /bin/sh");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            throw std::runtime_error("reset_command: '" + command + "' took more than 10 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("reset_command: '" + command + "' failed (status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                 ")");
    }
}

} // namespace forwarder::lgw
