#include "metrics.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>
#include <sstream>

using namespace forwarder::core;

namespace {

// --- A small, strict parser of the text exposition format 0.0.4 -------------------------

struct Exposition {
    std::map<std::string, double> series;     // "name{k=\"v\",...}" (labels sorted) -> value
    std::map<std::string, std::string> types; // family -> type
    std::map<std::string, std::string> helps; // family -> help (unescaped)
    std::vector<std::string> errors;          // "line N: what"
};

bool is_name_start(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool is_name_char(char c, bool colon)
{
    return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

// Reads a metric (colon = true) or label name at `i`; empty if none.
std::string read_name(const std::string& line, size_t& i, bool colon)
{
    const size_t start = i;
    if (i < line.size() && is_name_start(line[i], colon)) {
        ++i;
        while (i < line.size() && is_name_char(line[i], colon)) {
            ++i;
        }
    }
    return line.substr(start, i - start);
}

bool parse_value(const std::string& text, double& out)
{
    if (text == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    if (text == "+Inf" || text == "-Inf") {
        out = text[0] == '+' ? std::numeric_limits<double>::infinity()
                             : -std::numeric_limits<double>::infinity();
        return true;
    }
    // Digits, sign, point and exponent only: no "inf", "nan", hex or spaces.
    if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) {
        return false;
    }
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
}

Exposition parse_exposition(const std::string& text)
{
    Exposition x;
    std::string current; // family whose samples may follow
    std::set<std::string> finished;
    size_t line_no = 0;
    size_t pos = 0;
    auto error = [&](const std::string& what) {
        x.errors.push_back("line " + std::to_string(line_no) + ": " + what);
    };
    if (!text.empty() && text.back() != '\n') {
        x.errors.push_back("last line not terminated by a newline");
    }
    while (pos < text.size()) {
        ++line_no;
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) {
            eol = text.size();
        }
        const std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty()) {
            error("empty line");
            continue;
        }
        if (line[0] == '#') {
            const bool help = line.rfind("# HELP ", 0) == 0;
            const bool type = line.rfind("# TYPE ", 0) == 0;
            if (!help && !type) {
                error("comment other than HELP/TYPE: " + line);
                continue;
            }
            size_t i = 7;
            const std::string name = read_name(line, i, true);
            if (name.empty() || i >= line.size() || line[i] != ' ') {
                error("bad HELP/TYPE line: " + line);
                continue;
            }
            const std::string rest = line.substr(i + 1);
            if (help) {
                std::string unescaped;
                for (size_t k = 0; k < rest.size(); ++k) {
                    if (rest[k] == '\\') {
                        if (k + 1 < rest.size() && (rest[k + 1] == '\\' || rest[k + 1] == 'n')) {
                            unescaped += rest[k + 1] == 'n' ? '\n' : '\\';
                            ++k;
                        } else {
                            error("bad escape in HELP");
                        }
                    } else {
                        unescaped += rest[k];
                    }
                }
                if (!x.helps.emplace(name, unescaped).second) {
                    error("second HELP for " + name);
                }
                if (x.types.count(name) != 0) {
                    error("HELP after TYPE for " + name);
                }
            } else {
                static const std::set<std::string> kTypes = {"counter", "gauge", "untyped",
                                                             "summary", "histogram"};
                if (kTypes.count(rest) == 0) {
                    error("unknown type " + rest);
                }
                if (!x.types.emplace(name, rest).second) {
                    error("second TYPE for " + name);
                }
                if (!current.empty()) {
                    finished.insert(current);
                }
                current = name;
            }
            continue;
        }
        size_t i = 0;
        const std::string name = read_name(line, i, true);
        if (name.empty()) {
            error("no metric name: " + line);
            continue;
        }
        if (name != current) {
            error(finished.count(name) ? "samples of " + name + " not contiguous"
                                       : "sample of " + name + " before its TYPE");
        }
        std::map<std::string, std::string> labels;
        bool ok = true;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (ok && i < line.size() && line[i] != '}') {
                const std::string label = read_name(line, i, false);
                if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
                    ok = false;
                    break;
                }
                i += 2;
                std::string value;
                bool closed = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.size() ||
                            (line[i] != '\\' && line[i] != '"' && line[i] != 'n')) {
                            ok = false;
                            break;
                        }
                        value += line[i] == 'n' ? '\n' : line[i];
                        ++i;
                    } else {
                        value += c;
                    }
                }
                if (!closed || !labels.emplace(label, value).second) {
                    ok = false;
                    break;
                }
                if (i < line.size() && line[i] == ',') {
                    ++i;
                }
            }
            if (i >= line.size() || line[i] != '}') {
                ok = false;
            }
            ++i;
        }
        double value = 0;
        if (!ok || i >= line.size() || line[i] != ' ' || !parse_value(line.substr(i + 1), value)) {
            error("malformed sample: " + line);
            continue;
        }
        if (x.types.count(name) && x.types[name] == "counter" && !(value >= 0)) {
            error("counter not a non-negative number: " + line);
        }
        std::string key = name;
        if (!labels.empty()) {
            key += '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                key += (first ? "" : ",") + k + "=\"" + v + "\"";
                first = false;
            }
            key += '}';
        }
        if (!x.series.emplace(key, value).second) {
            error("duplicate series " + key);
        }
    }
    return x;
}

