#pragma once
// Typed access to JSON parsed with Poco::JSON, as the protocol codecs read it. Poco keeps
// integers exact (Int64 / UInt64), so a fractional value is told apart from an integer.
// Every reader takes the field's name for its error ("txpk.freq: not a number").
#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace forwarder::support::json {

using Poco::Dynamic::Var;
using Object = Poco::JSON::Object;
using Array = Poco::JSON::Array;

// What the readers below throw; its text names the field. Codecs translate it into their own
// error type at their public boundary.
class JsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& text);

// How a key is looked up: exactly, or exactly first and then case-insensitively.
enum class Keys { exact, fold_case };

// How the number readers take loosely typed values.
struct Rules {
    // A whole-number float ("14.0", "1e3") counts as an integer, 0 and 1 as booleans.
    bool tolerant = false;
    // Errors say "negative (-1)" and "integer written as a float beyond 2^53" instead of
    // "-1 out of range [0, max]" and "not an integer".
    bool detailed_errors = false;
};

// The value of `key`, nullptr when absent or null.
const Var* find(const Object& object, std::string_view key, Keys keys = Keys::exact);
// The value of `key`; "<name>: missing" (name defaults to the key) when absent or null.
const Var& need(const Object& object, std::string_view key, std::string_view name = {},
                Keys keys = Keys::exact);

// A JSON integer (Int64 or UInt64).
bool is_int_type(const Var& value);
// A JSON integer or float.
bool is_number(const Var& value);

// An integer in [min, max].
int64_t to_int(const Var& value, const std::string& name, int64_t min, int64_t max,
               Rules rules = {});
// An unsigned integer up to `max` (all of uint64 when given as an integer).
uint64_t to_uint64(const Var& value, const std::string& name,
                   uint64_t max = std::numeric_limits<uint64_t>::max(), Rules rules = {});
// A finite number, integer or float.
double to_number(const Var& value, const std::string& name);
// true / false (and 0 / 1 when `rules.tolerant`).
bool to_bool(const Var& value, const std::string& name, Rules rules = {});
const std::string& to_string(const Var& value, const std::string& name);
const Object& to_object(const Var& value, const std::string& name);
const Array& to_array(const Var& value, const std::string& name);

// "name[index]", the name of an array element.
std::string index_name(std::string_view name, size_t index);

// Parses text whose root must be an object ("invalid JSON: ...", "not a JSON object"). Nesting
// deeper than 32 levels is invalid.
Object::Ptr parse_object(std::string_view json);

} // namespace forwarder::support::json
