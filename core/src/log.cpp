#include "log.hpp"

#include <atomic>
#include <ctime>
#include <sys/time.h>

namespace forwarder::core {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_mutex;
FILE* g_file = nullptr;

} // namespace

bool parse_log_level(std::string_view text, LogLevel& out)
{
    if (text == "trace") {
        out = LogLevel::trace;
    } else if (text == "debug") {
        out = LogLevel::debug;
    } else if (text == "info") {
        out = LogLevel::info;
    } else if (text == "warn" || text == "warning") {
        out = LogLevel::warn;
    } else if (text == "error") {
        out = LogLevel::error;
    } else {
        return false;
    }
    return true;
}

const char* log_level_name(LogLevel level)
{
    switch (level) {
    case LogLevel::trace:
        return "TRACE";
    case LogLevel::debug:
        return "DEBUG";
    case LogLevel::info:
        return "INFO ";
    case LogLevel::warn:
        return "WARN ";
    case LogLevel::error:
        return "ERROR";
    }
    return "?";
}

void Log::set_level(LogLevel level)
{
    g_level.store(static_cast<int>(level));
}

LogLevel Log::level()
{
    return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

bool Log::set_file(const std::string& path, std::string& error)
{
    FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) {
        error = "cannot open log file " + path;
        return false;
    }
    std::lock_guard lock(g_mutex);
    if (g_file != nullptr) {
        std::fclose(g_file);
    }
    g_file = f;
    return true;
}

void Log::close_file()
{
    std::lock_guard lock(g_mutex);
    if (g_file != nullptr) {
        std::fclose(g_file);
        g_file = nullptr;
    }
}

void Log::write(LogLevel level, std::string_view component, std::string_view message)
{
    if (!enabled(level)) {
        return;
    }
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tm utc{};
    gmtime_r(&tv.tv_sec, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(tv.tv_usec / 1000));
    // Messages are one line each: a stray newline would split a journald record.
    std::string line;
    line.reserve(48 + component.size() + message.size());
    line.append(stamp).append(" ").append(log_level_name(level)).append(" [");
    line.append(component).append("] ");
    for (char c : message) {
        line.push_back(c == '\n' || c == '\r' ? ' ' : c);
    }
    line.push_back('\n');
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    if (g_file != nullptr) {
        std::fwrite(line.data(), 1, line.size(), g_file);
        std::fflush(g_file);
    }
}

} // namespace forwarder::core