std::vector<std::string> sample_lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] != '#') {
            out.push_back(line);
        }
    }
    return out;
}

MetricFamily family(std::string name, std::string type, std::vector<MetricSample> samples,
                    std::string help = "help")
{
    return MetricFamily{std::move(name), std::move(help), std::move(type), std::move(samples)};
}

// --- HTTP client -------------------------------------------------------------------------

struct HttpResult {
    int status = 0;
    std::string content_type;
    std::string allow;
    std::string body;
};

HttpResult http(uint16_t port, const std::string& method, const std::string& path)
{
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(3, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (method == Poco::Net::HTTPRequest::HTTP_POST) {
        request.setContentLength(0);
    }
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult out;
    out.status = static_cast<int>(response.getStatus());
    out.content_type = response.getContentType();
    out.allow = response.get("Allow", "");
    Poco::StreamCopier::copyToString(in, out.body);
    return out;
}

std::string listen_on(uint16_t port)
{
    return "127.0.0.1:" + std::to_string(port);
}

} // namespace

// --- The validator itself must be able to fail ----------------------------------------------

TEST(ExpositionValidator, RejectsMalformedText)
{
    EXPECT_TRUE(parse_exposition("# TYPE a counter\na 1\n").errors.empty());
    EXPECT_FALSE(parse_exposition("a 1\n").errors.empty()) << "sample before TYPE";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na 1\na 2\n").errors.empty()) << "duplicate";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\n"
                                  "a{x=\"2\"} 2\n")
                     .errors.empty())
        << "not contiguous";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na{x=\"\\t\"} 1\n").errors.empty()) << "escape";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na{x=\"1} 1\n").errors.empty()) << "unclosed";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na nan\n").errors.empty()) << "lower-case nan";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na 1 123\n").errors.empty()) << "timestamp";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na\n").errors.empty()) << "no value";
    EXPECT_FALSE(parse_exposition("# TYPE a counter\na -1\n").errors.empty()) << "neg counter";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\na 1").errors.empty()) << "no final newline";
    EXPECT_FALSE(parse_exposition("# TYPE a gauge\n# TYPE a gauge\na 1\n").errors.empty());
}

// --- render_prometheus ----------------------------------------------------------------------

TEST(RenderPrometheus, HelpTypeThenSamples)
{
    const auto text = render_prometheus({
        family("up_total", "counter", {{{}, 3}}, "Things that went up."),
        family("temp", "gauge", {{{{"radio", "a"}}, 1.5}, {{{"radio", "b"}, {"x", "y"}}, -2}},
               "Temperature."),
    });
    EXPECT_EQ(text, "# HELP up_total Things that went up.\n"
                    "# TYPE up_total counter\n"
                    "up_total 3\n"
                    "# HELP temp Temperature.\n"
                    "# TYPE temp gauge\n"
                    "temp{radio=\"a\"} 1.5\n"
                    "temp{radio=\"b\",x=\"y\"} -2\n");
    EXPECT_TRUE(parse_exposition(text).errors.empty());
}

