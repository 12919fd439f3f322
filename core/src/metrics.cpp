#include "metrics.hpp"

#include "log.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

namespace forwarder::core {

namespace {

constexpr const char* kComponent = "metrics";
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

void append_escaped(std::string& out, std::string_view text, bool quotes)
{
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quotes) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// One family under construction; refuses a second sample with the same labels so that the
// exposition never holds duplicate series.
class Family {
public:
    Family(std::string name, std::string type, std::string help)
    {
        family_.name = std::move(name);
        family_.type = std::move(type);
        family_.help = std::move(help);
    }
    bool add(Labels labels, double value)
    {
        if (!seen_.insert(labels).second) {
            return false;
        }
        family_.samples.push_back(MetricSample{std::move(labels), value});
        return true;
    }
    bool has(const Labels& labels) const { return seen_.count(labels) != 0; }
    MetricFamily take() { return std::move(family_); }

private:
    MetricFamily family_;
    std::set<Labels> seen_;
};

// The stats not yet mapped to a family. Taking a stat removes it: what is left at the end
// is exported as forwarder_stat{name=...}.
class StatTable {
public:
    explicit StatTable(const std::vector<std::pair<std::string, int64_t>>& stats)
    {
        for (const auto& [name, value] : stats) {
            values_[name] = value;
        }
    }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<int64_t> take(const std::string& name)
    {
        auto it = values_.find(name);
        if (it == values_.end()) {
            return std::nullopt;
        }
        const int64_t value = it->second;
        values_.erase(it);
        return value;
    }
    int64_t peek(const std::string& name) const { return values_.at(name); }
    // Names starting with `prefix`, in order.
    std::vector<std::string> with_prefix(std::string_view prefix) const
    {
        std::vector<std::string> out;
        for (auto it = values_.lower_bound(std::string(prefix));
             it != values_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
             ++it) {
            out.push_back(it->first);
        }
        return out;
    }
    const std::map<std::string, int64_t>& rest() const { return values_; }

private:
    std::map<std::string, int64_t> values_;
};

double as_double(int64_t v)
{
    return static_cast<double>(v);
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "radioN" (N decimal, at most 9 digits) -> N.
std::optional<size_t> radio_index(std::string_view text)
{
    constexpr std::string_view kRadio = "radio";
    if (!starts_with(text, kRadio)) {
        return std::nullopt;
    }
    const auto digits = text.substr(kRadio.size());
    if (digits.empty() || digits.size() > 9) {
        return std::nullopt;
    }
    size_t index = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        index = index * 10 + static_cast<size_t>(c - '0');
    }
    return index;
}

// A scheduler outcome name: upper-case letters, digits and '_', starting with a letter.
bool is_outcome_name(std::string_view text)
{
    if (text.empty() || text[0] < 'A' || text[0] > 'Z') {
        return false;
    }
    for (const char c : text) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

std::string lower_first(std::string text)
{
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
        text[0] = static_cast<char>(text[0] - 'A' + 'a');
    }
    return text;
}

std::runtime_error listen_error(const std::string& listen, const std::string& reason)
{
    return std::runtime_error("metrics.listen " + listen + ": " + reason);
}

} // namespace

std::string format_metric_value(double value)
{
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    if (value == std::trunc(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<int64_t>(value));
    }
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, value);
    return std::string(buf, result.ptr);
}

