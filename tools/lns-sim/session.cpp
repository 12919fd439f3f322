#include "session.hpp"

#include "eui.hpp"
#include "messages.hpp"
#include "regions.hpp"

#include <Poco/Buffer.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetException.h>

#include <chrono>
#include <thread>

namespace lns_sim {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;
using Poco::Net::Socket;
using Poco::Net::WebSocket;
using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 50;
constexpr auto kDiscoveryQueryTimeout = std::chrono::seconds(30);
constexpr auto kDiscoveryCloseTimeout = std::chrono::seconds(10);
constexpr int kMaxPayload = 1 << 20;

// Frame flags for sendFrame (FIN + opcode; the two Poco enums do not mix in C++20).
constexpr int frame_flags(int opcode)
{
    return static_cast<int>(WebSocket::FRAME_FLAG_FIN) | opcode;
}

struct Frame {
    int opcode = 0;
    bool fin = true;
    std::string payload;
};

enum class ReadResult { Frame, Timeout, Eof };

// Waits up to `wait_ms` for a frame. Data already buffered (in the websocket or in TLS) is seen
// through available(); the socket is polled otherwise.
ReadResult read_frame(WebSocket& ws, int wait_ms, Frame& frame)
{
    if (ws.available() <= 0 &&
        !ws.poll(Poco::Timespan(0, wait_ms * 1000), Socket::SELECT_READ | Socket::SELECT_ERROR)) {
        return ReadResult::Timeout;
    }
    Poco::Buffer<char> buffer(0);
    int flags = 0;
    const int n = ws.receiveFrame(buffer, flags);
    if (n <= 0 && flags == 0) {
        return ReadResult::Eof;
    }
    frame.opcode = flags & WebSocket::FRAME_OP_BITMASK;
    frame.fin = (flags & WebSocket::FRAME_FLAG_FIN) != 0;
    frame.payload.assign(buffer.begin(), buffer.size());
    return ReadResult::Frame;
}

void send_text(WebSocket& ws, const std::string& text)
{
    ws.sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
}

void send_close(WebSocket& ws, uint16_t code, const std::string& reason)
{
    try {
        ws.shutdown(code, reason);
    } catch (const Poco::Exception&) {
    }
}

// "closed by gateway (code 1000 ...)" from a close frame's payload.
std::string close_reason(const std::string& payload)
{
    if (payload.size() < 2) {
        return "closed by gateway (no code)";
    }
    const unsigned code =
        static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1]);
    std::string text = "closed by gateway (code " + std::to_string(code);
    if (payload.size() > 2) {
        text += " " + payload.substr(2);
    }
    return text + ")";
}

// Echoes a close frame (same code and text).
void echo_close(WebSocket& ws, const std::string& payload)
{
    try {
        ws.sendFrame(payload.data(), static_cast<int>(payload.size()),
                     frame_flags(WebSocket::FRAME_OP_CLOSE));
    } catch (const Poco::Exception&) {
    }
}

void send_pong(WebSocket& ws, const std::string& payload)
{
    ws.sendFrame(payload.data(), static_cast<int>(payload.size()),
                 frame_flags(WebSocket::FRAME_OP_PONG));
}

Object::Ptr parse_object(const std::string& text)
{
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    const Var value = parser.parse(text);
    if (value.type() != typeid(Object::Ptr)) {
        throw Poco::JSON::JSONException("not a JSON object");
    }
    return value.extract<Object::Ptr>();
}

bool host_has_port(const std::string& host)
{
    if (!host.empty() && host.front() == '[') {
        return host.find("]:") != std::string::npos;
    }
    return host.find(':') != std::string::npos;
}

Object::Ptr disconnect_event(const char* endpoint, const ConnectionInfo& info,
                             const std::string& reason)
{
    Object::Ptr event = new_object();
    event->set("event", "disconnect");
    event->set("endpoint", endpoint);
    event->set("path", info.path);
    if (info.eui != 0) {
        event->set("eui", eui_hex_upper(info.eui));
    }
    event->set("reason", reason);
    return event;
}

// ---- discovery ----------------------------------------------------------------------------

class Discovery {
public:
    Discovery(Shared& shared, WebSocket& ws, const ConnectionInfo& info)
        : shared_(shared), ws_(ws), info_(info)
    {
    }