TEST(RenderPrometheus, EscapesLabelValuesAndHelp)
{
    const auto text = render_prometheus({family("m", "untyped", {{{{"v", "a\\b\"c\nd"}}, 1}},
                                                "back\\slash \"quoted\"\nsecond line")});
    EXPECT_EQ(text, "# HELP m back\\\\slash \"quoted\"\\nsecond line\n"
                    "# TYPE m untyped\n"
                    "m{v=\"a\\\\b\\\"c\\nd\"} 1\n");
    const auto x = parse_exposition(text);
    ASSERT_TRUE(x.errors.empty()) << x.errors.front();
    EXPECT_EQ(x.helps.at("m"), "back\\slash \"quoted\"\nsecond line");
    EXPECT_EQ(x.series.count("m{v=\"a\\b\"c\nd\"}"), 1u);
}

TEST(RenderPrometheus, FormatsNumbers)
{
    EXPECT_EQ(format_metric_value(0), "0");
    EXPECT_EQ(format_metric_value(-0.0), "0");
    EXPECT_EQ(format_metric_value(42), "42");
    EXPECT_EQ(format_metric_value(-7), "-7");
    EXPECT_EQ(format_metric_value(123456789012345.0), "123456789012345");
    EXPECT_EQ(format_metric_value(1.5), "1.5");
    EXPECT_EQ(format_metric_value(0.1), "0.1");
    EXPECT_EQ(format_metric_value(41.25), "41.25");
    EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
    // Everything else reads back as exactly the same double.
    for (const double v : {0.1 + 0.2, 1.0 / 3.0, 1e-300, -2.5e-7, 1e15, 9007199254740993.0,
                           1.7976931348623157e308, 4.9e-324, 123456.789, -0.000123}) {
        const auto text = format_metric_value(v);
        EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
        EXPECT_EQ(text.find_first_not_of("0123456789+-.e"), std::string::npos) << text;
    }
}

TEST(RenderPrometheus, OmitsFamiliesWithoutSamples)
{
    EXPECT_EQ(render_prometheus({family("empty", "gauge", {})}), "");
    EXPECT_EQ(render_prometheus({family("empty", "gauge", {}), family("b", "gauge", {{{}, 2}})}),
              "# HELP b help\n# TYPE b gauge\nb 2\n");
    EXPECT_EQ(render_prometheus({}), "");
}

// --- collect_metrics ------------------------------------------------------------------------

namespace {

MetricsInput full_input()
{
    MetricsInput in;
    in.transports = {"lns", "semtech-udp", "capture"};
    in.radios = {"sx1302", "virt"};
    in.queues = {{"lns", 3, 64, 5}, {"semtech-udp", 0, 64, 0}, {"scheduler", 1, 256, 2}};
    in.uptime_s = 3600;
    in.rss_bytes = 12345678;
    in.stats = {
        {"core.uplinks_received", 100},
        {"lns.uplinks_accepted", 90},
        {"lns.uplinks_forwarded", 80},
        {"lns.uplinks_filtered", 4},
        {"lns.uplinks_dropped", 6},
        {"lns.connected", 1},
        {"lns.connections", 2},
        {"lns.connection_failures", 3},
        {"lns.downlinks_received", 7},
        {"semtech-udp.uplinks_accepted", 50},
        {"semtech-udp.uplinks_sent", 49},
        {"semtech-udp.connected", 0},
        {"capture.uplinks_accepted", 100},
        {"capture.uplinks_dropped", 1},
        {"capture.delivered", 5},
        {"scheduler.tx_requests", 20},
        {"scheduler.tx_ok", 15},
        {"scheduler.tx_TOO_LATE", 2},
        {"scheduler.tx_DUTY_CYCLE", 1},
        {"scheduler.tx_COLLISION_PACKET", 1},
        {"scheduler.tx_power_limited", 3},
        {"scheduler.tx_ok_alternative", 1},
        {"scheduler.tx_rejected", 5},
        {"scheduler.queued.radio0", 2},
        {"scheduler.queued.radio1", 0},
        {"scheduler.duty_cycle.radio0/g1.used_us", 1500000},
        {"scheduler.duty_cycle.radio0/g1.budget_us", 36000000},
        {"scheduler.duty_cycle.radio1/865.0-868.0.used_us", 250},
        {"scheduler.duty_cycle.radio1/865.0-868.0.budget_us", 36000000},
        {"scheduler.duty_cycle.bogus.used_us", 1},
        {"sx1302.temperature_mc", 41250},
        {"scheduler.counter_us.radio0", 123456789},
        {"sx1302.uplinks", 70},
        {"virt.uplinks", 30},
        {"clock.radio0.pps_edges", 9},
    };
    return in;
}

} // namespace