std::string render_prometheus(const std::vector<MetricFamily>& families)
{
    std::string out;
    for (const auto& family : families) {
        if (family.samples.empty()) {
            continue;
        }
        out += "# HELP " + family.name + " ";
        append_escaped(out, family.help, false);
        out += "\n# TYPE " + family.name + " " + (family.type.empty() ? "untyped" : family.type) +
               "\n";
        for (const auto& sample : family.samples) {
            out += family.name;
            if (!sample.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& [name, value] : sample.labels) {
                    if (!first) {
                        out += ',';
                    }
                    first = false;
                    out += name + "=\"";
                    append_escaped(out, value, true);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            out += format_metric_value(sample.value);
            out += '\n';
        }
    }
    return out;
}

uint64_t process_rss_bytes()
{
    std::ifstream statm("/proc/self/statm");
    uint64_t size_pages = 0, resident_pages = 0;
    if (!(statm >> size_pages >> resident_pages)) {
        return 0;
    }
    const long page = ::sysconf(_SC_PAGESIZE);
    return page > 0 ? resident_pages * static_cast<uint64_t>(page) : 0;
}

// The stats naming conventions (T = transport instance, R = radio instance, N = radio index):
//   core.uplinks_received                 forwarder_uplinks_received_total
//   T.uplinks_accepted                    forwarder_transport_uplinks_received_total{transport}
//   T.uplinks_forwarded (or _sent)        forwarder_transport_uplinks_forwarded_total{transport}
//   T.uplinks_filtered                    forwarder_transport_uplinks_filtered_total{transport}
//   T.uplinks_dropped, queue T's drops    forwarder_transport_uplinks_dropped_total{transport,
//                                             reason="transport"|"queue"}
//   T.connected                           forwarder_transport_connected{transport}
//   T.connections                         forwarder_transport_connections_total{transport}
//   T.connection_failures                 forwarder_transport_connection_failures_total{...}
//   T.downlinks_received                  forwarder_transport_downlinks_received_total{...}
//   scheduler.tx_requests                 forwarder_downlink_requests_total
//   scheduler.tx_ok, scheduler.tx_<OUTCOME>  forwarder_downlinks_total{outcome}
//   scheduler.tx_power_limited            forwarder_downlinks_power_limited_total
//   bus queues                            forwarder_queue_{depth,capacity,dropped_total}{queue},
//                                         forwarder_bus_dropped_events_total
//   scheduler.queued.radioN               forwarder_scheduler_queued_frames{radio}
//   scheduler.duty_cycle.radioN/BAND.used_us / .budget_us
//                                         forwarder_duty_cycle_{used,budget}_seconds{radio,band}
//   R.temperature_mc                      forwarder_radio_temperature_celsius{radio}
//   scheduler.counter_us.radioN           forwarder_radio_counter_microseconds{radio}
//   R.uplinks                             forwarder_radio_uplinks_total{radio}
//   anything else                         forwarder_stat{name}
std::vector<MetricFamily> collect_metrics(const MetricsInput& in)
{
    StatTable stats(in.stats);
    std::vector<MetricFamily> out;

    // Instance names, each once, in the given order.
    std::vector<std::string> transports;
    for (const auto& t : in.transports) {
        if (std::find(transports.begin(), transports.end(), t) == transports.end()) {
            transports.push_back(t);
        }
    }
    std::map<std::string, size_t> radio_name_count;
    for (const auto& r : in.radios) {
        ++radio_name_count[r];
    }
    // The `radio` label for "radioN": the instance name of radio N, else "radioN" as is.
    auto radio_label = [&](std::string_view text, size_t index) {
        if (index < in.radios.size() && !in.radios[index].empty() &&
            radio_name_count[in.radios[index]] == 1) {
            return in.radios[index];
        }
        return std::string(text);
    };

    {
        Family f("forwarder_uplinks_received_total", "counter",
                 "Uplink frames received by all radios and published to the transports.");
        if (auto v = stats.take("core.uplinks_received")) {
            f.add({}, as_double(*v));
        }
        out.push_back(f.take());
    }

    // Per-transport counters: one family per stat suffix.
    auto per_transport = [&](const char* name, const char* type, const char* help,
                             std::initializer_list<const char*> suffixes) {
        Family f(name, type, help);
        for (const auto& t : transports) {
            for (const char* suffix : suffixes) {
                if (auto v = stats.take(t + "." + suffix)) {
                    f.add({{"transport", t}}, as_double(*v));
                    break;
                }
            }
        }
        out.push_back(f.take());
    };
    per_transport("forwarder_transport_uplinks_received_total", "counter",
                  "Uplink frames a transport accepted from the bus for forwarding.",
                  {"uplinks_accepted"});
    per_transport("forwarder_transport_uplinks_forwarded_total", "counter",
                  "Uplink frames a transport sent on to its network server or sink.",
                  {"uplinks_forwarded", "uplinks_sent"});
    per_transport("forwarder_transport_uplinks_filtered_total", "counter",
                  "Uplink frames a transport deliberately skipped (e.g. by its CRC, DevAddr or "
                  "JoinEUI filters).",
                  {"uplinks_filtered"});
    {
        Family f("forwarder_transport_uplinks_dropped_total", "counter",
                 "Uplink frames lost on the way to a transport's destination. "
                 "reason=\"queue\": its bus queue was full (the transport is too slow); "
                 "reason=\"transport\": the transport itself dropped them (e.g. while "
                 "disconnected).");
        for (const auto& t : transports) {
            if (auto v = stats.take(t + ".uplinks_dropped")) {
                f.add({{"transport", t}, {"reason", "transport"}}, as_double(*v));
            }
            for (const auto& q : in.queues) {
                if (q.name == t) {
                    f.add({{"transport", t}, {"reason", "queue"}}, static_cast<double>(q.dropped));
                    break;
                }
            }
        }
        out.push_back(f.take());
    }
    per_transport("forwarder_transport_connected", "gauge",
                  "1 while a transport is connected to its server, 0 while it is not.",
                  {"connected"});
    per_transport("forwarder_transport_connections_total", "counter",
                  "Connections a transport established to its server.", {"connections"});
    per_transport("forwarder_transport_connection_failures_total", "counter",
                  "Attempts of a transport to connect to its server that failed, and "
                  "established connections that were lost.",
                  {"connection_failures"});
    per_transport("forwarder_transport_downlinks_received_total", "counter",
                  "Downlink requests a transport received from its network server.",
                  {"downlinks_received"});

    {
        Family f("forwarder_downlink_requests_total", "counter",
                 "Downlink transmissions requested of the scheduler (by any transport, and "
                 "beacons).");
        if (auto v = stats.take("scheduler.tx_requests")) {
            f.add({}, as_double(*v));
        }
        out.push_back(f.take());
    }
    {
        Family f("forwarder_downlinks_total", "counter",
                 "Downlink requests by outcome: OK = transmitted; anything else is why the "
                 "frame was not sent (TOO_LATE, DUTY_CYCLE, COLLISION_PACKET, ...).");
        // "tx_ok" and "tx_OK" are the same outcome.
        std::optional<int64_t> ok = stats.take("scheduler.tx_ok");
        if (auto upper = stats.take("scheduler.tx_OK")) {
            ok = ok.value_or(0) + *upper;
        }
        if (ok) {
            f.add({{"outcome", "OK"}}, as_double(*ok));
        }
        const std::string prefix = "scheduler.tx_";
        for (const auto& name : stats.with_prefix(prefix)) {
            const std::string outcome = name.substr(prefix.size());
            if (is_outcome_name(outcome)) {
                f.add({{"outcome", outcome}}, as_double(*stats.take(name)));
            }
        }
        out.push_back(f.take());
    }
    {
        Family f("forwarder_downlinks_power_limited_total", "counter",
                 "Downlinks transmitted at less power than requested, to stay within the "
                 "region's or the radio's limit.");
        if (auto v = stats.take("scheduler.tx_power_limited")) {
            f.add({}, as_double(*v));
        }
        out.push_back(f.take());
    }

    {
        Family depth("forwarder_queue_depth", "gauge",
                     "Events waiting in a bus subscriber's queue (one queue per transport, "
                     "one for the scheduler, ...).");
        Family capacity("forwarder_queue_capacity", "gauge",
                        "Capacity of a bus subscriber's queue; when full, its oldest event is "
                        "dropped.");
        Family dropped("forwarder_queue_dropped_total", "counter",
                       "Events dropped from a bus subscriber's queue because it was full.");
        uint64_t total_dropped = 0;
        for (const auto& q : in.queues) {
            if (depth.has({{"queue", q.name}})) {
                continue;
            }
            depth.add({{"queue", q.name}}, static_cast<double>(q.depth));
            capacity.add({{"queue", q.name}}, static_cast<double>(q.capacity));
            dropped.add({{"queue", q.name}}, static_cast<double>(q.dropped));
            total_dropped += q.dropped;
        }
        out.push_back(depth.take());
        out.push_back(capacity.take());
        out.push_back(dropped.take());
        Family bus("forwarder_bus_dropped_events_total", "counter",
                   "Events dropped from all bus queues together (see forwarder_queue_dropped_total "
                   "for which).");
        bus.add({}, static_cast<double>(total_dropped));
        out.push_back(bus.take());
    }

    // "<prefix>radioN" -> a sample labelled with radio N's instance name.
    auto per_radio_index = [&](Family& f, const std::string& prefix) {
        for (const auto& name : stats.with_prefix(prefix)) {
            const std::string_view radio = std::string_view(name).substr(prefix.size());
            if (auto index = radio_index(radio)) {
                if (f.add({{"radio", radio_label(radio, *index)}}, as_double(stats.peek(name)))) {
                    stats.take(name);
                }
            }
        }
    };
    {
        Family f("forwarder_scheduler_queued_frames", "gauge",
                 "Downlink frames (and beacons) queued in the scheduler for a radio, waiting for "
                 "their transmit time.");
        per_radio_index(f, "scheduler.queued.");
        out.push_back(f.take());
    }
    {
        Family used("forwarder_duty_cycle_used_seconds", "gauge",
                    "Transmit air time used in the current duty-cycle window, per radio and "
                    "regulatory sub-band (or channel).");
        Family budget("forwarder_duty_cycle_budget_seconds", "gauge",
                      "Transmit air time allowed per duty-cycle window, per radio and "
                      "regulatory sub-band (or channel).");
        const std::string prefix = "scheduler.duty_cycle.";
        for (const auto& name : stats.with_prefix(prefix)) {
            std::string_view key = std::string_view(name).substr(prefix.size());
            Family* f = nullptr;
            for (auto [suffix, family] : {std::pair{std::string_view(".used_us"), &used},
                                          std::pair{std::string_view(".budget_us"), &budget}}) {
                if (ends_with(key, suffix)) {
                    key.remove_suffix(suffix.size());
                    f = family;
                    break;
                }
            }
            const auto slash = key.find('/');
            if (f == nullptr || slash == std::string_view::npos || slash + 1 == key.size()) {
                continue;
            }
            const auto radio = key.substr(0, slash);
            const auto index = radio_index(radio);
            if (!index) {
                continue;
            }
            if (f->add({{"radio", radio_label(radio, *index)},
                        {"band", std::string(key.substr(slash + 1))}},
                       as_double(stats.peek(name)) / 1e6)) {
                stats.take(name);
            }
        }
        out.push_back(used.take());
        out.push_back(budget.take());
    }
    {
        Family f("forwarder_radio_temperature_celsius", "gauge",
                 "Temperature reported by a radio's sensor, in degrees Celsius.");
        for (const auto& r : in.radios) {
            if (f.has({{"radio", r}})) {
                continue;
            }
            if (auto v = stats.take(r + ".temperature_mc")) {
                f.add({{"radio", r}}, as_double(*v) / 1000.0);
            }
        }
        out.push_back(f.take());
    }
    {
        Family f("forwarder_radio_counter_microseconds", "gauge",
                 "A radio's free-running microsecond counter (the time base of uplink and "
                 "downlink timestamps); it wraps around.");
        per_radio_index(f, "scheduler.counter_us.");
        out.push_back(f.take());
    }
    {
        Family f("forwarder_radio_uplinks_total", "counter",
                 "Uplink frames a radio received and published.");
        for (const auto& r : in.radios) {
            if (f.has({{"radio", r}})) {
                continue;
            }
            if (auto v = stats.take(r + ".uplinks")) {
                f.add({{"radio", r}}, as_double(*v));
            }
        }
        out.push_back(f.take());
    }

    {
        Family f("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        if (in.rss_bytes > 0) {
            f.add({}, static_cast<double>(in.rss_bytes));
        }
        out.push_back(f.take());
    }
    {
        Family f("forwarder_uptime_seconds", "gauge", "Seconds since the forwarder started.");
        f.add({}, static_cast<double>(in.uptime_s));
        out.push_back(f.take());
    }
    {
        Family f("forwarder_stat", "untyped",
                 "Every other internal statistic of the forwarder, by its name in the stats "
                 "log line (\"instance.counter\"); counters only grow, the others are current "
                 "values.");
        for (const auto& [name, value] : stats.rest()) {
            f.add({{"name", name}}, as_double(value));
        }
        out.push_back(f.take());
    }

    std::vector<MetricFamily> result;
    for (auto& family : out) {
        if (!family.samples.empty()) {
            result.push_back(std::move(family));
        }
    }
    return result;
}

ListenAddress parse_listen_address(const std::string& listen)
{
    ListenAddress out;
    std::string_view port_text;
    if (starts_with(listen, "[")) {
        const auto close = listen.find(']');
        if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
            throw listen_error(listen, "expected [address]:port");
        }
        out.host = listen.substr(1, close - 1);
        out.ipv6 = true;
        port_text = std::string_view(listen).substr(close + 2);
        if (out.host.empty() || out.host.find(':') == std::string::npos) {
            throw listen_error(listen, "expected an IPv6 address between [ and ]");
        }
    } else {
        const auto colon = listen.rfind(':');
        if (colon == std::string::npos) {
            throw listen_error(listen, "expected host:port (e.g. 127.0.0.1:9100)");
        }
        out.host = listen.substr(0, colon);
        if (out.host.find(':') != std::string::npos) {
            throw listen_error(listen, "write an IPv6 address in brackets, e.g. [::1]:9100");
        }
        if (out.host.empty()) {
            out.host = "0.0.0.0";
        }
        port_text = std::string_view(listen).substr(colon + 1);
    }
    unsigned port = 0;
    const auto result =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || result.ec != std::errc() ||
        result.ptr != port_text.data() + port_text.size() || port > 65535) {
        throw listen_error(listen, "port must be a number from 0 to 65535");
    }
    out.port = static_cast<uint16_t>(port);
    return out;
}

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

