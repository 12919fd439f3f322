#include "virtual_radio.hpp"

#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>

#ifndef FORWARDER_VIRTUAL_RADIO_VERSION
#define FORWARDER_VIRTUAL_RADIO_VERSION "0.0.0"
#endif

namespace forwarder::virtual_radio {

const fwd_option kOptions[] = {
    {"uplink_udp", FWD_OPT_STRING, 0, nullptr,
     "HOST:PORT to listen on for injected rxpk JSON datagrams, e.g. \"127.0.0.1:1780\" or "
     "\"[::1]:1780\"; absent: no listener"},
    {"tx_log", FWD_OPT_STRING, 0, nullptr,
     "file to append one JSON line to per transmitted frame; absent: transmitted frames are "
     "only counted"},
    {"counter_start_us", FWD_OPT_INT, 0, "0",
     "initial value of the 32-bit microsecond counter (0..4294967295)"},
    {"eui", FWD_OPT_STRING, 0, nullptr, "EUI of the virtual concentrator, 16 hex digits"},
    {"lead_time_us", FWD_OPT_INT, 0, "5000",
     "how long before the TX time the scheduler hands a frame over, in microseconds "
     "(0..1000000)"},
    {"pps", FWD_OPT_BOOL, 0, "false",
     "simulate a PPS input: report PPS edges on the host's UTC (CLOCK_REALTIME) second "
     "boundaries, latching the counter there"},
    {"lbt_scan_us", FWD_OPT_INT, 0, "5000",
     "listen before talk: how long before the TX time the channel is sensed, in microseconds "
     "(128..5000); the channel is busy if an injected busy window overlaps that time"},
    {"temperature_c", FWD_OPT_FLOAT, 0, nullptr,
     "report this concentrator temperature in °C (-40..125) as the `temperature_mc` gauge, "
     "as a real board's sensor would; absent: no temperature"},
    {nullptr, 0, 0, nullptr, nullptr}};

namespace {

constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;
constexpr int kPollTimeoutMs = 100;
constexpr uint64_t kWarnIntervalUs = 1000000;

std::string errno_text(int error)
{
    return std::strerror(error);
}

const char* node_kind(const YAML::Node& node)
{
    switch (node.Type()) {
    case YAML::NodeType::Sequence:
        return "list";
    case YAML::NodeType::Map:
        return "mapping";
    case YAML::NodeType::Scalar:
        return "scalar";
    default:
        return "nothing";
    }
}

std::string string_option(const std::string& name, const YAML::Node& node)
{
    if (!node.IsScalar()) {
        throw sdk::Error(name + ": expected a string, got a " + node_kind(node));
    }
    return node.Scalar();
}

int64_t int_option(const std::string& name, const YAML::Node& node, int64_t min, int64_t max)
{
    const std::string expected =
        "expected an integer " + std::to_string(min) + ".." + std::to_string(max);
    if (!node.IsScalar()) {
        throw sdk::Error(name + ": " + expected + ", got a " + node_kind(node));
    }
    const std::string& text = node.Scalar();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < min ||
        value > max) {
        throw sdk::Error(name + ": " + expected + ", got '" + text + "'");
    }
    return value;
}

bool bool_option(const std::string& name, const YAML::Node& node)
{
    const std::string expected = name + ": expected true or false, got ";
    if (!node.IsScalar()) {
        throw sdk::Error(expected + "a " + node_kind(node));
    }
    bool value = false;
    if (!YAML::convert<bool>::decode(node, value)) {
        throw sdk::Error(expected + "'" + node.Scalar() + "'");
    }
    return value;
}

uint64_t parse_eui(const std::string& text)
{
    uint64_t value = 0;
    bool ok = text.size() == 16;
    for (size_t i = 0; ok && i < text.size(); ++i) {
        const char c = text[i];
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            ok = false;
        }
        value = value << 4 | digit;
    }
    if (!ok) {
        throw sdk::Error("eui: expected 16 hex digits (e.g. \"0016C001FF10A235\"), got '" + text +
                         "'");
    }
    return value;
}

std::string eui_text(uint64_t eui)
{
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llX", static_cast<unsigned long long>(eui));
    return buffer;
}

