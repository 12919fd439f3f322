#pragma once
// One websocket connection to an LNS endpoint (discovery or traffic), over TCP or TLS.
// Thin I/O around Poco's websocket: the caller's single I/O thread owns it.
#include "lns_codec.hpp"
#include "tls_client.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
class WebSocket;
} // namespace Poco::Net

namespace forwarder::lns {

struct Frame {
    enum class Type { none, text, binary, ping, pong, close } type = Type::none;
    std::string payload;
    int close_code = 0;
};

class WsConnection {
public:
    // Connects, upgrades and returns the open websocket. Throws ConnectError. Only the DNS
    // lookup cannot be aborted through `watch` (may be null).
    static std::unique_ptr<WsConnection> open(const WsUri& uri, const Credentials& credentials,
                                              std::chrono::milliseconds timeout,
                                              SocketWatch* watch = nullptr);
    ~WsConnection();

    // Waits up to `timeout` for readable data or for `wake_fd` (an eventfd; -1: none).
    // Returns true when a frame can be read.
    bool wait_readable(std::chrono::milliseconds timeout, int wake_fd);
    // Reads one whole message (fragments joined; control frames returned as they come).
    // Throws std::runtime_error when the connection is broken.
    Frame receive();
    void send_text(const std::string& text);
    void send_pong(const std::string& payload);
    void send_ping(const std::string& payload);
    void send_close(int code);

    const std::string& peer() const { return peer_; }

private:
    WsConnection() = default;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::unique_ptr<Poco::Net::WebSocket> socket_;
    std::string peer_;
    SocketWatch* watch_ = nullptr;
    std::string partial_; // fragments of a message being assembled
    bool frame_binary_ = false;
};

} // namespace forwarder::lns
