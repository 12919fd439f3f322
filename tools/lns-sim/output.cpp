#include "output.hpp"

#include <Poco/JSON/Stringifier.h>

#include <chrono>
#include <cstdio>
#include <sstream>

namespace lns_sim {

Poco::JSON::Object::Ptr new_object()
{
    return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

std::string to_json(const Poco::Dynamic::Var& value)
{
    std::ostringstream stream;
    Poco::JSON::Stringifier::stringify(value, stream, 0, -1);
    return stream.str();
}

int64_t unix_now_us()
{
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
}

double unix_now()
{
    return static_cast<double>(unix_now_us()) / 1e6;
}

void Output::event(const Poco::JSON::Object::Ptr& event, const std::string& pretty_line)
{
    if (!pretty_) {
        write_line(to_json(event));
    } else if (!pretty_line.empty()) {
        write_line(pretty_line);
    }
}

void Output::json(const Poco::JSON::Object::Ptr& event)
{
    write_line(to_json(event));
}

void Output::error(const std::string& text)
{
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "forwarder-lns-sim: %s\n", text.c_str());
    std::fflush(stderr);
}

void Output::write_line(const std::string& line)
{
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

} // namespace lns_sim
