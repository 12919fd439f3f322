// forwarder — command line and daemon life cycle.
#include "cli_args.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "gateway.hpp"
#include "log.hpp"
#include "options.hpp"
#include "plugin_loader.hpp"
#include "radio_worker.hpp"
#include "systemd.hpp"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

using namespace forwarder::core;

namespace {

constexpr const char* kUsage = R"(Usage: forwarder [OPTIONS]

LoRaWAN gateway packet forwarder: radio-driver plugins -> event bus -> transport plugins.

Options:
  -c, --config FILE        run with the configuration FILE (forwarder.yaml)
      --check-config FILE  validate FILE and every plugin's options, then exit;
                           opens no hardware and no network
      --describe PLUGIN    print a plugin's kind, version and options, then exit
      --plugin-dir DIR     load plugins from DIR (default: <bindir>/../lib/forwarder/plugins
                           if it exists, else )" FORWARDER_PLUGIN_INSTALL_DIR R"()
      --log-level LEVEL    trace, debug, info, warn or error (overrides the config)
      --version            print the version and exit
  -h, --help               print this help and exit

Signals: SIGTERM/SIGINT stop; SIGHUP re-reads the configuration (transports, filters,
priorities, metrics, log level; radios keep running).

Exit status: 0 on success and on SIGTERM/SIGINT, 1 on a configuration or plugin
error, 2 on a usage error.
)";

struct Args {
    std::string config;
    std::string check_config;
    std::string describe;
    std::string plugin_dir;
    std::string log_level;
    bool version = false;
    bool help = false;
};

int usage_error(const std::string& message)
{
    std::fprintf(stderr, "forwarder: %s\nTry 'forwarder --help'.\n", message.c_str());
    return 2;
}

// Returns -1 when parsing succeeded, else the exit code.
int parse_args(int argc, char** argv, Args& args)
{
    forwarder::support::ArgReader reader(argc, argv);
    try {
        while (reader.next()) {
            const std::string& a = reader.name();
            if (a == "-c" || a == "--config") {
                args.config = reader.value();
            } else if (a == "--check-config") {
                args.check_config = reader.value();
            } else if (a == "--describe") {
                args.describe = reader.value();
            } else if (a == "--plugin-dir") {
                args.plugin_dir = reader.value();
            } else if (a == "--log-level") {
                args.log_level = reader.value();
            } else if (a == "--version") {
                reader.no_value();
                args.version = true;
            } else if (a == "-h" || a == "--help") {
                reader.no_value();
                args.help = true;
            } else {
                return usage_error("unknown option '" + a + "'");
            }
        }
    } catch (const forwarder::support::UsageError& e) {
        return usage_error(e.message);
    }
    return -1;
}

std::string plugin_dir_for(const Args& args, const Config* config)
{
    if (!args.plugin_dir.empty()) {
        return args.plugin_dir;
    }
    if (config != nullptr && !config->plugin_dir.empty()) {
        return config->plugin_dir;
    }
    return default_plugin_dir();
}

