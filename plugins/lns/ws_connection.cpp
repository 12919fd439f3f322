#include "ws_connection.hpp"

#include "tls_client.hpp"

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cctype>
#include <fstream>
#include <iterator>
#include <mutex>
#include <poll.h>

namespace forwarder::lns {

namespace {

std::string host_header(const WsUri& uri)
{
    // Always with the port: TTS and ChirpStack build the traffic URI from it (rule 6).
    const bool v6 = uri.host.find(':') != std::string::npos;
    return (v6 ? "[" + uri.host + "]" : uri.host) + ":" + std::to_string(uri.port);
}

} // namespace

// Rethrows the exception being handled as a ConnectError naming its cause.
[[noreturn]] static void translate_failure(const WsUri& uri,
                                           const Poco::Net::HTTPResponse& response)
{
    try {
        throw;
    } catch (const ConnectError&) {
        throw;
    } catch (const Poco::Net::WebSocketException& e) {
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS &&
            response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            throw ConnectError(ConnectError::Kind::http,
                               "HTTP " + std::to_string(static_cast<int>(response.getStatus())) +
                                   " " + response.getReason(),
                               static_cast<int>(response.getStatus()));
        }
        throw ConnectError(ConnectError::Kind::websocket,
                           "websocket upgrade failed: " + e.message());
    } catch (...) {
        throw current_failure(uri.host);
    }
}

std::unique_ptr<WsConnection> WsConnection::open(const WsUri& uri, const Credentials& credentials,
                                                 std::chrono::milliseconds timeout,
                                                 SocketWatch* watch)
{
    std::unique_ptr<WsConnection> conn(new WsConnection());
    conn->peer_ = std::string(uri.tls ? "wss://" : "ws://") + host_header(uri) +
                  (uri.path.empty() ? "/" : uri.path);
    const Poco::Timespan span(static_cast<long>(timeout.count() / 1000),
                              static_cast<long>((timeout.count() % 1000) * 1000));
    Poco::Net::HTTPResponse response;
    try {
        const Poco::Net::StreamSocket stream =
            open_stream(uri.host, uri.port, uri.tls, credentials, span, watch);
        conn->watch_ = watch; // from here the destructor detaches
        conn->session_ = std::make_unique<Poco::Net::HTTPClientSession>(stream);
        conn->session_->setTimeout(span);
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                       uri.path.empty() ? "/" : uri.path,
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Host", host_header(uri));
        if (uri.tls) { // never send a token in the clear
            for (const auto& [name, value] : credentials.token_headers) {
                request.add(name, value);
            }
        }
        conn->socket_ = std::make_unique<Poco::Net::WebSocket>(*conn->session_, request, response);
        conn->socket_->setMaxPayloadSize(1 << 20);
        conn->socket_->setReceiveTimeout(Poco::Timespan(10, 0));
        conn->socket_->setSendTimeout(Poco::Timespan(10, 0));
        conn->socket_->setKeepAlive(true);
        conn->socket_->setNoDelay(true);
        return conn;
    } catch (...) {
        conn.reset(); // detaches the watch, then closes the socket
        translate_failure(uri, response);
    }
}

WsConnection::~WsConnection()
{
    if (watch_ != nullptr) {
        watch_->detach(); // before the socket closes: its number may be reused
    }
    try {
        if (socket_) {
            socket_->close();
        }
    } catch (...) {
    }
}

bool WsConnection::wait_readable(std::chrono::milliseconds timeout, int wake_fd)
{
    if (socket_->available() > 0) { // buffered in the websocket or TLS layer
        return true;
    }
    pollfd fds[2] = {{socket_->impl()->sockfd(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    return n > 0 && fds[0].revents != 0;
}

Frame WsConnection::receive()
{
    for (;;) {
        Poco::Buffer<char> buffer(0);
        int flags = 0;
        int n = 0;
        try {
            n = socket_->receiveFrame(buffer, flags);
        } catch (const Poco::Exception& e) {
            throw std::runtime_error(e.displayText());
        }
        if (n == 0 && flags == 0) {
            throw std::runtime_error("connection closed by the server (no close frame)");
        }
        const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
        std::string payload(buffer.begin(), buffer.size());
        Frame frame;
        switch (op) {
        case Poco::Net::WebSocket::FRAME_OP_PING:
            frame.type = Frame::Type::ping;
            frame.payload = std::move(payload);
            return frame;
        case Poco::Net::WebSocket::FRAME_OP_PONG:
            frame.type = Frame::Type::pong;
            return frame;
        case Poco::Net::WebSocket::FRAME_OP_CLOSE:
            frame.type = Frame::Type::close;
            if (payload.size() >= 2) {
                frame.close_code = (static_cast<unsigned char>(payload[0]) << 8) |
                                   static_cast<unsigned char>(payload[1]);
                frame.payload = payload.substr(2);
            }
            return frame;
        case Poco::Net::WebSocket::FRAME_OP_TEXT:
        case Poco::Net::WebSocket::FRAME_OP_BINARY:
            partial_.clear();
            frame_binary_ = op == Poco::Net::WebSocket::FRAME_OP_BINARY;
            [[fallthrough]];
        case Poco::Net::WebSocket::FRAME_OP_CONT:
            partial_ += payload;
            if (partial_.size() > (1u << 20)) {
                throw std::runtime_error("message larger than 1 MiB");
            }
            if ((flags & Poco::Net::WebSocket::FRAME_FLAG_FIN) != 0) {
                frame.type = frame_binary_ ? Frame::Type::binary : Frame::Type::text;
                frame.payload = std::move(partial_);
                partial_.clear();
                return frame;
            }
            break;
        default:
            break; // reserved opcodes: ignore
        }
    }
}

void WsConnection::send_text(const std::string& text)
{
    try {
        socket_->sendFrame(text.data(), static_cast<int>(text.size()),
                           Poco::Net::WebSocket::FRAME_TEXT);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error(e.displayText());
    }
}

void WsConnection::send_pong(const std::string& payload)
{
    try {
        socket_->sendFrame(payload.data(), static_cast<int>(payload.size()),
                           int(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                               Poco::Net::WebSocket::FRAME_OP_PONG);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error(e.displayText());
    }
}

void WsConnection::send_ping(const std::string& payload)
{
    try {
        socket_->sendFrame(payload.data(), static_cast<int>(payload.size()),
                           int(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                               Poco::Net::WebSocket::FRAME_OP_PING);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error(e.displayText());
    }
}

void WsConnection::send_close(int code)
{
    const char payload[2] = {static_cast<char>((code >> 8) & 0xFF), static_cast<char>(code & 0xFF)};
    try {
        socket_->sendFrame(payload, 2,
                           int(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                               Poco::Net::WebSocket::FRAME_OP_CLOSE);
    } catch (const Poco::Exception&) {
    }
}

} // namespace forwarder::lns