TEST(CollectMetrics, MapsEveryRule)
{
    const auto text = render_prometheus(collect_metrics(full_input()));
    const std::vector<std::string> expected = {
        "forwarder_uplinks_received_total 100",
        "forwarder_transport_uplinks_received_total{transport=\"lns\"} 90",
        "forwarder_transport_uplinks_received_total{transport=\"semtech-udp\"} 50",
        "forwarder_transport_uplinks_received_total{transport=\"capture\"} 100",
        "forwarder_transport_uplinks_forwarded_total{transport=\"lns\"} 80",
        "forwarder_transport_uplinks_forwarded_total{transport=\"semtech-udp\"} 49",
        "forwarder_transport_uplinks_filtered_total{transport=\"lns\"} 4",
        "forwarder_transport_uplinks_dropped_total{transport=\"lns\",reason=\"transport\"} 6",
        "forwarder_transport_uplinks_dropped_total{transport=\"lns\",reason=\"queue\"} 5",
        "forwarder_transport_uplinks_dropped_total{transport=\"semtech-udp\",reason=\"queue\"} 0",
        "forwarder_transport_uplinks_dropped_total{transport=\"capture\",reason=\"transport\"} 1",
        "forwarder_transport_connected{transport=\"lns\"} 1",
        "forwarder_transport_connected{transport=\"semtech-udp\"} 0",
        "forwarder_transport_connections_total{transport=\"lns\"} 2",
        "forwarder_transport_connection_failures_total{transport=\"lns\"} 3",
        "forwarder_transport_downlinks_received_total{transport=\"lns\"} 7",
        "forwarder_downlink_requests_total 20",
        "forwarder_downlinks_total{outcome=\"OK\"} 15",
        "forwarder_downlinks_total{outcome=\"COLLISION_PACKET\"} 1",
        "forwarder_downlinks_total{outcome=\"DUTY_CYCLE\"} 1",
        "forwarder_downlinks_total{outcome=\"TOO_LATE\"} 2",
        "forwarder_downlinks_power_limited_total 3",
        "forwarder_queue_depth{queue=\"lns\"} 3",
        "forwarder_queue_depth{queue=\"semtech-udp\"} 0",
        "forwarder_queue_depth{queue=\"scheduler\"} 1",
        "forwarder_queue_capacity{queue=\"lns\"} 64",
        "forwarder_queue_capacity{queue=\"semtech-udp\"} 64",
        "forwarder_queue_capacity{queue=\"scheduler\"} 256",
        "forwarder_queue_dropped_total{queue=\"lns\"} 5",
        "forwarder_queue_dropped_total{queue=\"semtech-udp\"} 0",
        "forwarder_queue_dropped_total{queue=\"scheduler\"} 2",
        "forwarder_bus_dropped_events_total 7",
        "forwarder_scheduler_queued_frames{radio=\"sx1302\"} 2",
        "forwarder_scheduler_queued_frames{radio=\"virt\"} 0",
        "forwarder_duty_cycle_used_seconds{radio=\"sx1302\",band=\"g1\"} 1.5",
        "forwarder_duty_cycle_used_seconds{radio=\"virt\",band=\"865.0-868.0\"} 0.00025",
        "forwarder_duty_cycle_budget_seconds{radio=\"sx1302\",band=\"g1\"} 36",
        "forwarder_duty_cycle_budget_seconds{radio=\"virt\",band=\"865.0-868.0\"} 36",
        "forwarder_radio_temperature_celsius{radio=\"sx1302\"} 41.25",
        "forwarder_radio_counter_microseconds{radio=\"sx1302\"} 123456789",
        "forwarder_radio_uplinks_total{radio=\"sx1302\"} 70",
        "forwarder_radio_uplinks_total{radio=\"virt\"} 30",
        "process_resident_memory_bytes 12345678",
        "forwarder_uptime_seconds 3600",
        "forwarder_stat{name=\"capture.delivered\"} 5",
        "forwarder_stat{name=\"clock.radio0.pps_edges\"} 9",
        "forwarder_stat{name=\"scheduler.duty_cycle.bogus.used_us\"} 1",
        "forwarder_stat{name=\"scheduler.tx_ok_alternative\"} 1",
        "forwarder_stat{name=\"scheduler.tx_rejected\"} 5",
    };
    EXPECT_EQ(sample_lines(text), expected) << text;

    const auto x = parse_exposition(text);
    ASSERT_TRUE(x.errors.empty()) << x.errors.front() << "\n" << text;
    const std::map<std::string, std::string> types = {
        {"forwarder_uplinks_received_total", "counter"},
        {"forwarder_transport_uplinks_received_total", "counter"},
        {"forwarder_transport_uplinks_forwarded_total", "counter"},
        {"forwarder_transport_uplinks_filtered_total", "counter"},
        {"forwarder_transport_uplinks_dropped_total", "counter"},
        {"forwarder_transport_connected", "gauge"},
        {"forwarder_transport_connections_total", "counter"},
        {"forwarder_transport_connection_failures_total", "counter"},
        {"forwarder_transport_downlinks_received_total", "counter"},
        {"forwarder_downlink_requests_total", "counter"},
        {"forwarder_downlinks_total", "counter"},
        {"forwarder_downlinks_power_limited_total", "counter"},
        {"forwarder_queue_depth", "gauge"},
        {"forwarder_queue_capacity", "gauge"},
        {"forwarder_queue_dropped_total", "counter"},
        {"forwarder_bus_dropped_events_total", "counter"},
        {"forwarder_scheduler_queued_frames", "gauge"},
        {"forwarder_duty_cycle_used_seconds", "gauge"},
        {"forwarder_duty_cycle_budget_seconds", "gauge"},
        {"forwarder_radio_temperature_celsius", "gauge"},
        {"forwarder_radio_counter_microseconds", "gauge"},
        {"forwarder_radio_uplinks_total", "counter"},
        {"process_resident_memory_bytes", "gauge"},
        {"forwarder_uptime_seconds", "gauge"},
        {"forwarder_stat", "untyped"},
    };
    EXPECT_EQ(x.types, types);
    for (const auto& [name, help] : x.helps) {
        EXPECT_GT(help.size(), 10u) << name;
    }
    EXPECT_EQ(x.helps.size(), types.size());
}

