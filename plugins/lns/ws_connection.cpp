#include "ws_connection.hpp"

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

std::string read_file(const std::string& path, const char* what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(std::string(what) + ": cannot read " + path);
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_pem(const std::string& data)
{
    return data.find("-----BEGIN ") != std::string::npos;
}

// Every certificate in a PEM bundle or in concatenated DER.
std::vector<X509*> read_certificates(const std::string& path, const char* what)
{
    const std::string data = read_file(path, what);
    std::vector<X509*> certs;
    if (is_pem(data)) {
        BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
        while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
            certs.push_back(cert);
        }
        BIO_free(bio);
        ERR_clear_error(); // the loop ends on a "no start line" error
    } else {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        const auto* end = p + data.size();
        while (p < end) {
            X509* cert = d2i_X509(nullptr, &p, static_cast<long>(end - p));
            if (cert == nullptr) {
                break;
            }
            certs.push_back(cert);
        }
        ERR_clear_error();
    }
    if (certs.empty()) {
        throw std::runtime_error(std::string(what) + ": no PEM or DER certificate in " + path);
    }
    return certs;
}

// Encrypted keys are not supported: never let OpenSSL prompt on a terminal for a passphrase.
int no_passphrase(char*, int, int, void*)
{
    return 0;
}

EVP_PKEY* read_private_key(const std::string& path)
{
    const std::string data = read_file(path, "key");
    EVP_PKEY* key = nullptr;
    if (is_pem(data)) {
        BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
        key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
        BIO_free(bio);
    } else {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size()));
    }
    ERR_clear_error();
    if (key == nullptr) {
        throw std::runtime_error("key: no PEM or DER private key in " + path);
    }
    return key;
}

bool is_ip_address(const std::string& host)
{
    in6_addr a6{};
    in_addr a4{};
    return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

Poco::Net::Context::Ptr make_context(const WsUri& uri, const Credentials& c)
{
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    params.cipherList = "HIGH:!aNULL:!MD5:!RC4";
    Poco::Net::Context::Ptr ctx =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    ctx->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // Host names are checked by OpenSSL during the handshake (below), not by Poco afterwards
    // (Poco's check resolves names through DNS).
    ctx->enableExtendedCertificateVerification(false);
    SSL_CTX* ssl = ctx->sslContext();
    if (c.trust_file.empty()) {
        throw ConnectError(ConnectError::Kind::tls, "no trust (CA) configured for " + uri.host);
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ssl);
    for (X509* cert : read_certificates(c.trust_file, "trust")) {
        X509_STORE_add_cert(store, cert);
        X509_free(cert);
    }
    ERR_clear_error();
    if (!c.cert_file.empty()) {
        auto certs = read_certificates(c.cert_file, "cert");
        const int used = SSL_CTX_use_certificate(ssl, certs[0]);
        X509_free(certs[0]);
        for (size_t i = 1; i < certs.size(); ++i) {
            if (SSL_CTX_add_extra_chain_cert(ssl, certs[i]) != 1) { // takes ownership on success
                X509_free(certs[i]);
            }
        }
        if (used != 1) {
            ERR_clear_error();
            throw std::runtime_error("cert: OpenSSL refused the certificate in " + c.cert_file);
        }
        EVP_PKEY* key = read_private_key(c.key_file);
        const int key_used = SSL_CTX_use_PrivateKey(ssl, key);
        EVP_PKEY_free(key);
        if (key_used != 1 || SSL_CTX_check_private_key(ssl) != 1) {
            ERR_clear_error();
            throw std::runtime_error("key: the private key does not match the certificate " +
                                     c.cert_file);
        }
    }
    if (c.verify_hostname) {
        X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ssl);
        int set = 0;
        if (is_ip_address(uri.host)) {
            set = X509_VERIFY_PARAM_set1_ip_asc(param, uri.host.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            set = X509_VERIFY_PARAM_set1_host(param, uri.host.c_str(), 0);
        }
        if (set != 1) { // never connect without the check the operator asked for
            ERR_clear_error();
            throw std::runtime_error("trust: cannot set up host-name verification for " + uri.host);
        }
    }
    ERR_clear_error(); // nothing stale may pose as the cause of a later handshake failure
    return ctx;
}

std::string host_header(const WsUri& uri)
{
    // Always with the port: TTS and ChirpStack build the traffic URI from it (rule 6).
    const bool v6 = uri.host.find(':') != std::string::npos;
    return (v6 ? "[" + uri.host + "]" : uri.host) + ":" + std::to_string(uri.port);
}

} // namespace

