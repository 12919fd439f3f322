#pragma once
// TLS client settings shared by the LNS and CUPS clients: trust, client certificate and key
// (PEM or DER), token files, host-name verification.
#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <stdexcept>

#include <string>
#include <utility>
#include <vector>

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

// Lets another thread abort a connection: `attach` is told the socket as soon as it exists
// (return false to abort at once), `detach` before it is closed. The owner may then call
// ::shutdown(fd) from any thread to make every blocking call on it fail at once.
class SocketWatch {
public:
    virtual ~SocketWatch() = default;
    virtual bool attach(int fd) = 0;
    virtual void detach() = 0;
};

// Opens a TCP connection to host:port (resolving the name: the one step `watch` cannot
// abort), announces the socket to `watch`, and runs the TLS handshake when `tls`. Throws
// ConnectError naming the cause (DNS, TCP, TLS, timeout).
Poco::Net::StreamSocket open_stream(const std::string& host, uint16_t port, bool tls,
                                    const Credentials& credentials, Poco::Timespan timeout,
                                    SocketWatch* watch);

// The exception being handled, as a ConnectError naming its cause. Call inside a catch.
ConnectError current_failure(const std::string& host);

// A client context: TLS ≥ 1.2, the server certificate verified against `trust_file`, its
// host name (or IP) checked by OpenSSL during the handshake unless disabled, the client
// certificate and key loaded for mutual TLS. Throws std::runtime_error("<option>: ...").
Poco::Net::Context::Ptr make_client_context(const std::string& host, const Credentials& c);

// Poco's SSL library is initialised while at least one of these exists.
class SslLibrary {
public:
    SslLibrary();
    ~SslLibrary();
    SslLibrary(const SslLibrary&) = delete;
    SslLibrary& operator=(const SslLibrary&) = delete;
};

} // namespace forwarder::lns