TEST(CollectMetrics, EveryStatAppearsExactlyOnce)
{
    // Each input stat is either mapped or shows up under forwarder_stat: the total count of
    // stat-derived samples cannot exceed the stats (no double counting).
    auto in = full_input();
    in.queues.clear();
    const auto families = collect_metrics(in);
    size_t samples = 0;
    for (const auto& f : families) {
        if (f.name != "forwarder_uptime_seconds" && f.name != "process_resident_memory_bytes" &&
            f.name != "forwarder_bus_dropped_events_total") {
            samples += f.samples.size();
        }
    }
    EXPECT_EQ(samples, in.stats.size());
}

TEST(CollectMetrics, UnknownRadiosAndTransportsPassThrough)
{
    MetricsInput in;
    in.radios = {"radio1"}; // radio 0 is named "radio1": radio 1's label must not collide
    in.stats = {
        {"scheduler.queued.radio0", 1}, {"scheduler.queued.radio1", 2},
        {"scheduler.queued.radio7", 3}, {"scheduler.queued.radiox", 4},
        {"ghost.uplinks_accepted", 5},  {"scheduler.tx_OK", 1},
        {"scheduler.tx_ok", 2},         {"scheduler.tx_SOMETHING_NEW", 6},
    };
    const auto text = render_prometheus(collect_metrics(in));
    const auto x = parse_exposition(text);
    ASSERT_TRUE(x.errors.empty()) << x.errors.front() << "\n" << text;
    EXPECT_EQ(x.series.at("forwarder_scheduler_queued_frames{radio=\"radio1\"}"), 1) << text;
    EXPECT_EQ(x.series.at("forwarder_scheduler_queued_frames{radio=\"radio7\"}"), 3);
    EXPECT_EQ(x.series.at("forwarder_stat{name=\"scheduler.queued.radio1\"}"), 2);
    EXPECT_EQ(x.series.at("forwarder_stat{name=\"scheduler.queued.radiox\"}"), 4);
    EXPECT_EQ(x.series.at("forwarder_stat{name=\"ghost.uplinks_accepted\"}"), 5);
    EXPECT_EQ(x.series.at("forwarder_downlinks_total{outcome=\"OK\"}"), 3);
    EXPECT_EQ(x.series.at("forwarder_downlinks_total{outcome=\"SOMETHING_NEW\"}"), 6);
}