std::string address_text(const sockaddr_storage& address)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (address.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(address);
        inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(in.sin_port));
    }
    if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6.sin6_port));
    }
    return "(unknown address)";
}

std::string mhz_text(uint64_t hz)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%llu.%06llu",
                  static_cast<unsigned long long>(hz / 1000000),
                  static_cast<unsigned long long>(hz % 1000000));
    return buffer;
}

std::string describe_config(const v1::RadioConfig& config)
{
    std::string text = "radio config for radio " + std::to_string(config.radio());
    if (!config.region().empty()) {
        text += ", region " + config.region();
    }
    text += ", rf chains [";
    for (int i = 0; i < config.rf_chains_size(); ++i) {
        const v1::RfChain& chain = config.rf_chains(i);
        text += (i > 0 ? ", " : "") + mhz_text(chain.center_frequency_hz()) + " MHz" +
                (chain.tx_enabled() ? " tx" : "");
    }
    text += "], multi-SF channels [";
    for (int i = 0; i < config.multi_sf_channels_size(); ++i) {
        const v1::LoRaChannel& channel = config.multi_sf_channels(i);
        text += (i > 0 ? ", " : "") + mhz_text(channel.frequency_hz());
    }
    text += "]";
    if (config.has_std_channel()) {
        const v1::LoRaChannel& channel = config.std_channel();
        text += ", std channel " + mhz_text(channel.frequency_hz()) + " MHz BW" +
                std::to_string(channel.bandwidth_hz() / 1000);
    }
    if (config.has_fsk_channel()) {
        const v1::FskChannel& channel = config.fsk_channel();
        text += ", FSK channel " + mhz_text(channel.frequency_hz()) + " MHz " +
                std::to_string(channel.bitrate()) + " bit/s";
    }
    if (config.tx_frequency_max_hz() != 0) {
        text += ", tx " + mhz_text(config.tx_frequency_min_hz()) + ".." +
                mhz_text(config.tx_frequency_max_hz()) + " MHz";
    }
    char eirp[32];
    std::snprintf(eirp, sizeof eirp, ", max EIRP %g dBm",
                  static_cast<double>(config.max_eirp_dbm()));
    text += eirp;
    return text;
}

} // namespace

Endpoint parse_endpoint(const std::string& option, const std::string& text)
{
    const std::string bad_form =
        option + ": expected HOST:PORT with a port 1..65535, got '" + text + "'";
    std::string host;
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            throw sdk::Error(bad_form);
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos) {
            throw sdk::Error(bad_form);
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty() ||
        port < 1 || port > 65535) {
        throw sdk::Error(bad_form);
    }

    Endpoint endpoint;
    endpoint.text = text;
    endpoint.port = static_cast<uint16_t>(port);
    const bool bracketed = text.front() == '[';
    auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.address);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
    if (!bracketed &&
        (host == "localhost" || inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1)) {
        if (host == "localhost") {
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        }
        in->sin_family = AF_INET;
        in->sin_port = htons(endpoint.port);
        endpoint.address_length = sizeof(sockaddr_in);
    } else if (bracketed && inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(endpoint.port);
        endpoint.address_length = sizeof(sockaddr_in6);
    } else {
        throw sdk::Error(option +
                         ": expected HOST:PORT with HOST an IPv4 address or a bracketed IPv6 "
                         "address such as [::1], got '" +
                         text + "'");
    }
    return endpoint;
}