int describe(const Args& args)
{
    try {
        auto plugin = load_plugin(plugin_dir_for(args, nullptr), args.describe);
        std::fputs(describe_plugin(*plugin->descriptor, plugin->path).c_str(), stdout);
        return 0;
    } catch (const LoadError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

int check_config(const Args& args)
{
    try {
        Config config = load_config(args.check_config);
        Gateway gateway(config, plugin_dir_for(args, &config));
        gateway.check();
        std::printf("%s: OK (%zu radio%s, %zu transport%s)\n", args.check_config.c_str(),
                    config.radios.size(), config.radios.size() == 1 ? "" : "s",
                    config.transports.size(), config.transports.size() == 1 ? "" : "s");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

std::string running_status(const Gateway& gateway)
{
    const size_t radios = gateway.config().radios.size();
    const size_t transports = gateway.transport_count();
    return "running: " + std::to_string(radios) + " radio" + (radios == 1 ? "" : "s") + ", " +
           std::to_string(transports) + " transport" + (transports == 1 ? "" : "s");
}

// Feeds the systemd watchdog (WatchdogSec=) while every core thread keeps running; a thread
// that hangs (a driver or plugin call that never returns, a deadlock) stops the keep-alives,
// and systemd restarts the daemon.
class WatchdogFeeder {
public:
    WatchdogFeeder(Gateway& gateway, uint64_t interval_us)
        : gateway_(gateway), interval_us_(interval_us)
    {
        if (interval_us_ == 0) {
            return;
        }
        log_info("core", "systemd watchdog: " + std::to_string(interval_us_ / 1000) +
                             " ms; keep-alives while every thread runs");
        thread_ = std::thread([this] { loop(); });
    }
    ~WatchdogFeeder()
    {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    void loop()
    {
        bool stalled_logged = false;
        std::unique_lock lock(mutex_);
        while (!cv_.wait_for(lock, std::chrono::microseconds(interval_us_ / 4),
                             [&] { return stop_; })) {
            // Every core thread passes its loop at least every 250 ms when idle.
            const auto stalled = gateway_.stalled(std::max<uint64_t>(interval_us_ / 2, 1'000'000));
            if (stalled.empty()) {
                systemd::watchdog();
                stalled_logged = false;
            } else if (!stalled_logged) {
                stalled_logged = true;
                std::string names;
                for (const auto& [name, age] : stalled) {
                    names += (names.empty() ? "" : ", ") + name + " (" +
                             std::to_string(age / 1000000) + " s)";
                }
                log_error("core", "not answering the systemd watchdog: no progress in " + names +
                                      "; systemd will restart the daemon");
            }
        }
    }

    Gateway& gateway_;
    const uint64_t interval_us_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

// SIGHUP: read the file again and apply what can change while running.
void reload(const Args& args, Gateway& gateway)
{
    systemd::reloading();
    log_info("core", "received SIGHUP: reloading " + args.config);
    try {
        Config next = load_config(args.config);
        if (args.log_level.empty()) {
            Log::set_level(next.log_level_set ? next.log_level : LogLevel::info);
        }
        log_info("core", gateway.reload(std::move(next)));
    } catch (const std::exception& e) {
        log_error("core",
                  std::string("reload refused, the running configuration stays: ") + e.what());
    }
    systemd::ready(running_status(gateway));
}

int run(const Args& args)
{
    // Block the stop and reload signals in every thread (threads inherit the mask); the main
    // thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    Config config;
    try {
        config = load_config(args.config);
    } catch (const std::exception& e) {
        log_error("core", e.what());
        systemd::status(std::string("configuration error: ") + e.what());
        return 1;
    }
    if (args.log_level.empty() && config.log_level_set) {
        Log::set_level(config.log_level);
    }
    if (!config.log_file.empty()) {
        std::string error;
        if (!Log::set_file(config.log_file, error)) {
            log_error("core", config.file + ": gateway.log.file: " + error);
            return 1;
        }
    }
    log_info("core",
             std::string("forwarder ") + FORWARDER_VERSION + " starting with " + config.file);
    Gateway gateway(config, plugin_dir_for(args, &config));
    try {
        gateway.create();
        gateway.start();
    } catch (const std::exception& e) {
        log_error("core", e.what());
        systemd::status(std::string("failed to start: ") + e.what());
        return 1;
    }
    log_info("core", "running");
    const Beat main_beat = gateway.heartbeat("main");
    systemd::ready(running_status(gateway));
    int sig = 0;
    {
        WatchdogFeeder feeder(gateway, systemd::watchdog_interval_us());
        const timespec tick{0, 250'000'000};
        for (;;) {
            sig = sigtimedwait(&signals, nullptr, &tick);
            beat(main_beat, monotonic_us());
            if (sig == SIGHUP) {
                reload(args, gateway);
                beat(main_beat, monotonic_us());
            } else if (sig == SIGTERM || sig == SIGINT) {
                break;
            }
        }
        systemd::stopping();
    }
    log_info("core",
             std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    const uint64_t t0 = monotonic_us();
    gateway.stop();
    log_info("core", "stopped in " + std::to_string((monotonic_us() - t0) / 1000) + " ms; " +
                         gateway.stats_line());
    Log::close_file();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    // Hidden: the daemon runs a radio driver in a process of its own (radio_worker.hpp).
    if (argc >= 2 && std::strcmp(argv[1], "--radio-worker") == 0) {
        return radio_worker_main(argc, argv);
    }
    Args args;
    if (int rc = parse_args(argc, argv, args); rc >= 0) {
        return rc;
    }
    if (args.help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (args.version) {
        std::printf("forwarder %s (plugin ABI %u)\n", FORWARDER_VERSION, FWD_ABI_VERSION_CURRENT);
        return 0;
    }
    if (!args.log_level.empty()) {
        LogLevel level{};
        if (!parse_log_level(args.log_level, level)) {
            return usage_error("--log-level: expected trace, debug, info, warn or error, got '" +
                               args.log_level + "'");
        }
        Log::set_level(level);
    }
    if (!args.describe.empty()) {
        return describe(args);
    }
    if (!args.check_config.empty()) {
        return check_config(args);
    }
    if (args.config.empty()) {
        return usage_error("no configuration: use --config FILE (or --check-config FILE)");
    }
    return run(args);
}