TEST(CollectMetrics, ForwardedWinsOverSentAndEmptyInputIsMinimal)
{
    MetricsInput in;
    in.transports = {"t", "t"};
    in.stats = {{"t.uplinks_forwarded", 3}, {"t.uplinks_sent", 4}};
    auto x = parse_exposition(render_prometheus(collect_metrics(in)));
    ASSERT_TRUE(x.errors.empty()) << x.errors.front();
    EXPECT_EQ(x.series.at("forwarder_transport_uplinks_forwarded_total{transport=\"t\"}"), 3);
    EXPECT_EQ(x.series.at("forwarder_stat{name=\"t.uplinks_sent\"}"), 4);

    const auto text = render_prometheus(collect_metrics(MetricsInput{}));
    EXPECT_EQ(sample_lines(text), (std::vector<std::string>{"forwarder_bus_dropped_events_total 0",
                                                            "forwarder_uptime_seconds 0"}));
}

TEST(ProcessRss, IsPlausible)
{
    const uint64_t rss = process_rss_bytes();
    EXPECT_GT(rss, 100u * 1024);
    EXPECT_LT(rss, 64ull << 30);
}

// --- parse_listen_address -------------------------------------------------------------------

TEST(ParseListenAddress, AcceptsTheThreeForms)
{
    auto a = parse_listen_address("127.0.0.1:9100");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 9100);
    EXPECT_FALSE(a.ipv6);
    a = parse_listen_address(":0");
    EXPECT_EQ(a.host, "0.0.0.0");
    EXPECT_EQ(a.port, 0);
    a = parse_listen_address("[::1]:65535");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 65535);
    EXPECT_TRUE(a.ipv6);
    a = parse_listen_address("localhost:1");
    EXPECT_EQ(a.host, "localhost");
}

TEST(ParseListenAddress, RejectsMalformedWithTheAddressInTheMessage)
{
    for (const char* bad : {"9100", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:9x", "::1:9100",
                            "[::1]9100", "[::1]:", "[]:9100", "host:-1", ""}) {
        try {
            parse_listen_address(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::runtime_error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(std::string("metrics.listen ") + bad + ": ", 0),
                      0u)
                << e.what();
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        }
    }
}

// --- MetricsServer --------------------------------------------------------------------------

TEST(MetricsServer, ServesMetricsAndValuesChangeBetweenScrapes)
{
    std::atomic<int> scrapes{0};
    MetricsServer server("127.0.0.1:0", [&] {
        const int n = ++scrapes;
        MetricsInput in;
        in.transports = {"lns"};
        in.queues = {{"lns", 1, 8, 0}};
        in.stats = {{"core.uplinks_received", 10 * n}, {"lns.connected", 1}, {"odd\"name", 1}};
        in.uptime_s = static_cast<uint64_t>(n);
        in.rss_bytes = process_rss_bytes();
        return collect_metrics(in);
    });
    EXPECT_EQ(server.port(), 0);
    server.start();
    ASSERT_NE(server.port(), 0);

    const auto first = http(server.port(), "GET", "/metrics");
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.content_type, "text/plain; version=0.0.4; charset=utf-8");
    auto x = parse_exposition(first.body);
    ASSERT_TRUE(x.errors.empty()) << x.errors.front() << "\n" << first.body;
    EXPECT_EQ(x.series.at("forwarder_uplinks_received_total"), 10);
    EXPECT_EQ(x.series.at("forwarder_uptime_seconds"), 1);
    EXPECT_EQ(x.series.at("forwarder_transport_connected{transport=\"lns\"}"), 1);
    EXPECT_EQ(x.series.at("forwarder_stat{name=\"odd\"name\"}"), 1);
    EXPECT_GT(x.series.at("process_resident_memory_bytes"), 0);

    const auto second = http(server.port(), "GET", "/metrics?x=1");
    EXPECT_EQ(second.status, 200);
    x = parse_exposition(second.body);
    ASSERT_TRUE(x.errors.empty()) << x.errors.front() << "\n" << second.body;
    EXPECT_EQ(x.series.at("forwarder_uplinks_received_total"), 20);
    EXPECT_EQ(x.series.at("forwarder_uptime_seconds"), 2);
    EXPECT_EQ(scrapes.load(), 2);
    server.stop();
}

