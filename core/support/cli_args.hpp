#pragma once
// Command-line reading shared by the forwarder's tools: "--name value", "--name=value" and
// flags, with one-line usage errors naming the option.
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

namespace forwarder::support {

struct UsageError {
    std::string message;
};

class ArgReader {
public:
    ArgReader(int argc, char** argv) : argc_(argc), argv_(argv) {}

    // Moves to the next argument; false when there is none.
    bool next()
    {
        if (++index_ >= argc_) {
            return false;
        }
        name_ = argv_[index_];
        inline_value_.reset();
        if (const size_t eq = name_.find('='); name_.rfind("--", 0) == 0 && eq != name_.npos) {
            inline_value_ = name_.substr(eq + 1);
            name_.resize(eq);
        }
        return true;
    }
    // The option's name ("--listen"), without an inline "=value".
    const std::string& name() const { return name_; }
    // Its value: inline, or the next argument.
    std::string value()
    {
        if (inline_value_) {
            return *inline_value_;
        }
        if (index_ + 1 >= argc_) {
            throw UsageError{name_ + ": needs a value"};
        }
        return argv_[++index_];
    }
    // For a flag: refuses "--flag=value".
    void no_value() const
    {
        if (inline_value_) {
            throw UsageError{name_ + ": takes no value"};
        }
    }

private:
    int argc_;
    char** argv_;
    int index_ = 0;
    std::string name_;
    std::optional<std::string> inline_value_;
};

template <class T> T parse_integer(const std::string& option, const std::string& text, T min, T max)
{
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError{option + ": expected an integer " + std::to_string(min) + ".." +
                         std::to_string(max) + ", got '" + text + "'"};
    }
    return value;
}

} // namespace forwarder::support
