#include "plugin_loader.hpp"

#include <dlfcn.h>
#include <filesystem>
#include <mutex>
#include <unistd.h>

namespace forwarder::core {

namespace fs = std::filesystem;

const char* plugin_kind_name(uint32_t kind)
{
    switch (kind) {
    case FWD_KIND_RADIO:
        return "radio";
    case FWD_KIND_TRANSPORT:
        return "transport";
    case FWD_KIND_BOOTSTRAP:
        return "bootstrap";
    }
    return "unknown";
}

std::string default_plugin_dir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    // An installed daemon uses the install directory, whatever else lies next to it (e.g. a
    // stale /usr/lib/forwarder/plugins of an older package).
    if (!ec && exe.parent_path() == fs::path(FORWARDER_INSTALL_BINDIR)) {
        return FORWARDER_PLUGIN_INSTALL_DIR;
    }
    if (!ec) {
        const fs::path dir = exe.parent_path().parent_path() / "lib" / "forwarder" / "plugins";
        if (fs::is_directory(dir, ec)) {
            return dir.string();
        }
    }
    return FORWARDER_PLUGIN_INSTALL_DIR;
}

std::shared_ptr<LoadedPlugin> load_plugin(const std::string& dir, const std::string& name)
{
    const std::string file = (fs::path(dir) / ("forwarder-" + name + ".so")).string();
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        throw LoadError(file + ": unknown plugin '" + name + "' (no such file in the plugin " +
                        "directory " + dir + ")");
    }
    // dlerror() is process-global; serialise so each load reports its own error.
    static std::mutex dl_mutex;
    std::lock_guard lock(dl_mutex);
    dlerror();
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        throw LoadError(file + ": cannot load: " + (why ? why : "unknown dlopen error"));
    }
    auto entry = reinterpret_cast<fwd_plugin_entry_fn>(dlsym(handle, FWD_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) {
        throw LoadError(file + ": not a forwarder plugin: it does not export `" +
                        FWD_PLUGIN_ENTRY_SYMBOL + "`");
    }
    static const uint32_t offered[] = {FWD_ABI_VERSION_2, FWD_ABI_VERSION_1};
    uint32_t chosen = 0;
    const void* desc = entry(offered, sizeof offered / sizeof offered[0], &chosen);
    if (desc == nullptr) {
        throw LoadError(file + ": wrong ABI version: the plugin speaks none of the versions " +
                        "this forwarder offers (2, 1)");
    }
    if (chosen != FWD_ABI_VERSION_1 && chosen != FWD_ABI_VERSION_2) {
        throw LoadError(file + ": wrong ABI version: the plugin picked version " +
                        std::to_string(chosen) + ", which this forwarder did not offer (2, 1)");
    }
    auto plugin = std::make_shared<LoadedPlugin>();
    plugin->path = file;
    plugin->handle = handle;
    plugin->abi_version = chosen;
    // A version-2 descriptor starts with a complete version-1 table.
    plugin->descriptor = static_cast<const fwd_plugin_v1*>(desc);
    const fwd_plugin_v1& d = *plugin->descriptor;
    if (chosen == FWD_ABI_VERSION_2) {
        const auto* v2 = static_cast<const fwd_plugin_v2*>(desc);
        if (v2->struct_size < sizeof(fwd_plugin_v2)) {
            throw LoadError(file + ": invalid plugin: its version-2 descriptor is " +
                            std::to_string(v2->struct_size) + " bytes, expected at least " +
                            std::to_string(sizeof(fwd_plugin_v2)));
        }
        plugin->radio_capabilities = v2->radio_capabilities;
        plugin->channel_clear = v2->channel_clear;
        plugin->last_pps = v2->last_pps;
        if ((plugin->radio_capabilities & FWD_RADIO_CAP_LBT) != 0 && v2->channel_clear == nullptr) {
            throw LoadError(file + ": invalid plugin: it declares FWD_RADIO_CAP_LBT but has no " +
                            "channel_clear");
        }
        if ((plugin->radio_capabilities & FWD_RADIO_CAP_PPS) != 0 && v2->last_pps == nullptr) {
            throw LoadError(file + ": invalid plugin: it declares FWD_RADIO_CAP_PPS but has no " +
                            "last_pps");
        }
    }
    auto bad = [&](const std::string& why) { return LoadError(file + ": invalid plugin: " + why); };
    if (d.abi_version != chosen) {
        throw LoadError(file + ": wrong ABI version: descriptor says " +
                        std::to_string(d.abi_version) + " but the plugin picked " +
                        std::to_string(chosen));
    }
    if (d.name == nullptr || name != d.name) {
        throw bad(std::string("it calls itself '") + (d.name ? d.name : "(null)") +
                  "', expected '" + name + "'");
    }
    if (d.kind < FWD_KIND_RADIO || d.kind > FWD_KIND_BOOTSTRAP) {
        throw bad("unknown plugin kind " + std::to_string(d.kind));
    }
    if (d.create == nullptr || d.start == nullptr || d.stop == nullptr || d.destroy == nullptr) {
        throw bad("create, start, stop and destroy are required");
    }
    if (d.kind == FWD_KIND_RADIO &&
        (d.lead_time_us == nullptr || d.counter_now == nullptr || d.transmit == nullptr)) {
        throw bad("a radio plugin must provide lead_time_us, counter_now and transmit");
    }
    if (d.subscriptions != 0 && d.deliver == nullptr) {
        throw bad("it subscribes to topics but has no deliver function");
    }
    return plugin;
}

} // namespace forwarder::core
