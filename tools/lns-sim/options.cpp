#include "options.hpp"
#include "cli_args.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace lns_sim {

const char* const kUsage =
    "Usage: forwarder-lns-sim [options]\n"
    "A local LoRa Basics Station LNS (server side) for demos, integration tests and benchmarks:\n"
    "discovery on /router-info, traffic on /traffic/eui-<EUI> (or /gateway/<EUI>).\n"
    "\n"
    "Listening and security\n"
    "  --listen HOST:PORT       address to listen on; port 0 picks a free port\n"
    "                           (default 127.0.0.1:6090)\n"
    "  --tls-cert FILE          serve wss:// with this certificate (PEM) ...\n"
    "  --tls-key FILE           ... and this private key (PEM)\n"
    "  --client-ca FILE         require client certificates signed by this CA (mutual TLS)\n"
    "  --token \"Name: value\"    require this request header with exactly this value on both\n"
    "                           endpoints, else HTTP 401 (repeatable)\n"
    "  --token-file FILE        like --token for every \"Name: value\" line of FILE (tc.key)\n"
    "\n"
    "Discovery\n"
    "  --discovery-error TEXT   answer {\"router\",\"muxs\",\"error\":TEXT} instead of a uri\n"
    "  --muxs-uri URI           answer this uri instead of ws[s]://<Host>/traffic/eui-<EUI>\n"
    "\n"
    "Traffic\n"
    "  --region NAME            router_config region: EU863 (default), US902, AU915, AS923,\n"
    "                           KR920, IN865 (aliases EU868, US915, AS923-1, ...; the name is\n"
    "                           sent as given)\n"
    "  --dr-style tts|cs        undefined DRs as [0,0,0] (tts, default) or [-1,0,0] (cs)\n"
    "  --downlink MODE          answer every updf/jreq with one dnmsg: none (default), rx1,\n"
    "                           rx2, rx1rx2, classc, classb, tts (see below)\n"
    "  --rx1-dr-offset N        RX1 DR offset, 0..7 (default 0)\n"
    "  --transfer-interval S    send TTS time transfers {\"msgtype\":\"timesync\",\"gpstime\":0,\n"
    "                           \"MuxTime\":now} every S seconds (default 0 = off)\n"
    "  --timesync               answer the gateway's {\"msgtype\":\"timesync\",\"txtime\":T} with\n"
    "                           "
    "{\"msgtype\":\"timesync\",\"txtime\":T,\"gpstime\":G,\"MuxTime\":M}, G =\n"
    "                           this host's UTC now in GPS µs (unix µs - 315964800 s + 18 s),\n"
    "                           M = UTC now in seconds, as TTS does (default: requests are only\n"
    "                           logged)\n"
    "  --transfer-after-uplink  after each uplink send {\"msgtype\":\"timesync\",\"xtime\":X,\n"
    "                           \"gpstime\":G}: the uplink's xtime paired with GPS now, as\n"
    "                           ChirpStack does with timesync_interval > 0 (sent before the\n"
    "                           uplink's dnmsg)\n"
    "  --beacon                 put class B beaconing into router_config: \"bcning\":{\"DR\":3,\n"
    "                           \"layout\":[2,8,17],\"freqs\":[869525000]} for EU863, the\n"
    "                           regional beacon for the others (US902/AU915 DR8 on 923.3 +\n"
    "                           0.6 n MHz, n = 0..7; AS923 DR3 923.4 MHz; KR920 DR3 923.1 MHz;\n"
    "                           IN865 DR4 866.55 MHz), layout from the beacon's SF\n"
    "  --send FILE              after router_config, send FILE verbatim as one text frame\n"
    "                           (repeatable, in order; once per connection)\n"
    "  --ping-interval S        send websocket pings every S seconds (default 0 = off)\n"
    "  --half-open-after N      after N text frames on a traffic connection stop reading,\n"
    "                           writing and answering pings, but keep TCP open (once: later\n"
    "                           connections, e.g. the gateway's reconnect, work normally)\n"
    "\n"
    "Run time and output\n"
    "  --exit-after-messages N  exit after N text frames received on traffic connections\n"
    "  --duration S             exit after S seconds (default 0 = run until SIGTERM/SIGINT)\n"
    "  --pretty                 short human lines instead of JSON events (the first line,\n"
    "                           {\"event\":\"listening\",...}, is always JSON)\n"
    "  --help                   print this help\n"
    "\n"
    "Downlink modes (xtime = the uplink's xtime, RxDelay 1, rctx from the uplink):\n"
    "  rx1     RX1DR/RX1Freq (EU-like regions: uplink DR - offset and frequency; US902/AU915:\n"
    "          the regional RX1 channel and DR)\n"
    "  rx2     RX2DR/RX2Freq of the region only (EU 869.525 MHz DR0, US 923.3 MHz DR8, ...)\n"
    "  rx1rx2  both windows, as ChirpStack sends them\n"
    "  classc  dC 2, RX2DR/RX2Freq, no xtime (send now)\n"
    "  classb  dC 1, DR/Freq = the region's ping-slot channel (beacon DR and frequency),\n"
    "          gpstime = the first ping slot (beacon period k·128 s + 2.12 s + n·30 ms) at\n"
    "          least 3 s after the uplink's gpstime, or after this host's UTC now in GPS µs\n"
    "          when the uplink has none; xtime and rctx of the uplink added as ChirpStack does\n"
    "          (combine with --transfer-after-uplink for a gateway without GPS)\n"
    "  tts     as The Things Stack: RX1 fields only, xtime rebuilt as (target - 1 s) in the\n"
    "          uplink's session, target = uplink + 1 s\n"
    "\n"
    "Output: one JSON object per line: listening, connect, rejected, discovery, message,\n"
    "binary, downlink, sent, ping, pong, half_open, disconnect, connection_error, exit.\n"
    "Exit status: 0 normal end (duration, message count, SIGTERM/SIGINT), 1 error, 2 bad usage.\n";