using Collect = std::function<std::vector<MetricFamily>()>;

void respond(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
             const std::string& content_type, const std::string& body)
{
    response.setStatus(status);
    response.setContentType(content_type);
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.sendBuffer(body.data(), body.size()); // no body for HEAD
}

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit MetricsHandler(const Collect& collect) : collect_(collect) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override
    {
        std::string path = request.getURI();
        if (const auto q = path.find_first_of("?#"); q != std::string::npos) {
            path.resize(q);
        }
        if (path != "/" && path != "/metrics") {
            respond(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8",
                    "not found: metrics are at /metrics\n");
            return;
        }
        const auto& method = request.getMethod();
        if (method != Poco::Net::HTTPRequest::HTTP_GET &&
            method != Poco::Net::HTTPRequest::HTTP_HEAD) {
            response.set("Allow", "GET, HEAD");
            respond(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                    "method not allowed: use GET\n");
            return;
        }
        if (path == "/") {
            respond(response, HTTPResponse::HTTP_OK, "text/html; charset=utf-8",
                    "<!DOCTYPE html>\n<html><head><title>forwarder</title></head><body>"
                    "<p>LoRaWAN packet forwarder: Prometheus metrics at "
                    "<a href=\"/metrics\">/metrics</a>.</p></body></html>\n");
            return;
        }
        std::string body;
        try {
            body = render_prometheus(collect_());
        } catch (const std::exception& e) {
            log_warn(kComponent, std::string("collecting metrics failed: ") + e.what());
            respond(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                    std::string("collecting metrics failed: ") + e.what() + "\n");
            return;
        }
        respond(response, HTTPResponse::HTTP_OK, kContentType, body);
    }