    void run()
    {
        std::string reason;
        bool answered = false;
        auto deadline = Clock::now() + kDiscoveryQueryTimeout;
        try {
            ws_.setReceiveTimeout(Poco::Timespan(5, 0));
            ws_.setSendTimeout(Poco::Timespan(5, 0));
            ws_.setMaxPayloadSize(kMaxPayload);
            while (reason.empty()) {
                if (shared_.stopping) {
                    send_close(ws_, WebSocket::WS_ENDPOINT_GOING_AWAY, "server shutting down");
                    reason = "shutdown";
                    break;
                }
                if (Clock::now() > deadline) {
                    reason = answered ? "no close from gateway" : "no query from gateway";
                    break;
                }
                Frame frame;
                const ReadResult result = read_frame(ws_, kPollMs, frame);
                if (result == ReadResult::Timeout) {
                    continue;
                }
                if (result == ReadResult::Eof) {
                    reason = answered ? "connection closed (EOF)"
                                      : "connection closed (EOF) before the query";
                    break;
                }
                switch (frame.opcode) {
                case WebSocket::FRAME_OP_PING:
                    send_pong(ws_, frame.payload);
                    break;
                case WebSocket::FRAME_OP_CLOSE:
                    echo_close(ws_, frame.payload);
                    reason = close_reason(frame.payload);
                    break;
                case WebSocket::FRAME_OP_TEXT:
                    if (!answered) {
                        answer(frame.payload);
                        answered = true;
                        deadline = Clock::now() + kDiscoveryCloseTimeout;
                    }
                    break;
                default:
                    break; // binary, pong, continuation: ignored on discovery
                }
            }
        } catch (const Poco::Exception& e) {
            reason = e.displayText();
        } catch (const std::exception& e) {
            reason = e.what();
        }
        try {
            ws_.close();
        } catch (const Poco::Exception&) {
        }
        shared_.out.event(disconnect_event("router-info", info_, reason),
                          "discovery connection closed: " + reason);
    }

private:
    void answer(const std::string& text)
    {
        const Options& options = shared_.options;
        Object::Ptr query;
        try {
            query = parse_object(text);
        } catch (const Poco::Exception&) {
        }
        const Var router = query ? field(*query, "router") : Var();
        std::optional<uint64_t> eui;
        if (!router.isEmpty() && router.isString()) {
            eui = parse_eui(router.convert<std::string>());
        } else if (!router.isEmpty() && router.isInteger()) {
            try {
                eui = router.convert<Poco::UInt64>();
            } catch (const Poco::Exception&) {
            }
        }

        Object::Ptr reply = new_object();
        reply->set("router", router.isEmpty() ? Var("::0") : router);
        reply->set("muxs", "muxs-::0");
        std::string uri;
        if (options.discovery_error) {
            reply->set("error", *options.discovery_error);
        } else if (!query || (!router.isEmpty() && !eui)) {
            reply->set("error", "Failed to parse discover query message");
        } else if (!eui || *eui == 0) {
            reply->set("error", "Empty router EUI provided");
        } else if (options.muxs_uri) {
            uri = *options.muxs_uri;
        } else {
            // As TTS: host and port from the Host header, default port 443/80 if it has none.
            std::string host = info_.host.empty() ? info_.local_address : info_.host;
            if (!host_has_port(host)) {
                host += options.tls() ? ":443" : ":80";
            }
            uri = std::string(options.tls() ? "wss://" : "ws://") + host + "/traffic/eui-" +
                  eui_hex_upper(*eui);
        }
        if (!uri.empty()) {
            reply->set("uri", uri);
        }
        send_text(ws_, to_json(reply));

        Object::Ptr event = new_object();
        event->set("event", "discovery");
        event->set("query", query ? Var(query) : Var(text));
        event->set("eui", eui ? Var(eui_hex_upper(*eui)) : Var());
        event->set("answer", reply);
        const std::string who = router.isEmpty() ? std::string("(none)") : to_json(router);
        shared_.out.event(
            event, "discovery router " + who + " -> " +
                       (uri.empty() ? "error: " + reply->getValue<std::string>("error") : uri));
    }

    Shared& shared_;
    WebSocket& ws_;
    const ConnectionInfo& info_;
};

// ---- traffic ------------------------------------------------------------------------------

class Traffic {
public:
    Traffic(Shared& shared, WebSocket& ws, const ConnectionInfo& info)
        : shared_(shared), options_(shared.options), ws_(ws), info_(info)
    {
    }