bool read_token_file(const std::string& path,
                     std::vector<std::pair<std::string, std::string>>& headers)
{
    const std::string data = read_file(path, "key");
    if (is_pem(data) || (!data.empty() && static_cast<unsigned char>(data[0]) == 0x30)) {
        return false; // a private key (PEM or DER)
    }
    headers.clear();
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < data.size()) {
        size_t end = data.find('\n', pos);
        if (end == std::string::npos) {
            end = data.size();
        }
        std::string line = data.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find_first_not_of(" \t") == std::string::npos) {
            continue;
        }
        const auto colon = line.find(':');
        bool ok = colon != std::string::npos && colon > 0;
        for (size_t i = 0; ok && i < colon; ++i) {
            const unsigned char ch = static_cast<unsigned char>(line[i]);
            ok = std::isalnum(ch) || ch == '-' || ch == '_';
        }
        std::string value = ok ? line.substr(colon + 1) : std::string();
        const auto first = value.find_first_not_of(" \t");
        value = first == std::string::npos ? "" : value.substr(first);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
            value.pop_back();
        }
        for (unsigned char ch : value) {
            ok = ok && ch >= 0x20 && ch != 0x7f;
        }
        if (!ok || value.empty()) {
            throw std::runtime_error("key: line " + std::to_string(line_no) + " of " + path +
                                     " is not a `Name: value` header line");
        }
        std::string lower = line.substr(0, colon);
        for (auto& ch : lower) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        if (lower == "host" || lower == "upgrade" || lower == "connection" ||
            lower.rfind("sec-websocket-", 0) == 0) {
            throw std::runtime_error("key: line " + std::to_string(line_no) + " of " + path +
                                     " sets the reserved header " + line.substr(0, colon));
        }
        headers.emplace_back(line.substr(0, colon), value);
    }
    if (headers.empty()) {
        throw std::runtime_error("key: " + path + " holds neither header lines nor a private key");
    }
    return true;
}

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
    } catch (const Poco::Net::HostNotFoundException& e) {
        throw ConnectError(ConnectError::Kind::dns, "DNS: cannot resolve " + uri.host);
    } catch (const Poco::Net::NoAddressFoundException& e) {
        throw ConnectError(ConnectError::Kind::dns, "DNS: no address for " + uri.host);
    } catch (const Poco::Net::DNSException& e) {
        throw ConnectError(ConnectError::Kind::dns, "DNS: " + e.displayText());
    } catch (const Poco::Net::ConnectionRefusedException&) {
        throw ConnectError(ConnectError::Kind::tcp, "TCP: connection refused");
    } catch (const Poco::TimeoutException&) {
        throw ConnectError(ConnectError::Kind::timeout, "timed out");
    } catch (const Poco::Net::SSLException& e) {
        throw ConnectError(ConnectError::Kind::tls, "TLS: " + e.message());
    } catch (const Poco::Net::NetException& e) {
        throw ConnectError(ConnectError::Kind::tcp, "TCP: " + e.displayText());
    } catch (const Poco::Exception& e) {
        throw ConnectError(ConnectError::Kind::tcp, e.displayText());
    } catch (const std::runtime_error& e) { // credential files
        throw ConnectError(ConnectError::Kind::tls, e.what());
    } catch (const std::exception& e) {
        throw ConnectError(ConnectError::Kind::tcp, e.what());
    }
}

SslLibrary::SslLibrary()
{
    Poco::Net::initializeSSL();
}
SslLibrary::~SslLibrary()
{
    Poco::Net::uninitializeSSL();
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
    // Declared before the try block, so a failure detaches the watch (in the handlers)
    // before the socket is closed (when these go out of scope).
    Poco::Net::StreamSocket tcp;
    bool attached = false;
    try {
        const Poco::Net::SocketAddress address(uri.host, uri.port); // DNS
        tcp = Poco::Net::StreamSocket(address.family());
        if (watch != nullptr) {
            attached = true;
            if (!watch->attach(tcp.impl()->sockfd())) {
                throw ConnectError(ConnectError::Kind::tcp, "stopping");
            }
        }
        tcp.connect(address, span);
        tcp.setReceiveTimeout(span);
        tcp.setSendTimeout(span);
        if (uri.tls) {
            // The TLS handshake runs here, on the socket stop() can shut down.
            auto secure = Poco::Net::SecureStreamSocket::attach(tcp, uri.host,
                                                                make_context(uri, credentials));
            conn->session_ = std::make_unique<Poco::Net::HTTPClientSession>(secure);
        } else {
            conn->session_ = std::make_unique<Poco::Net::HTTPClientSession>(tcp);
        }
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
        conn->watch_ = watch;
        return conn;
    } catch (...) {
        if (attached) {
            watch->detach();
        }
        conn.reset();
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