private:
    const Collect& collect_;
};

class MetricsHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit MetricsHandlerFactory(const Collect& collect) : collect_(collect) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override
    {
        return new MetricsHandler(collect_);
    }

private:
    const Collect& collect_; // the MetricsServer's, which outlives the HTTP server
};

// A one-line reason for a failed bind/listen, e.g. "address already in use".
std::string socket_error_reason(const Poco::Exception& e)
{
    if (dynamic_cast<const Poco::Net::HostNotFoundException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::NoAddressFoundException*>(&e) != nullptr) {
        return "cannot resolve the host name";
    }
    if (e.code() > 0) {
        return lower_first(std::strerror(e.code()));
    }
    std::string text = e.displayText();
    for (char& c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return lower_first(text);
}

} // namespace

struct MetricsServer::Impl {
    Poco::ThreadPool pool{"metrics", 1, 2};
    std::unique_ptr<Poco::Net::HTTPServer> server;
};

MetricsServer::MetricsServer(std::string listen, std::function<std::vector<MetricFamily>()> collect)
    : listen_(std::move(listen)), collect_(std::move(collect))
{
}

MetricsServer::~MetricsServer()
{
    stop();
}

void MetricsServer::start()
{
    if (impl_) {
        return;
    }
    const ListenAddress address = parse_listen_address(listen_);
    Poco::Net::ServerSocket socket;
    try {
        const Poco::Net::SocketAddress bind_to(address.host, address.port);
        if (bind_to.family() == Poco::Net::SocketAddress::IPv6) {
            socket.bind6(bind_to, true, false, false);
        } else {
            socket.bind(bind_to, true, false);
        }
        socket.listen(16);
    } catch (const Poco::Exception& e) {
        throw listen_error(listen_, socket_error_reason(e));
    }
    port_ = socket.address().port();

    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setThreadIdleTime(Poco::Timespan(60, 0));
    params->setTimeout(Poco::Timespan(5, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(100);
    params->setServerName("forwarder");

    auto impl = std::make_unique<Impl>();
    try {
        impl->server = std::make_unique<Poco::Net::HTTPServer>(new MetricsHandlerFactory(collect_),
                                                               impl->pool, socket, params);
        impl->server->start();
    } catch (const Poco::Exception& e) {
        throw listen_error(listen_, socket_error_reason(e));
    }
    impl_ = std::move(impl);
    const std::string host = address.ipv6 ? "[" + address.host + "]" : address.host;
    log_info(kComponent, "serving Prometheus metrics at http://" + host + ":" +
                             std::to_string(port_) + "/metrics");
}

void MetricsServer::stop()
{
    if (!impl_) {
        return;
    }
    impl_->server->stopAll(true); // stops accepting (polls every 250 ms) and aborts connections
    impl_->pool.joinAll();
    impl_.reset();
}

uint16_t MetricsServer::port() const
{
    return port_;
}

} // namespace forwarder::core