    void run()
    {
        const auto replaced = shared_.register_traffic(info_.eui);
        std::string reason;
        try {
            ws_.setReceiveTimeout(Poco::Timespan(5, 0));
            ws_.setSendTimeout(Poco::Timespan(5, 0));
            ws_.setMaxPayloadSize(kMaxPayload);
            if (options_.ping_interval > 0) {
                next_ping_ = Clock::now() + interval(options_.ping_interval);
            }
            while (reason.empty()) {
                reason = step(*replaced);
            }
        } catch (const Poco::Exception& e) {
            reason = e.displayText();
        } catch (const std::exception& e) {
            reason = e.what();
        }
        try {
            ws_.close();
        } catch (const Poco::Exception&) {
        }
        shared_.unregister_traffic(info_.eui, replaced);
        Object::Ptr event = disconnect_event("traffic", info_, reason);
        event->set("messages", frames_);
        shared_.out.event(event, "traffic connection closed: " + reason);
    }

private:
    static Clock::duration interval(double seconds)
    {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    }

    // One turn of the loop; a non-empty result ends the connection with that reason.
    std::string step(const std::atomic<bool>& replaced)
    {
        if (shared_.stopping) {
            if (!half_open_) {
                send_close(ws_, WebSocket::WS_ENDPOINT_GOING_AWAY, "server shutting down");
            }
            return "shutdown";
        }
        if (replaced) {
            if (!half_open_) {
                send_close(ws_, WebSocket::WS_POLICY_VIOLATION, "replaced by a new connection");
            }
            return "replaced by a new connection";
        }
        // Only one connection in the simulator's lifetime goes half-open, so that the gateway's
        // reconnect afterwards works normally.
        if (!half_open_ && options_.half_open_after && frames_ >= *options_.half_open_after &&
            !shared_.half_open_used.exchange(true)) {
            half_open_ = true;
            Object::Ptr event = new_object();
            event->set("event", "half_open");
            event->set("eui", eui_hex_upper(info_.eui));
            event->set("after_messages", frames_);
            shared_.out.event(event, "half-open: no more reading, writing or pongs");
        }
        if (half_open_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
            return "";
        }
        timers();
        Frame frame;
        const ReadResult result = read_frame(ws_, kPollMs, frame);
        if (result == ReadResult::Timeout) {
            return "";
        }
        if (result == ReadResult::Eof) {
            return "connection closed (EOF)";
        }
        return handle_frame(frame);
    }

    void timers()
    {
        const auto now = Clock::now();
        if (options_.ping_interval > 0 && now >= next_ping_) {
            next_ping_ = now + interval(options_.ping_interval);
            const std::string payload = "lns-sim-" + std::to_string(++pings_sent_);
            ws_.sendFrame(payload.data(), static_cast<int>(payload.size()),
                          frame_flags(WebSocket::FRAME_OP_PING));
            Object::Ptr event = new_object();
            event->set("event", "ping");
            event->set("direction", "sent");
            event->set("payload", payload);
            shared_.out.event(event, "");
        }
        if (options_.transfer_interval > 0 && configured_ && now >= next_transfer_) {
            next_transfer_ = now + interval(options_.transfer_interval);
            send_message(build_time_transfer(unix_now()), "time transfer");
        }
    }

    std::string handle_frame(const Frame& frame)
    {
        switch (frame.opcode) {
        case WebSocket::FRAME_OP_PING: {
            send_pong(ws_, frame.payload);
            Object::Ptr event = new_object();
            event->set("event", "ping");
            event->set("direction", "received");
            event->set("payload", frame.payload);
            shared_.out.event(event, "");
            return "";
        }
        case WebSocket::FRAME_OP_PONG: {
            Object::Ptr event = new_object();
            event->set("event", "pong");
            event->set("payload", frame.payload);
            shared_.out.event(event, "");
            return "";
        }
        case WebSocket::FRAME_OP_CLOSE:
            echo_close(ws_, frame.payload);
            return close_reason(frame.payload);
        case WebSocket::FRAME_OP_BINARY:
            if (!frame.fin) {
                fragment_opcode_ = WebSocket::FRAME_OP_BINARY;
                return "";
            }
            return binary(frame.payload.size());
        case WebSocket::FRAME_OP_TEXT:
            if (!frame.fin) {
                fragment_opcode_ = WebSocket::FRAME_OP_TEXT;
                fragment_ = frame.payload;
                return "";
            }
            handle_text(frame.payload);
            return "";
        case WebSocket::FRAME_OP_CONT:
            if (fragment_opcode_ == WebSocket::FRAME_OP_BINARY) {
                return frame.fin ? binary(0) : "";
            }
            fragment_ += frame.payload;
            if (frame.fin) {
                fragment_opcode_ = 0;
                handle_text(std::exchange(fragment_, std::string()));
            }
            return "";
        default:
            return "";
        }
    }