Options parse_options(const std::string& yaml)
{
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw sdk::Error("options: not valid YAML: " + e.msg);
    }
    Options options;
    if (!root.IsDefined() || root.IsNull()) {
        return options;
    }
    if (!root.IsMap()) {
        throw sdk::Error(std::string("options: expected a mapping of option: value, got a ") +
                         node_kind(root));
    }
    for (const auto& entry : root) {
        const std::string key = entry.first.Scalar();
        const YAML::Node& value = entry.second;
        // `key:` with nothing after it means the same as leaving the option out.
        if (key == "uplink_udp") {
            if (!value.IsNull()) {
                options.uplink_udp = parse_endpoint(key, string_option(key, value));
            }
        } else if (key == "tx_log") {
            if (!value.IsNull()) {
                options.tx_log = string_option(key, value);
                if (options.tx_log.empty()) {
                    throw sdk::Error("tx_log: expected a file path, got an empty string");
                }
            }
        } else if (key == "counter_start_us") {
            if (!value.IsNull()) {
                options.counter_start_us = static_cast<uint32_t>(
                    int_option(key, value, 0, std::numeric_limits<uint32_t>::max()));
            }
        } else if (key == "eui") {
            if (!value.IsNull()) {
                options.eui = parse_eui(string_option(key, value));
            }
        } else if (key == "lead_time_us") {
            if (!value.IsNull()) {
                options.lead_time_us = static_cast<uint32_t>(int_option(key, value, 0, 1000000));
            }
        } else if (key == "pps") {
            if (!value.IsNull()) {
                options.pps = bool_option(key, value);
            }
        } else if (key == "lbt_scan_us") {
            if (!value.IsNull()) {
                options.lbt_scan_us = static_cast<uint32_t>(int_option(key, value, 128, 5000));
            }
        } else if (key == "temperature_c") {
            if (!value.IsNull()) {
                double t = 0;
                if (!value.IsScalar() || !YAML::convert<double>::decode(value, t) ||
                    !(t >= -40.0 && t <= 125.0)) {
                    throw sdk::Error("temperature_c: expected a temperature in °C (-40..125)");
                }
                options.temperature_c = t;
            }
        } else {
            throw sdk::Error(key + ": unknown option, expected one of uplink_udp, tx_log, "
                                   "counter_start_us, eui, lead_time_us, pps, lbt_scan_us, "
                                   "temperature_c");
        }
    }
    return options;
}

VirtualRadio::VirtualRadio(sdk::Host host, const fwd_create_info_v1& info,
                           const std::string& options_yaml)
    : host_(host), instance_(info.instance_name != nullptr ? info.instance_name : "virtual"),
      radio_(info.radio_index > 0 ? static_cast<uint32_t>(info.radio_index) : 0),
      options_(parse_options(options_yaml)), created_mono_us_(host.monotonic_us())
{
}

VirtualRadio::~VirtualRadio()
{
    stop();
}

void VirtualRadio::check(const std::string& options_yaml)
{
    parse_options(options_yaml);
}

std::optional<v1::RadioConfig> VirtualRadio::radio_config() const
{
    std::lock_guard lock(config_mutex_);
    return config_;
}

void VirtualRadio::open_socket()
{
    const Endpoint& endpoint = *options_.uplink_udp;
    const int family = endpoint.address.ss_family;
    socket_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (socket_ < 0) {
        throw sdk::Error("uplink_udp: cannot create a UDP socket: " + errno_text(errno));
    }
    int size = kReceiveBufferBytes;
    ::setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    int actual = 0;
    socklen_t length = sizeof actual;
    ::getsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &actual, &length);
    if (actual < kReceiveBufferBytes) {
        // Capped by net.core.rmem_max; the FORCE variant works with CAP_NET_ADMIN.
        if (::setsockopt(socket_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0) {
            ::getsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &actual, &length);
        } else {
            host_.info("uplink_udp: receive buffer limited to " + std::to_string(actual) +
                       " bytes by net.core.rmem_max (wanted " + std::to_string(size) + ")");
        }
    }
    if (::bind(socket_, reinterpret_cast<const sockaddr*>(&endpoint.address),
               endpoint.address_length) != 0) {
        const int error = errno;
        ::close(socket_);
        socket_ = -1;
        throw sdk::Error("uplink_udp: cannot bind " + endpoint.text + ": " + errno_text(error));
    }
}

