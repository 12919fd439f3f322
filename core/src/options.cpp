#include "options.hpp"

#include "config.hpp"

namespace forwarder::core {

const char* option_type_name(uint32_t type)
{
    switch (type) {
    case FWD_OPT_STRING:
        return "string";
    case FWD_OPT_INT:
        return "integer";
    case FWD_OPT_FLOAT:
        return "number";
    case FWD_OPT_BOOL:
        return "boolean";
    case FWD_OPT_LIST:
        return "list";
    case FWD_OPT_MAP:
        return "mapping";
    }
    return "value";
}

namespace {

bool has_type(const YAML::Node& value, uint32_t type)
{
    switch (type) {
    case FWD_OPT_STRING:
        return value.IsScalar();
    case FWD_OPT_INT: {
        long long v = 0;
        return value.IsScalar() && YAML::convert<long long>::decode(value, v);
    }
    case FWD_OPT_FLOAT: {
        double v = 0;
        return value.IsScalar() && YAML::convert<double>::decode(value, v);
    }
    case FWD_OPT_BOOL: {
        bool v = false;
        return value.IsScalar() && YAML::convert<bool>::decode(value, v);
    }
    case FWD_OPT_LIST:
        return value.IsSequence();
    case FWD_OPT_MAP:
        return value.IsMap();
    }
    return true;
}

const fwd_option* find_option(const fwd_option* table, const std::string& name)
{
    for (const fwd_option* o = table; o != nullptr && o->name != nullptr; ++o) {
        if (name == o->name) {
            return o;
        }
    }
    return nullptr;
}

} // namespace

void validate_options(const fwd_option* table, const YAML::Node& options, const std::string& file,
                      const YAML::Node& entry, const std::string& path)
{
    const std::string opath = path + ".options";
    if (options.IsDefined() && options.IsMap()) {
        for (const auto& kv : options) {
            const auto key = kv.first.as<std::string>();
            const fwd_option* o = find_option(table, key);
            if (o == nullptr) {
                std::string known;
                for (const fwd_option* k = table; k != nullptr && k->name != nullptr; ++k) {
                    known += known.empty() ? k->name : std::string(", ") + k->name;
                }
                throw ConfigError(located(file, kv.first, opath + "." + key,
                                          "unknown option (this plugin takes: " +
                                              (known.empty() ? std::string("none") : known) + ")"));
            }
            if (!has_type(kv.second, o->type)) {
                throw ConfigError(
                    located(file, kv.second, opath + "." + key,
                            std::string(o->type == FWD_OPT_INT ? "expected an " : "expected a ") +
                                option_type_name(o->type)));
            }
        }
    }
    for (const fwd_option* o = table; o != nullptr && o->name != nullptr; ++o) {
        if (o->required != 0 && !(options.IsDefined() && options.IsMap() && options[o->name])) {
            throw ConfigError(located(file, options.IsMap() ? options : entry, opath,
                                      std::string("missing required option `") + o->name + "`"));
        }
    }
}

std::string options_yaml(const YAML::Node& options)
{
    if (!options.IsDefined() || options.IsNull()) {
        return "{}";
    }
    YAML::Emitter out;
    out << options;
    return out.c_str();
}

std::string locate_plugin_error(const std::string& message, const std::string& file,
                                const YAML::Node& entry, const YAML::Node& options,
                                const std::string& path)
{
    const auto colon = message.find(": ");
    if (colon != std::string::npos && options.IsDefined() && options.IsMap()) {
        const std::string key = message.substr(0, colon);
        for (const auto& kv : options) {
            if (kv.first.as<std::string>() == key) {
                return located(file, kv.second, path + ".options." + key,
                               message.substr(colon + 2));
            }
        }
    }
    return located(file, entry, path, message);
}

std::string describe_plugin(const fwd_plugin_v1& p, const std::string& file)
{
    static const char* kinds[] = {"?", "radio", "transport", "bootstrap"};
    std::string out;
    out += std::string("plugin:      ") + p.name + "\n";
    out += std::string("kind:        ") + (p.kind <= 3 ? kinds[p.kind] : "?") + "\n";
    out += std::string("version:     ") + (p.version ? p.version : "?") + "\n";
    out += "abi:         " + std::to_string(p.abi_version) + "\n";
    out += "file:        " + file + "\n";
    out += std::string("description: ") + (p.description ? p.description : "") + "\n";
    out += "options:\n";
    if (p.options == nullptr || p.options->name == nullptr) {
        out += "  (none)\n";
    }
    for (const fwd_option* o = p.options; o != nullptr && o->name != nullptr; ++o) {
        out += std::string("  ") + o->name + " (" + option_type_name(o->type) +
               (o->required ? ", required" : "") +
               (o->default_value ? std::string(", default ") + o->default_value : "") + ")\n";
        if (o->description) {
            out += std::string("      ") + o->description + "\n";
        }
    }
    return out;
}

} // namespace forwarder::core
