#pragma once
// A plugin's declared options (fwd_option table) as data: validation of a user's
// `options:` mapping against it, and its description for `forwarder --describe`.
#include <forwarder/plugin.h>

#include <yaml-cpp/yaml.h>

#include <string>

namespace forwarder::core {

// Throws ConfigError naming file:line:col and `path` for an unknown option, a value of
// the wrong type, or a missing required option.
void validate_options(const fwd_option* table, const YAML::Node& options, const std::string& file,
                      const YAML::Node& entry, const std::string& path);

// The YAML text handed to the plugin: the options mapping, or "{}" when absent.
std::string options_yaml(const YAML::Node& options);

// Turns a plugin's one-line error into a located message: if it starts with
// "<option>: " and that option is present, the option's line and column are used.
std::string locate_plugin_error(const std::string& message, const std::string& file,
                                const YAML::Node& entry, const YAML::Node& options,
                                const std::string& path);

const char* option_type_name(uint32_t type);

// Human-readable description of a plugin (kind, version, options).
std::string describe_plugin(const fwd_plugin_v1& plugin, const std::string& file);

} // namespace forwarder::core
