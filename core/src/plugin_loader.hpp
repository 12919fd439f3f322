#pragma once
// Finds, loads and checks plugins: forwarder-<name>.so in the plugin directory, opened with
// RTLD_NOW | RTLD_LOCAL, its one entry symbol asked to pick an ABI version we offer.
#include <forwarder/plugin.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace forwarder::core {

// "<file>: <reason>", one line.
class LoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct LoadedPlugin {
    std::string path;
    void* handle = nullptr;
    uint32_t abi_version = 0;
    const fwd_plugin_v1* descriptor = nullptr; // the version-1 part of any version
    // ABI version 2 only (zero/null for version-1 plugins).
    uint32_t radio_capabilities = 0;
    int (*channel_clear)(void*, uint64_t, uint32_t, uint32_t, uint32_t) = nullptr;
    int (*last_pps)(void*, uint32_t*, uint64_t*) = nullptr;
};

// <directory of this executable>/../lib/forwarder/plugins if it exists (build tree and
// installed tree alike), else the configured install location.
std::string default_plugin_dir();

// Loads forwarder-<name>.so from `dir`. Plugins are never unloaded: their static
// destructors and protobuf shutdown hooks must stay callable until exit.
std::shared_ptr<LoadedPlugin> load_plugin(const std::string& dir, const std::string& name);

const char* plugin_kind_name(uint32_t kind);

} // namespace forwarder::core
