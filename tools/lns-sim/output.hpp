// Event output of the simulated LNS: one JSON object per line on stdout (flushed per line), or
// short human-readable lines with --pretty. Thread-safe.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace lns_sim {

// A JSON object that keeps its keys in insertion order.
Poco::JSON::Object::Ptr new_object();

// Compact one-line JSON text of any value.
std::string to_json(const Poco::Dynamic::Var& value);

// Seconds since the Unix epoch, with microseconds.
double unix_now();
// Microseconds since the Unix epoch.
int64_t unix_now_us();

class Output {
public:
    explicit Output(bool pretty) : pretty_(pretty) {}

    bool pretty() const { return pretty_; }

    // JSON mode: writes `event`; pretty mode: writes `pretty_line` unless it is empty.
    void event(const Poco::JSON::Object::Ptr& event, const std::string& pretty_line);

    // Always JSON (the first "listening" line).
    void json(const Poco::JSON::Object::Ptr& event);

    // "forwarder-lns-sim: <text>" on stderr.
    void error(const std::string& text);

private:
    void write_line(const std::string& line);

    bool pretty_;
    std::mutex mutex_;
};

} // namespace lns_sim
