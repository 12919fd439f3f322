#pragma once
// Prometheus metrics: the forwarder's counters (Stats), bus queues and process figures as
// well-named metric families, rendered in the text exposition format 0.0.4 and served over
// HTTP at /metrics.
//
// The server should normally listen on 127.0.0.1 (or a management interface): metrics are
// not secret, but an open port on every interface of a gateway is rarely what an operator
// wants. ":port" means every IPv4 interface.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace forwarder::core {

struct MetricSample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

struct MetricFamily {
    std::string name;
    std::string help;
    std::string type; // "counter", "gauge" or "untyped"
    std::vector<MetricSample> samples;
};

// Text exposition format 0.0.4: "# HELP" and "# TYPE" lines, then one line per sample.
// Label values are escaped (backslash, double quote, newline), help texts too (backslash,
// newline). Integral values print without a decimal point, others with the shortest text
// that reads back as the same double; NaN, +Inf and -Inf are spelled as Prometheus does.
// Families with no samples are left out.
std::string render_prometheus(const std::vector<MetricFamily>& families);
// One sample value as render_prometheus prints it.
std::string format_metric_value(double value);

// Everything the gateway knows, in plain data (the gateway fills it in).
struct MetricsInput {
    std::vector<std::pair<std::string, int64_t>> stats; // Stats::snapshot(): "instance.name"
    struct Queue {
        std::string name;
        size_t depth = 0;
        size_t capacity = 0;
        uint64_t dropped = 0;
    };
    std::vector<Queue> queues;           // one per bus subscriber ("lns", "scheduler", ...)
    std::vector<std::string> transports; // transport instance names ("lns", "capture", ...)
    std::vector<std::string> radios;     // radio instance names by index: radios[0] = "radio0"
    uint64_t uptime_s = 0;
    uint64_t rss_bytes = 0; // from process_rss_bytes(); 0 = unknown (metric left out)
};

// Resident set size of this process (/proc/self/statm × page size); 0 if unreadable.
uint64_t process_rss_bytes();

// Maps the stats naming conventions to metric families (see metrics.cpp for the list).
// A stat that no rule maps is still exported, as forwarder_stat{name="<stat>"} (untyped).
// The order of families and samples is deterministic.
std::vector<MetricFamily> collect_metrics(const MetricsInput& in);

// A parsed "host:port", "[v6addr]:port" or ":port" (host "0.0.0.0").
struct ListenAddress {
    std::string host;
    uint16_t port = 0;
    bool ipv6 = false;
};
// Throws std::runtime_error("metrics.listen <text>: <reason>") if malformed.
ListenAddress parse_listen_address(const std::string& listen);

// An HTTP server (1-2 threads) answering GET /metrics with render_prometheus(collect()) as
// "text/plain; version=0.0.4; charset=utf-8". GET / answers a short pointer to /metrics;
// other paths are 404, methods other than GET and HEAD 405. `collect` runs on the server's
// thread, once per scrape; if it throws, the scrape answers 500.
class MetricsServer {
public:
    // `listen`: "host:port", "[v6addr]:port" or ":port"; port 0 picks a free port.
    MetricsServer(std::string listen, std::function<std::vector<MetricFamily>()> collect);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and starts serving. Throws std::runtime_error with a one-line message naming the
    // address and the reason, e.g. "metrics.listen 127.0.0.1:9100: address already in use".
    // Does nothing if already started.
    void start();
    // Stops accepting, aborts open connections and joins the threads (well within 1 s).
    // Idempotent; the destructor calls it.
    void stop();
    // The bound port (after start; 0 before).
    uint16_t port() const;
    const std::string& listen() const { return listen_; }

private:
    struct Impl;
    std::string listen_;
    std::function<std::vector<MetricFamily>()> collect_;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
};

} // namespace forwarder::core
