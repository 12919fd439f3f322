// Thin header-only C++ wrapper over the C plugin ABI in plugin.h.
//
// A plugin class derives from forwarder::sdk::Plugin (or RadioPlugin), reports errors by
// throwing forwarder::sdk::Error, and is exported with
//
//   FORWARDER_PLUGIN_V1(MyPlugin, "name", FWD_KIND_TRANSPORT, "1.0.0", "what it does",
//                       kMyOptions, FWD_TOPIC_BIT(FWD_TOPIC_UPLINK))
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

class RadioPlugin : public Plugin {
public:
    virtual uint32_t lead_time_us() = 0;
    virtual uint32_t counter_now() = 0;
    virtual void transmit(std::string_view tx_request, uint32_t count_us) = 0;
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
};

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

// Picks version 1 if the host offers it.
inline const void* pick_v1(const fwd_plugin_v1* descriptor, const uint32_t* offered, size_t n,
                           uint32_t* chosen)
{
    for (size_t i = 0; i < n; ++i) {
        if (offered[i] == FWD_ABI_VERSION_1) {
            *chosen = FWD_ABI_VERSION_1;
            return descriptor;
        }
    }
    return nullptr;
}

} // namespace detail
} // namespace forwarder::sdk

#define FORWARDER_PLUGIN_V1(Class, name, kind, version, description, options, subscriptions)       \
    static const fwd_plugin_v1 forwarder_plugin_descriptor_ =                                      \
        ::forwarder::sdk::detail::make_descriptor<Class>(name, kind, version, description,         \
                                                         options, subscriptions);                  \
    extern "C" FWD_PLUGIN_EXPORT const void* forwarder_plugin_entry(                               \
        const uint32_t* offered, size_t n_offered, uint32_t* chosen)                               \
    {                                                                                              \
        return ::forwarder::sdk::detail::pick_v1(&forwarder_plugin_descriptor_, offered,           \
                                                 n_offered, chosen);                               \
    }

#endif // FORWARDER_PLUGIN_HPP