TEST(MetricsServer, RootNotFoundAndMethodNotAllowed)
{
    std::atomic<int> scrapes{0};
    MetricsServer server("127.0.0.1:0", [&] {
        ++scrapes;
        return std::vector<MetricFamily>{};
    });
    server.start();
    const auto root = http(server.port(), "GET", "/");
    EXPECT_EQ(root.status, 200);
    EXPECT_NE(root.body.find("/metrics"), std::string::npos) << root.body;

    const auto missing = http(server.port(), "GET", "/nothing");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(http(server.port(), "GET", "/metrics/extra").status, 404);

    const auto post = http(server.port(), "POST", "/metrics");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.allow, "GET, HEAD");
    EXPECT_EQ(http(server.port(), "DELETE", "/").status, 405);

    const auto head = http(server.port(), "HEAD", "/metrics");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");

    const auto empty = http(server.port(), "GET", "/metrics");
    EXPECT_EQ(empty.status, 200);
    EXPECT_EQ(empty.body, "");
    EXPECT_EQ(scrapes.load(), 2); // HEAD and GET /metrics only
}

TEST(MetricsServer, FailingCollectAnswers500)
{
    MetricsServer server("127.0.0.1:0",
                         []() -> std::vector<MetricFamily> { throw std::runtime_error("boom"); });
    server.start();
    const auto r = http(server.port(), "GET", "/metrics");
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("boom"), std::string::npos);
    // Still serving afterwards.
    EXPECT_EQ(http(server.port(), "GET", "/").status, 200);
}

TEST(MetricsServer, SecondServerOnTheSamePortFailsNamingTheAddress)
{
    MetricsServer first("127.0.0.1:0", [] { return std::vector<MetricFamily>{}; });
    first.start();
    const std::string address = listen_on(first.port());
    MetricsServer second(address, [] { return std::vector<MetricFamily>{}; });
    try {
        second.start();
        FAIL() << "second server started on " << address;
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "metrics.listen " + address + ": address already in use");
    }
    EXPECT_EQ(http(first.port(), "GET", "/").status, 200);
    second.stop(); // harmless: never started
}

TEST(MetricsServer, MalformedListenFails)
{
    MetricsServer bad("nonsense", [] { return std::vector<MetricFamily>{}; });
    try {
        bad.start();
        FAIL() << "started";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("metrics.listen nonsense: ", 0), 0u) << e.what();
    }
}

TEST(MetricsServer, StopIsQuickWithOpenConnections)
{
    MetricsServer server("127.0.0.1:0", [] {
        return std::vector<MetricFamily>{family("a", "gauge", {{{}, 1}})};
    });
    server.start();
    // A keep-alive client between requests, and one that connected and sent nothing.
    Poco::Net::HTTPClientSession idle("127.0.0.1", server.port());
    idle.setKeepAlive(true);
    idle.setTimeout(Poco::Timespan(3, 0));
    Poco::Net::HTTPRequest request("GET", "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    idle.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(idle.receiveResponse(response), body);
    EXPECT_EQ(body, "# HELP a help\n# TYPE a gauge\na 1\n");
    Poco::Net::StreamSocket silent(Poco::Net::SocketAddress("127.0.0.1", server.port()));

    const auto t0 = std::chrono::steady_clock::now();
    server.stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(1000))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";

    // Nothing listens any more.
    EXPECT_THROW(Poco::Net::StreamSocket(Poco::Net::SocketAddress("127.0.0.1", server.port())),
                 Poco::Exception);
    server.stop(); // idempotent
}

TEST(MetricsServer, RestartsOnTheSamePort)
{
    MetricsServer first("127.0.0.1:0", [] { return std::vector<MetricFamily>{}; });
    first.start();
    const uint16_t port = first.port();
    EXPECT_EQ(http(port, "GET", "/").status, 200);
    first.stop();
    MetricsServer again(listen_on(port), [] { return std::vector<MetricFamily>{}; });
    again.start();
    EXPECT_EQ(again.port(), port);
    EXPECT_EQ(http(port, "GET", "/").status, 200);
}