namespace {

using forwarder::support::parse_integer;

double parse_seconds(const std::string& option, const std::string& text)
{
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value) || value < 0 || value > 1e7) {
        throw UsageError{option + ": expected seconds >= 0, got '" + text + "'"};
    }
    return value;
}

std::string read_file(const std::string& option, const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw UsageError{option + ": cannot read '" + path + "'"};
    }
    std::ostringstream content;
    content << file.rdbuf();
    return content.str();
}

std::string trim(const std::string& text)
{
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return "";
    }
    const size_t last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

std::pair<std::string, std::string> parse_header(const std::string& option, const std::string& text)
{
    const size_t colon = text.find(':');
    const std::string name = colon == std::string::npos ? "" : trim(text.substr(0, colon));
    if (name.empty() || name.find_first_of(" \t") != std::string::npos) {
        throw UsageError{option + ": expected \"Name: value\", got '" + text + "'"};
    }
    return {name, trim(text.substr(colon + 1))};
}

DownlinkMode parse_downlink(const std::string& text)
{
    for (auto mode :
         {DownlinkMode::None, DownlinkMode::Rx1, DownlinkMode::Rx2, DownlinkMode::Rx1Rx2,
          DownlinkMode::ClassC, DownlinkMode::ClassB, DownlinkMode::Tts}) {
        if (text == downlink_mode_name(mode)) {
            return mode;
        }
    }
    throw UsageError{"--downlink: expected none, rx1, rx2, rx1rx2, classc, classb or tts, got '" +
                     text + "'"};
}

} // namespace

const char* downlink_mode_name(DownlinkMode mode)
{
    switch (mode) {
    case DownlinkMode::None:
        return "none";
    case DownlinkMode::Rx1:
        return "rx1";
    case DownlinkMode::Rx2:
        return "rx2";
    case DownlinkMode::Rx1Rx2:
        return "rx1rx2";
    case DownlinkMode::ClassC:
        return "classc";
    case DownlinkMode::ClassB:
        return "classb";
    case DownlinkMode::Tts:
        return "tts";
    }
    return "?";
}

