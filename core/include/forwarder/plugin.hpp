// Thin header-only C++ wrapper over the C plugin ABI in plugin.h.
//
// A plugin class derives from forwarder::sdk::Plugin (or RadioPlugin), reports errors by
// throwing forwarder::sdk::Error, and is exported with
//
//   FORWARDER_PLUGIN(MyPlugin, "name", FWD_KIND_TRANSPORT, "1.0.0", "what it does",
//                    kMyOptions, FWD_TOPIC_BIT(FWD_TOPIC_UPLINK))
//
// The plugin then speaks ABI version 2 to hosts that offer it and version 1 to older ones.
//
// The class needs a constructor `MyPlugin(forwarder::sdk::Host, const fwd_create_info_v1&,
// const std::string& options_yaml)` and a static `void check(const std::string& options_yaml)`
// that throws on invalid options. No exception ever crosses the C boundary.
#ifndef FORWARDER_PLUGIN_HPP
#define FORWARDER_PLUGIN_HPP

#include <forwarder/plugin.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace forwarder::sdk {

// An error reported to the host. Start the message with "<option>: " to point at an option.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by RadioPlugin::transmit when listen before talk found the channel busy; the host
// sees FWD_BUSY and tries the frame's alternatives.
class ChannelBusy : public Error {
public:
    using Error::Error;
};

// The host's services for one instance.
class Host {
public:
    Host() = default;
    Host(fwd_host* host, const fwd_host_api_v1* api) : host_(host), api_(api) {}

    bool publish(uint32_t topic, std::string_view bytes) const
    {
        return api_->publish(host_, topic, bytes.data(), bytes.size()) == FWD_OK;
    }
    void log(fwd_log_level level, const std::string& message) const
    {
        api_->log(host_, level, message.c_str());
    }
    void debug(const std::string& m) const { log(FWD_LOG_DEBUG, m); }
    void info(const std::string& m) const { log(FWD_LOG_INFO, m); }
    void warn(const std::string& m) const { log(FWD_LOG_WARN, m); }
    void error(const std::string& m) const { log(FWD_LOG_ERROR, m); }
    uint64_t monotonic_us() const { return api_->monotonic_us(host_); }
    void stat_add(const char* name, int64_t delta = 1) const { api_->stat_add(host_, name, delta); }
    void stat_set(const char* name, int64_t value) const { api_->stat_set(host_, name, value); }

private:
    fwd_host* host_ = nullptr;
    const fwd_host_api_v1* api_ = nullptr;
};

class Plugin {
public:
    virtual ~Plugin() = default;
    virtual void start() {}
    virtual void stop() {}
    virtual void deliver(uint32_t /*topic*/, std::string_view /*bytes*/) {}
};

// A radio driver. Declare what the driver can do with a static member
//   static constexpr uint32_t kRadioCapabilities = FWD_RADIO_CAP_LBT | FWD_RADIO_CAP_PPS;
// and override the matching calls.
class RadioPlugin : public Plugin {
public:
    virtual uint32_t lead_time_us() = 0;
    virtual uint32_t counter_now() = 0;
    virtual void transmit(std::string_view tx_request, uint32_t count_us) = 0;
    // FWD_RADIO_CAP_LBT: true if the channel is clear (see fwd_plugin_v2.channel_clear).
    virtual bool channel_clear(uint64_t /*frequency_hz*/, uint32_t /*bandwidth_hz*/,
                               uint32_t /*count_us*/, uint32_t /*airtime_us*/)
    {
        return true;
    }
    // FWD_RADIO_CAP_PPS: the counter at the last PPS edge and the host time of that edge.
    virtual bool last_pps(uint32_t& /*count_us*/, uint64_t& /*edge_mono_us*/) { return false; }
};

