#include "tls_client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cctype>
#include <fstream>
#include <iterator>
#include <stdexcept>

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

} // namespace

Poco::Net::Context::Ptr make_client_context(const std::string& host, const Credentials& c)
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
        throw std::runtime_error("trust: no trust (CA) configured for " + host);
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
        if (is_ip_address(host)) {
            set = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            set = X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
        }
        if (set != 1) { // never connect without the check the operator asked for
            ERR_clear_error();
            throw std::runtime_error("trust: cannot set up host-name verification for " + host);
        }
    }
    ERR_clear_error(); // nothing stale may pose as the cause of a later handshake failure
    return ctx;
}

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

SslLibrary::SslLibrary()
{
    Poco::Net::initializeSSL();
}
SslLibrary::~SslLibrary()
{
    Poco::Net::uninitializeSSL();
}

Poco::Net::StreamSocket open_stream(const std::string& host, uint16_t port, bool tls,
                                    const Credentials& credentials, Poco::Timespan timeout,
                                    SocketWatch* watch)
{
    // Declared before the try block: a failure detaches the watch (in the handler) before
    // the socket closes (when `tcp` goes out of scope).
    Poco::Net::StreamSocket tcp;
    bool attached = false;
    try {
        const Poco::Net::SocketAddress address(host, port); // DNS
        tcp = Poco::Net::StreamSocket(address.family());
        if (watch != nullptr) {
            attached = true;
            if (!watch->attach(tcp.impl()->sockfd())) {
                throw ConnectError(ConnectError::Kind::tcp, "stopping");
            }
        }
        tcp.connect(address, timeout);
        tcp.setReceiveTimeout(timeout);
        tcp.setSendTimeout(timeout);
        if (!tls) {
            return tcp;
        }
        // The TLS handshake runs here, on the socket the watch can shut down.
        return Poco::Net::SecureStreamSocket::attach(tcp, host,
                                                     make_client_context(host, credentials));
    } catch (...) {
        if (attached) {
            watch->detach();
        }
        throw current_failure(host);
    }
}

ConnectError current_failure(const std::string& host)
{
    try {
        throw;
    } catch (const ConnectError& e) {
        return e;
    } catch (const Poco::Net::HostNotFoundException&) {
        return ConnectError(ConnectError::Kind::dns, "DNS: cannot resolve " + host);
    } catch (const Poco::Net::NoAddressFoundException&) {
        return ConnectError(ConnectError::Kind::dns, "DNS: no address for " + host);
    } catch (const Poco::Net::DNSException& e) {
        return ConnectError(ConnectError::Kind::dns, "DNS: " + e.displayText());
    } catch (const Poco::Net::ConnectionRefusedException&) {
        return ConnectError(ConnectError::Kind::tcp, "TCP: connection refused");
    } catch (const Poco::TimeoutException&) {
        return ConnectError(ConnectError::Kind::timeout, "timed out");
    } catch (const Poco::Net::SSLException& e) {
        return ConnectError(ConnectError::Kind::tls, "TLS: " + e.message());
    } catch (const Poco::Net::NetException& e) {
        return ConnectError(ConnectError::Kind::tcp, "TCP: " + e.displayText());
    } catch (const Poco::Exception& e) {
        return ConnectError(ConnectError::Kind::tcp, e.displayText());
    } catch (const std::runtime_error& e) { // credential files
        return ConnectError(ConnectError::Kind::tls, e.what());
    } catch (const std::exception& e) {
        return ConnectError(ConnectError::Kind::tcp, e.what());
    } catch (...) {
        return ConnectError(ConnectError::Kind::tcp, "unknown error");
    }
}

} // namespace forwarder::lns