std::optional<Options> parse_options(int argc, char** argv)
{
    Options options;
    forwarder::support::ArgReader args(argc, argv);
    while (args.next()) {
        const std::string argument = args.name();
        auto value = [&] { return args.value(); };
        auto no_value = [&] { args.no_value(); };
        if (argument == "--help" || argument == "-h") {
            return std::nullopt;
        } else if (argument == "--listen") {
            options.listen = value();
        } else if (argument == "--tls-cert") {
            options.tls_cert = value();
        } else if (argument == "--tls-key") {
            options.tls_key = value();
        } else if (argument == "--client-ca") {
            options.client_ca = value();
        } else if (argument == "--token") {
            options.tokens.push_back(parse_header(argument, value()));
        } else if (argument == "--token-file") {
            const std::string path = value();
            std::istringstream lines(read_file(argument, path));
            std::string line;
            while (std::getline(lines, line)) {
                if (!trim(line).empty()) {
                    options.tokens.push_back(parse_header(argument, line));
                }
            }
        } else if (argument == "--discovery-error") {
            options.discovery_error = value();
        } else if (argument == "--muxs-uri") {
            options.muxs_uri = value();
        } else if (argument == "--region") {
            options.region = value();
        } else if (argument == "--dr-style") {
            const std::string style = value();
            if (style == "tts") {
                options.dr_style = DrStyle::Tts;
            } else if (style == "cs") {
                options.dr_style = DrStyle::Cs;
            } else {
                throw UsageError{"--dr-style: expected tts or cs, got '" + style + "'"};
            }
        } else if (argument == "--downlink") {
            options.downlink = parse_downlink(value());
        } else if (argument == "--rx1-dr-offset") {
            options.rx1_dr_offset = parse_integer<int>(argument, value(), 0, 7);
        } else if (argument == "--transfer-interval") {
            options.transfer_interval = parse_seconds(argument, value());
        } else if (argument == "--timesync") {
            no_value();
            options.timesync = true;
        } else if (argument == "--transfer-after-uplink") {
            no_value();
            options.transfer_after_uplink = true;
        } else if (argument == "--beacon") {
            no_value();
            options.beacon = true;
        } else if (argument == "--send") {
            const std::string path = value();
            options.send_files.push_back({path, read_file(argument, path)});
        } else if (argument == "--ping-interval") {
            options.ping_interval = parse_seconds(argument, value());
        } else if (argument == "--half-open-after") {
            options.half_open_after = parse_integer<uint64_t>(argument, value(), 0, UINT32_MAX);
        } else if (argument == "--exit-after-messages") {
            options.exit_after_messages = parse_integer<uint64_t>(argument, value(), 0, UINT32_MAX);
        } else if (argument == "--duration") {
            options.duration = parse_seconds(argument, value());
        } else if (argument == "--pretty") {
            no_value();
            options.pretty = true;
        } else {
            throw UsageError{"unknown argument '" + argument + "' (see --help)"};
        }
    }
    options.plan = find_region(options.region);
    if (!options.plan) {
        throw UsageError{"--region: unknown region '" + options.region +
                         "'; known: " + region_list()};
    }
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        throw UsageError{"--tls-cert and --tls-key go together"};
    }
    if (!options.client_ca.empty() && !options.tls()) {
        throw UsageError{"--client-ca needs --tls-cert and --tls-key"};
    }
    for (const auto& [path, option] :
         {std::pair{options.tls_cert, "--tls-cert"}, std::pair{options.tls_key, "--tls-key"},
          std::pair{options.client_ca, "--client-ca"}}) {
        if (!path.empty()) {
            read_file(option, path);
        }
    }
    return options;
}

} // namespace lns_sim