namespace detail {

inline void write_error(char* err, size_t len, const char* message)
{
    if (err != nullptr && len > 0) {
        std::snprintf(err, len, "%s", message);
    }
}

template <class F> int guarded(char* err, size_t len, F&& f)
{
    try {
        f();
        return FWD_OK;
    } catch (const ChannelBusy& e) {
        write_error(err, len, e.what());
        return FWD_BUSY;
    } catch (const std::exception& e) {
        write_error(err, len, e.what());
    } catch (...) {
        write_error(err, len, "unknown error");
    }
    return FWD_ERROR;
}

template <class T> struct Adapter {
    static int check(const char* yaml, char* err, size_t len)
    {
        return guarded(err, len, [&] { T::check(std::string(yaml)); });
    }
    static void* create(fwd_host* host, const fwd_host_api_v1* api, const fwd_create_info_v1* info,
                        const char* yaml, char* err, size_t len)
    {
        T* made = nullptr;
        guarded(err, len, [&] { made = new T(Host(host, api), *info, std::string(yaml)); });
        return made;
    }
    static int start(void* self, char* err, size_t len)
    {
        return guarded(err, len, [&] { static_cast<T*>(self)->start(); });
    }
    static void stop(void* self)
    {
        try {
            static_cast<T*>(self)->stop();
        } catch (...) {
        }
    }
    static void destroy(void* self) { delete static_cast<T*>(self); }
    static void deliver(void* self, uint32_t topic, const void* data, size_t size)
    {
        try {
            static_cast<T*>(self)->deliver(topic,
                                           std::string_view(static_cast<const char*>(data), size));
        } catch (...) {
        }
    }
    static uint32_t lead_time_us(void* self)
    {
        if constexpr (std::is_base_of_v<RadioPlugin, T>) {
            return static_cast<T*>(self)->lead_time_us();
        } else {
            return 0;
        }
    }
    static int counter_now(void* self, uint32_t* out)
    {
        if constexpr (std::is_base_of_v<RadioPlugin, T>) {
            return guarded(nullptr, 0, [&] { *out = static_cast<T*>(self)->counter_now(); });
        } else {
            return FWD_ERROR;
        }
    }
    static int transmit(void* self, const void* data, size_t size, uint32_t count_us, char* err,
                        size_t len)
    {
        if constexpr (std::is_base_of_v<RadioPlugin, T>) {
            return guarded(err, len, [&] {
                static_cast<T*>(self)->transmit(
                    std::string_view(static_cast<const char*>(data), size), count_us);
            });
        } else {
            return FWD_ERROR;
        }
    }
    static int channel_clear(void* self, uint64_t frequency_hz, uint32_t bandwidth_hz,
                             uint32_t count_us, uint32_t airtime_us)
    {
        if constexpr (std::is_base_of_v<RadioPlugin, T>) {
            try {
                return static_cast<T*>(self)->channel_clear(frequency_hz, bandwidth_hz, count_us,
                                                            airtime_us)
                           ? FWD_OK
                           : FWD_BUSY;
            } catch (...) {
                return FWD_ERROR;
            }
        } else {
            return FWD_ERROR;
        }
    }
    static int last_pps(void* self, uint32_t* count_us, uint64_t* edge_mono_us)
    {
        if constexpr (std::is_base_of_v<RadioPlugin, T>) {
            try {
                return static_cast<T*>(self)->last_pps(*count_us, *edge_mono_us) ? FWD_OK
                                                                                 : FWD_ERROR;
            } catch (...) {
                return FWD_ERROR;
            }
        } else {
            return FWD_ERROR;
        }
    }
};

template <class T> constexpr uint32_t radio_capabilities()
{
    if constexpr (requires { T::kRadioCapabilities; }) {
        return T::kRadioCapabilities;
    } else {
        return 0;
    }
}

template <class T>
constexpr fwd_plugin_v1 make_descriptor(const char* name, uint32_t kind, const char* version,
                                        const char* description, const fwd_option* options,
                                        uint32_t subscriptions)
{
    constexpr bool radio = std::is_base_of_v<RadioPlugin, T>;
    return fwd_plugin_v1{FWD_ABI_VERSION_1,
                         name,
                         kind,
                         version,
                         description,
                         options,
                         subscriptions,
                         &Adapter<T>::check,
                         &Adapter<T>::create,
                         &Adapter<T>::start,
                         &Adapter<T>::stop,
                         &Adapter<T>::destroy,
                         &Adapter<T>::deliver,
                         radio ? &Adapter<T>::lead_time_us : nullptr,
                         radio ? &Adapter<T>::counter_now : nullptr,
                         radio ? &Adapter<T>::transmit : nullptr};
}

template <class T> constexpr fwd_plugin_v2 make_descriptor_v2(fwd_plugin_v1 v1)
{
    constexpr uint32_t caps = radio_capabilities<T>();
    v1.abi_version = FWD_ABI_VERSION_2;
    return fwd_plugin_v2{v1, sizeof(fwd_plugin_v2), caps,
                         (caps & FWD_RADIO_CAP_LBT) != 0 ? &Adapter<T>::channel_clear : nullptr,
                         (caps & FWD_RADIO_CAP_PPS) != 0 ? &Adapter<T>::last_pps : nullptr};
}

// Picks version 2 if the host offers it, else version 1.
inline const void* pick_version(const fwd_plugin_v1* v1, const fwd_plugin_v2* v2,
                                const uint32_t* offered, size_t n, uint32_t* chosen)
{
    for (uint32_t want : {FWD_ABI_VERSION_2, FWD_ABI_VERSION_1}) {
        for (size_t i = 0; i < n; ++i) {
            if (offered[i] == want) {
                *chosen = want;
                return want == FWD_ABI_VERSION_2 ? static_cast<const void*>(v2) : v1;
            }
        }
    }
    return nullptr;
}

} // namespace detail
} // namespace forwarder::sdk

#define FORWARDER_PLUGIN(Class, name, kind, version, description, options, subscriptions)          \
    static const fwd_plugin_v1 forwarder_plugin_descriptor_ =                                      \
        ::forwarder::sdk::detail::make_descriptor<Class>(name, kind, version, description,         \
                                                         options, subscriptions);                  \
    static const fwd_plugin_v2 forwarder_plugin_descriptor_v2_ =                                   \
        ::forwarder::sdk::detail::make_descriptor_v2<Class>(forwarder_plugin_descriptor_);         \
    extern "C" FWD_PLUGIN_EXPORT const void* forwarder_plugin_entry(                               \
        const uint32_t* offered, size_t n_offered, uint32_t* chosen)                               \
    {                                                                                              \
        return ::forwarder::sdk::detail::pick_version(&forwarder_plugin_descriptor_,               \
                                                      &forwarder_plugin_descriptor_v2_, offered,   \
                                                      n_offered, chosen);                          \
    }

// The name used before ABI version 2; the same macro.
#define FORWARDER_PLUGIN_V1 FORWARDER_PLUGIN

#endif // FORWARDER_PLUGIN_HPP