    // Like TTS: a binary frame ends the connection (TCP dropped, no close frame).
    std::string binary(size_t bytes)
    {
        Object::Ptr event = new_object();
        event->set("event", "binary");
        event->set("bytes", static_cast<Poco::UInt64>(bytes));
        shared_.out.event(event, "binary frame from gateway: closing like TTS");
        return "binary frame";
    }

    void handle_text(const std::string& text)
    {
        ++frames_;
        Object::Ptr message;
        try {
            message = parse_object(text);
        } catch (const Poco::Exception& e) {
            Object::Ptr event = new_object();
            event->set("event", "invalid");
            event->set("error", e.displayText());
            event->set("text", text);
            shared_.out.event(event, "invalid message: " + e.displayText());
        }
        if (message) {
            Object::Ptr event = new_object();
            event->set("event", "message");
            event->set("msg", message);
            shared_.out.event(event, describe_received(*message));
            dispatch(*message);
        }
        const uint64_t total = ++shared_.traffic_messages;
        if (options_.exit_after_messages > 0 && total >= options_.exit_after_messages) {
            shared_.request_stop("exit-after-messages");
        }
    }

    void dispatch(const Object& message)
    {
        const std::string msgtype = string_field(message, "msgtype").value_or("");
        if (msgtype == "version") {
            send_router_config();
        } else if (msgtype == "updf" || msgtype == "jreq") {
            if (options_.transfer_after_uplink) {
                // As ChirpStack: the uplink's xtime with GPS now, before the downlink.
                if (const Object::Ptr transfer = build_xtime_transfer(message, unix_now_us())) {
                    send_message(transfer, "time transfer xtime " +
                                               to_json(transfer->get("xtime")) + " gpstime " +
                                               to_json(transfer->get("gpstime")));
                }
            }
            send_downlink(message);
        } else if (msgtype == "timesync") {
            const Var txtime = field(message, "txtime");
            if (options_.timesync && !txtime.isEmpty()) {
                const Object::Ptr reply = build_timesync_reply(txtime, unix_now_us());
                send_message(reply, "timesync reply gpstime " + to_json(reply->get("gpstime")));
            }
        }
    }

    void send_router_config()
    {
        const Options& o = options_;
        send_message(build_router_config(*o.plan, o.region, o.dr_style, unix_now(), o.beacon),
                     "router_config " + o.region + (o.beacon ? " with bcning" : "") + " sent");
        if (!configured_) {
            configured_ = true;
            next_transfer_ = Clock::now() + interval(o.transfer_interval);
            for (const auto& file : o.send_files) {
                send_text(ws_, file.content);
                Object::Ptr event = new_object();
                event->set("event", "sent");
                event->set("file", file.path);
                event->set("bytes", static_cast<Poco::UInt64>(file.content.size()));
                shared_.out.event(event, "sent " + file.path);
            }
        }
    }

    void send_downlink(const Object& uplink)
    {
        if (options_.downlink == DownlinkMode::None) {
            return;
        }
        // Check first that a downlink can be built, so that diids stay dense.
        Downlink downlink = build_dnmsg(options_, uplink, 0, unix_now_us());
        if (downlink.message) {
            downlink = build_dnmsg(options_, uplink, shared_.next_diid++, unix_now_us());
        } else {
            Object::Ptr event = new_object();
            event->set("event", "no_downlink");
            event->set("reason", downlink.error);
            shared_.out.event(event, downlink.pretty);
            return;
        }
        send_text(ws_, to_json(downlink.message));
        Object::Ptr event = new_object();
        event->set("event", "downlink");
        event->set("msg", downlink.message);
        shared_.out.event(event, downlink.pretty);
    }

    // Sends `message` and prints {"event":"sent","msg":...}.
    void send_message(const Object::Ptr& message, const std::string& pretty)
    {
        send_text(ws_, to_json(message));
        Object::Ptr event = new_object();
        event->set("event", "sent");
        event->set("msg", message);
        shared_.out.event(event, pretty);
    }

    Shared& shared_;
    const Options& options_;
    WebSocket& ws_;
    const ConnectionInfo& info_;
    uint64_t frames_ = 0;
    bool half_open_ = false;
    bool configured_ = false;
    uint64_t pings_sent_ = 0;
    Clock::time_point next_ping_{};
    Clock::time_point next_transfer_{};
    int fragment_opcode_ = 0;
    std::string fragment_;
};

} // namespace

void run_discovery(Shared& shared, WebSocket& ws, const ConnectionInfo& info)
{
    Discovery(shared, ws, info).run();
}

void run_traffic(Shared& shared, WebSocket& ws, const ConnectionInfo& info)
{
    Traffic(shared, ws, info).run();
}

} // namespace lns_sim
