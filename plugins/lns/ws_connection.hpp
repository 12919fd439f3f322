#pragma once
// One websocket connection to an LNS endpoint (discovery or traffic), over TCP or TLS.
// Thin I/O around Poco's websocket: the caller's single I/O thread owns it.
#include "lns_codec.hpp"

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

// Credentials of one LNS endpoint (the tc.* set of a Basic Station).
struct Credentials {
    std::string trust_file; // CA bundle, PEM or DER; empty: ws:// only
    std::string cert_file;  // client certificate (mutual TLS), PEM or DER
    std::string key_file;   // client private key, PEM or DER (with cert_file)
    std::vector<std::pair<std::string, std::string>> token_headers; // sent only over TLS
    bool verify_hostname = true;
};

// Reads a Basic Station style key file: either `Name: value` header lines (a token) or a
// private key. Returns true and fills `headers` for a token file; false for a key file.
// Throws std::runtime_error for an unreadable or malformed file (the message never
// contains the file's content).
bool read_token_file(const std::string& path,
                     std::vector<std::pair<std::string, std::string>>& headers);

// Why a connection attempt failed, for the operator.
class ConnectError : public std::runtime_error {
public:
    enum class Kind { dns, tcp, tls, http, websocket, protocol, timeout };
    ConnectError(Kind kind, const std::string& what, int http_status = 0)
        : std::runtime_error(what), kind_(kind), http_status_(http_status)
    {
    }
    Kind kind() const { return kind_; }
    int http_status() const { return http_status_; }

private:
    Kind kind_;
    int http_status_;
};

struct Frame {
    enum class Type { none, text, binary, ping, pong, close } type = Type::none;
    std::string payload;
    int close_code = 0;
};

// Lets another thread abort a connection: `attach` is told the socket as soon as it exists
// (return false to abort at once), `detach` before it is closed. The owner may then call
// ::shutdown(fd) from any thread to make every blocking call on it fail at once.
class SocketWatch {
public:
    virtual ~SocketWatch() = default;
    virtual bool attach(int fd) = 0;
    virtual void detach() = 0;
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

// Poco's SSL library is initialised while at least one of these exists.
class SslLibrary {
public:
    SslLibrary();
    ~SslLibrary();
    SslLibrary(const SslLibrary&) = delete;
    SslLibrary& operator=(const SslLibrary&) = delete;
};

} // namespace forwarder::lns
