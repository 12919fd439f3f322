#include "json_read.hpp"

#include "text.hpp"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cmath>
#include <exception>

namespace forwarder::support::json {
namespace {

constexpr size_t kMaxJsonDepth = 32;
constexpr double kMaxExactDouble = 9007199254740992.0; // 2^53

// A whole-number float (a JSON encoder may write 1 as "1.0" or "1e0"): false for anything but
// a float, an error for a fractional, non-finite or inexact one.
bool whole_double(const Var& value, const std::string& name, Rules rules, double& out)
{
    if (value.type() != typeid(double)) {
        return false;
    }
    const double d = value.extract<double>();
    if (!std::isfinite(d) || std::floor(d) != d) {
        fail(name + ": not an integer");
    }
    if (std::fabs(d) > kMaxExactDouble) {
        fail(name + (rules.detailed_errors ? ": integer written as a float beyond 2^53"
                                           : ": not an integer"));
    }
    out = d;
    return true;
}

} // namespace

void fail(const std::string& text)
{
    throw JsonError(text);
}

const Var* find(const Object& object, std::string_view key, Keys keys)
{
    const Var* folded = nullptr;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it->first == key) {
            return it->second.isEmpty() ? nullptr : &it->second;
        }
        if (keys == Keys::fold_case && folded == nullptr && iequals(it->first, key)) {
            folded = &it->second;
        }
    }
    return (folded != nullptr && !folded->isEmpty()) ? folded : nullptr;
}

const Var& need(const Object& object, std::string_view key, std::string_view name, Keys keys)
{
    const Var* value = find(object, key, keys);
    if (value == nullptr) {
        fail(std::string(name.empty() ? key : name) + ": missing");
    }
    return *value;
}

bool is_int_type(const Var& value)
{
    return value.type() == typeid(Poco::Int64) || value.type() == typeid(Poco::UInt64);
}

bool is_number(const Var& value)
{
    return is_int_type(value) || value.type() == typeid(double);
}

int64_t to_int(const Var& value, const std::string& name, int64_t min, int64_t max, Rules rules)
{
    int64_t result = 0;
    double d = 0;
    if (value.type() == typeid(Poco::Int64)) {
        result = value.extract<Poco::Int64>();
    } else if (value.type() == typeid(Poco::UInt64)) {
        const uint64_t u = value.extract<Poco::UInt64>();
        if (u > static_cast<uint64_t>(max)) {
            fail(name + ": " + std::to_string(u) + " out of range");
        }
        result = static_cast<int64_t>(u);
    } else if (rules.tolerant && whole_double(value, name, rules, d)) {
        result = static_cast<int64_t>(d);
    } else {
        fail(name + ": not an integer");
    }
    if (result < min || result > max) {
        fail(name + ": " + std::to_string(result) + " out of range [" + std::to_string(min) + ", " +
             std::to_string(max) + "]");
    }
    return result;
}

uint64_t to_uint64(const Var& value, const std::string& name, uint64_t max, Rules rules)
{
    auto checked = [&](uint64_t result) {
        if (result > max) {
            fail(name + ": " + std::to_string(result) + " out of range (max " +
                 std::to_string(max) + ")");
        }
        return result;
    };
    if (value.type() == typeid(Poco::UInt64)) {
        return checked(value.extract<Poco::UInt64>());
    }
    if (!rules.detailed_errors) {
        const int64_t capped = static_cast<int64_t>(
            std::min<uint64_t>(max, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
        return static_cast<uint64_t>(to_int(value, name, 0, capped, rules));
    }
    double d = 0;
    if (value.type() == typeid(Poco::Int64)) {
        const int64_t i = value.extract<Poco::Int64>();
        if (i < 0) {
            fail(name + ": negative (" + std::to_string(i) + ")");
        }
        return checked(static_cast<uint64_t>(i));
    }
    if (rules.tolerant && whole_double(value, name, rules, d)) {
        if (d < 0) {
            fail(name + ": negative");
        }
        return checked(static_cast<uint64_t>(d));
    }
    fail(name + ": not an integer");
}

double to_number(const Var& value, const std::string& name)
{
    if (value.type() == typeid(double)) {
        const double d = value.extract<double>();
        if (!std::isfinite(d)) {
            fail(name + ": not a finite number");
        }
        return d;
    }
    if (value.type() == typeid(Poco::Int64)) {
        return static_cast<double>(value.extract<Poco::Int64>());
    }
    if (value.type() == typeid(Poco::UInt64)) {
        return static_cast<double>(value.extract<Poco::UInt64>());
    }
    fail(name + ": not a number");
}

bool to_bool(const Var& value, const std::string& name, Rules rules)
{
    if (value.type() == typeid(bool)) {
        return value.extract<bool>();
    }
    if (rules.tolerant && is_number(value)) {
        return to_int(value, name, 0, 1, rules) != 0;
    }
    fail(name + ": not a boolean");
}

const std::string& to_string(const Var& value, const std::string& name)
{
    if (value.type() != typeid(std::string)) {
        fail(name + ": not a string");
    }
    return value.extract<std::string>();
}

const Object& to_object(const Var& value, const std::string& name)
{
    if (value.type() != typeid(Object::Ptr) || value.extract<Object::Ptr>().isNull()) {
        fail(name + ": not an object");
    }
    return *value.extract<Object::Ptr>();
}

const Array& to_array(const Var& value, const std::string& name)
{
    if (value.type() != typeid(Array::Ptr) || value.extract<Array::Ptr>().isNull()) {
        fail(name + ": not an array");
    }
    return *value.extract<Array::Ptr>();
}

std::string index_name(std::string_view name, size_t index)
{
    return std::string(name) + "[" + std::to_string(index) + "]";
}

Object::Ptr parse_object(std::string_view json)
{
    Var root;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(kMaxJsonDepth);
        root = parser.parse(std::string(json));
    } catch (const Poco::Exception& e) {
        fail("invalid JSON: " + e.message());
    } catch (const std::exception& e) {
        fail(std::string("invalid JSON: ") + e.what());
    }
    if (root.type() != typeid(Object::Ptr) || root.extract<Object::Ptr>().isNull()) {
        fail("not a JSON object");
    }
    return root.extract<Object::Ptr>();
}

} // namespace forwarder::support::json