void VirtualRadio::start()
{
    if (thread_.joinable()) {
        return;
    }
    stopping_ = false;
    if (options_.temperature_c) {
        host_.stat_set("temperature_mc", std::llround(*options_.temperature_c * 1000.0));
    }
    try {
        if (options_.uplink_udp) {
            open_socket();
            wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (wake_fd_ < 0) {
                throw sdk::Error("cannot create an eventfd: " + errno_text(errno));
            }
        }
        if (!options_.tx_log.empty()) {
            tx_log_fd_ =
                ::open(options_.tx_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
            if (tx_log_fd_ < 0) {
                throw sdk::Error("tx_log: cannot open " + options_.tx_log + ": " +
                                 errno_text(errno));
            }
        }
        if (socket_ >= 0) {
            thread_ = std::thread([this] { receive_loop(); });
        }
    } catch (...) {
        close_all();
        throw;
    }

    std::string text = "virtual radio " + std::to_string(radio_) + ": ";
    text += options_.uplink_udp ? "listening for rxpk datagrams on " + options_.uplink_udp->text
                                : std::string("no uplink_udp, no frames will be injected");
    text += options_.tx_log.empty() ? ", no tx_log" : ", tx_log " + options_.tx_log;
    text += ", counter " + std::to_string(counter_now());
    text += ", lead time " + std::to_string(options_.lead_time_us) + " us";
    text += ", LBT scan " + std::to_string(options_.lbt_scan_us) + " us";
    text += options_.pps ? ", PPS on host-UTC seconds" : ", no PPS";
    if (options_.eui) {
        text += ", EUI " + eui_text(*options_.eui);
    }
    host_.info(text);
}

void VirtualRadio::stop()
{
    stopping_ = true;
    if (thread_.joinable()) {
        const uint64_t one = 1;
        if (::write(wake_fd_, &one, sizeof one) < 0) {
            // The thread still notices `stopping_` within one poll timeout.
        }
        thread_.join();
    }
    close_all();
}

void VirtualRadio::close_all()
{
    for (int* fd : {&socket_, &wake_fd_, &tx_log_fd_}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
}

void VirtualRadio::receive_loop()
{
    // Max UDP payload is 65507 bytes (IPv4); one buffer, reused.
    std::vector<char> buffer(65536);
    pollfd fds[2] = {{socket_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    while (!stopping_.load(std::memory_order_relaxed)) {
        const int ready = ::poll(fds, 2, kPollTimeoutMs);
        if (ready < 0) {
            if (errno != EINTR) {
                host_.error("uplink_udp: poll failed: " + errno_text(errno));
                ::usleep(kPollTimeoutMs * 1000);
            }
            continue;
        }
        if (ready == 0 || fds[1].revents != 0) {
            continue;
        }
        // Drain what is queued, checking for stop now and then.
        for (int i = 0; i < 256 && !stopping_.load(std::memory_order_relaxed); ++i) {
            sockaddr_storage from{};
            socklen_t from_length = sizeof from;
            const ssize_t n = ::recvfrom(socket_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                         reinterpret_cast<sockaddr*>(&from), &from_length);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    host_.error("uplink_udp: receive failed: " + errno_text(errno));
                }
                break;
            }
            try {
                handle_datagram(std::string_view(buffer.data(), static_cast<size_t>(n)), from);
            } catch (const std::exception& e) {
                host_.error(std::string("uplink_udp: cannot handle a datagram: ") + e.what());
            }
        }
    }
}

void VirtualRadio::handle_datagram(std::string_view datagram, const sockaddr_storage& from)
{
    const uint64_t now_us = host_.monotonic_us();
    RxContext context;
    context.radio = radio_;
    context.counter_now = counter_at(now_us);
    context.received_mono_us = now_us;
    if (!decoder_.decode(datagram, context, uplinks_, busy_update_, error_)) {
        warn_malformed(now_us, from, error_);
        host_.stat_add("malformed_datagrams", 1);
        return;
    }
    if (busy_update_.present) {
        apply_busy(busy_update_.windows, now_us);
        host_.stat_add("busy_datagrams", 1);
    }
    int64_t published = 0;
    for (const v1::Uplink& uplink : uplinks_) {
        uplink.SerializeToString(&serialized_);
        if (host_.publish(FWD_TOPIC_UPLINK, serialized_)) {
            ++published;
        } else {
            host_.stat_add("publish_errors", 1);
        }
    }
    if (published > 0) {
        host_.stat_add("uplinks", published);
    }
}

void VirtualRadio::warn_malformed(uint64_t now_us, const sockaddr_storage& from,
                                  const std::string& reason)
{
    if (warned_ && now_us - last_warn_us_ < kWarnIntervalUs) {
        ++suppressed_warnings_;
        return;
    }
    std::string text =
        "uplink_udp: ignored a malformed datagram from " + address_text(from) + ": " + reason;
    if (suppressed_warnings_ > 0) {
        text += " (and " + std::to_string(suppressed_warnings_) +
                " more malformed datagrams since the last warning)";
    }
    host_.warn(text);
    warned_ = true;
    last_warn_us_ = now_us;
    suppressed_warnings_ = 0;
}

void VirtualRadio::deliver(uint32_t topic, std::string_view bytes)
{
    if (topic != FWD_TOPIC_RADIO_CONFIG) {
        return;
    }
    v1::RadioConfig config;
    if (!config.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        host_.warn("cannot parse a forwarder.v1.RadioConfig (" + std::to_string(bytes.size()) +
                   " bytes); ignored");
        return;
    }
    if (config.radio() != radio_) {
        host_.debug("radio config for radio " + std::to_string(config.radio()) +
                    " ignored; this is radio " + std::to_string(radio_));
        return;
    }
    host_.info(describe_config(config));
    std::lock_guard lock(config_mutex_);
    config_ = std::move(config);
}

void VirtualRadio::transmit(std::string_view tx_request, uint32_t count_us)
{
    v1::TxRequest request;
    if (!request.ParseFromArray(tx_request.data(), static_cast<int>(tx_request.size()))) {
        throw sdk::Error("transmit: cannot parse forwarder.v1.TxRequest (" +
                         std::to_string(tx_request.size()) + " bytes)");
    }
    const uint32_t handed_at = counter_now();
    // Formatted even without a tx_log: it also rejects frames no radio could send.
    std::string line = format_tx_log_line(request, count_us, handed_at);
    line.push_back('\n');
    {
        std::lock_guard lock(tx_mutex_);
        if (tx_log_fd_ >= 0) {
            size_t written = 0;
            while (written < line.size()) {
                const ssize_t n = ::write(tx_log_fd_, line.data() + written, line.size() - written);
                if (n < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    throw sdk::Error("tx_log: cannot write " + options_.tx_log + ": " +
                                     errno_text(errno));
                }
                written += static_cast<size_t>(n);
            }
        }
    }
    host_.stat_add("tx_frames", 1);
}

int64_t VirtualRadio::counter_to_mono(uint32_t count_us, uint64_t now_mono_us) const
{
    const auto offset = static_cast<int32_t>(count_us - counter_at(now_mono_us));
    return static_cast<int64_t>(now_mono_us) + offset;
}

size_t VirtualRadio::prune_busy(uint64_t now_mono_us)
{
    const size_t before = busy_.size();
    const int64_t oldest_end =
        static_cast<int64_t>(now_mono_us) - static_cast<int64_t>(kBusyRetentionUs);
    std::erase_if(busy_, [&](const BusyEntry& e) { return e.to_mono_us < oldest_end; });
    if (busy_.size() > kMaxBusyWindows) {
        // Keep the windows that end last; the others are the least likely to matter.
        std::nth_element(
            busy_.begin(), busy_.begin() + (busy_.size() - kMaxBusyWindows), busy_.end(),
            [](const BusyEntry& a, const BusyEntry& b) { return a.to_mono_us < b.to_mono_us; });
        busy_.erase(busy_.begin(), busy_.begin() + (busy_.size() - kMaxBusyWindows));
    }
    return before - busy_.size();
}

void VirtualRadio::apply_busy(const std::vector<BusyWindow>& windows, uint64_t now_mono_us)
{
    size_t kept = 0;
    size_t dropped = 0;
    {
        std::lock_guard lock(busy_mutex_);
        if (windows.empty()) {
            busy_.clear();
        }
        for (const BusyWindow& window : windows) {
            BusyEntry entry;
            entry.frequency_hz = window.frequency_hz;
            entry.from_us = window.from_us;
            entry.to_us = window.to_us;
            entry.from_mono_us = counter_to_mono(window.from_us, now_mono_us);
            // to_us is after from_us (checked when decoding), less than 2^31 us later.
            entry.to_mono_us =
                entry.from_mono_us + static_cast<uint32_t>(window.to_us - window.from_us);
            busy_.push_back(entry);
        }
        dropped = prune_busy(now_mono_us);
        kept = busy_.size();
    }
    host_.stat_set("busy_windows", static_cast<int64_t>(kept));
    host_.debug(windows.empty()
                    ? std::string("lbt: busy windows cleared")
                    : "lbt: " + std::to_string(windows.size()) + " busy windows added, " +
                          std::to_string(kept) + " kept" +
                          (dropped > 0 ? ", " + std::to_string(dropped) + " dropped" : ""));
}

size_t VirtualRadio::busy_window_count() const
{
    std::lock_guard lock(busy_mutex_);
    return busy_.size();
}

bool VirtualRadio::channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz, uint32_t count_us,
                                 uint32_t airtime_us)
{
    const uint64_t now_mono = host_.monotonic_us();
    const int64_t listen_end = counter_to_mono(count_us, now_mono);
    const int64_t listen_start = listen_end - options_.lbt_scan_us;
    const uint64_t half_bandwidth = bandwidth_hz / 2;
    std::optional<BusyEntry> hit;
    {
        std::lock_guard lock(busy_mutex_);
        prune_busy(now_mono);
        for (const BusyEntry& entry : busy_) {
            const uint64_t distance = entry.frequency_hz > frequency_hz
                                          ? entry.frequency_hz - frequency_hz
                                          : frequency_hz - entry.frequency_hz;
            if (distance <= half_bandwidth && entry.from_mono_us < listen_end &&
                entry.to_mono_us > listen_start) {
                hit = entry;
                break;
            }
        }
    }
    const std::string what =
        "lbt: " + mhz_text(frequency_hz) + " MHz BW " + std::to_string(bandwidth_hz / 1000) +
        " kHz, listening [" + std::to_string(count_us - options_.lbt_scan_us) + ", " +
        std::to_string(count_us) + ") before " + std::to_string(airtime_us) + " us of air time: ";
    if (hit) {
        host_.stat_add("lbt_busy", 1);
        host_.debug(what + "busy (busy window " + mhz_text(hit->frequency_hz) + " MHz [" +
                    std::to_string(hit->from_us) + ", " + std::to_string(hit->to_us) + "))");
        return false;
    }
    host_.stat_add("lbt_clear", 1);
    host_.debug(what + "clear");
    return true;
}

bool VirtualRadio::last_pps(uint32_t& count_us, uint64_t& edge_mono_us)
{
    if (!options_.pps) {
        return false;
    }
    // Read the host clock between two CLOCK_REALTIME reads and take the middle of those, so
    // both describe the same instant; retry a few times if the thread was preempted between.
    constexpr int64_t kMaxReadGapUs = 50;
    int64_t utc_us = 0;
    uint64_t now_mono = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        timespec before{};
        timespec after{};
        ::clock_gettime(CLOCK_REALTIME, &before);
        now_mono = host_.monotonic_us();
        ::clock_gettime(CLOCK_REALTIME, &after);
        const int64_t before_us =
            static_cast<int64_t>(before.tv_sec) * 1000000 + before.tv_nsec / 1000;
        const int64_t after_us =
            static_cast<int64_t>(after.tv_sec) * 1000000 + after.tv_nsec / 1000;
        utc_us = before_us + (after_us - before_us) / 2;
        if (after_us - before_us <= kMaxReadGapUs) {
            break;
        }
    }
    const auto since_edge = static_cast<uint64_t>(((utc_us % 1000000) + 1000000) % 1000000);
    if (now_mono < since_edge) {
        return false; // the edge would precede the host clock's zero
    }
    edge_mono_us = now_mono - since_edge;
    count_us = counter_at(edge_mono_us);
    return true;
}

} // namespace forwarder::virtual_radio

FORWARDER_PLUGIN(forwarder::virtual_radio::VirtualRadio, "virtual", FWD_KIND_RADIO,
                 FORWARDER_VIRTUAL_RADIO_VERSION,
                 "Virtual radio: injects rxpk JSON frames received over UDP as uplinks and "
                 "appends transmitted frames to a JSON-lines file; simulates busy channels for "
                 "listen before talk and PPS edges on host-UTC seconds",
                 forwarder::virtual_radio::kOptions, FWD_TOPIC_BIT(FWD_TOPIC_RADIO_CONFIG))
