#pragma once
// The one logger: lines to stderr (and optionally a file) with UTC timestamp, level and
// component, e.g. "2026-11-30T10:17:28.123Z INFO  [radio0] listening on 127.0.0.1:1780".
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace forwarder::core {

enum class LogLevel { trace = 0, debug = 1, info = 2, warn = 3, error = 4 };

// Parses "trace|debug|info|warn|warning|error"; returns false if unknown.
bool parse_log_level(std::string_view text, LogLevel& out);
const char* log_level_name(LogLevel level);

class Log {
public:
    static void set_level(LogLevel level);
    static LogLevel level();
    static bool enabled(LogLevel level) { return level >= Log::level(); }
    // Also append to `path`; returns false (and keeps logging to stderr) if it can't be opened.
    static bool set_file(const std::string& path, std::string& error);
    static void close_file();
    static void write(LogLevel level, std::string_view component, std::string_view message);
};

inline void log_error(std::string_view c, std::string_view m)
{
    Log::write(LogLevel::error, c, m);
}
inline void log_warn(std::string_view c, std::string_view m)
{
    Log::write(LogLevel::warn, c, m);
}
inline void log_info(std::string_view c, std::string_view m)
{
    Log::write(LogLevel::info, c, m);
}
inline void log_debug(std::string_view c, std::string_view m)
{
    Log::write(LogLevel::debug, c, m);
}

} // namespace forwarder::core
