// forwarder-lns-sim: a local LoRa Basics Station LNS (the server side of lns.md) for the demo,
// the integration tests and benchmarks. Serves discovery (/router-info) and traffic
// (/traffic/eui-<EUI>, /gateway/<EUI>) over ws:// or wss:// (optionally with client
// certificates or required token headers), answers version with router_config, uplinks with
// dnmsg in several server styles (class A, B, C), timesync requests (--timesync), sends time
// transfers and class B beaconing on request, and prints one JSON event per line.
#include "options.hpp"
#include "output.hpp"
#include "server.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <thread>

namespace {

using namespace lns_sim;
using Clock = std::chrono::steady_clock;

constexpr auto kShutdownGrace = std::chrono::seconds(3);

Poco::Net::Context::Ptr make_tls_context(const Options& options)
{
    Poco::Net::Context::Params params;
    params.certificateFile = options.tls_cert;
    params.privateKeyFile = options.tls_key;
    params.loadDefaultCAs = false;
    params.verificationDepth = 9;
    if (options.client_ca.empty()) {
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    } else {
        params.caLocation = options.client_ca;
        params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    }
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    if (SSL_CTX_check_private_key(context->sslContext()) != 1) {
        throw Poco::Net::SSLContextException("the private key " + options.tls_key +
                                             " does not belong to the certificate " +
                                             options.tls_cert);
    }
    // A session id context is required for resumption when client certificates are verified.
    context->enableSessionCache(true, "forwarder-lns-sim");
    // No Poco configuration file: certificate errors are simply fatal for the handshake.
    Poco::Net::SSLManager::instance().initializeServer(
        nullptr, new Poco::Net::RejectCertificateHandler(true), context);
    return context;
}

int run(const Options& options)
{
    Output out(options.pretty);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr); // inherited by every thread started below
    signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<Poco::Net::ServerSocket> socket;
    try {
        const Poco::Net::SocketAddress address(options.listen);
        if (options.tls()) {
            Poco::Net::initializeSSL();
            socket = std::make_unique<Poco::Net::SecureServerSocket>(address, 64,
                                                                     make_tls_context(options));
        } else {
            socket = std::make_unique<Poco::Net::ServerSocket>(address, 64);
        }
    } catch (const Poco::Exception& e) {
        out.error("cannot listen on " + options.listen + (options.tls() ? " (TLS)" : "") + ": " +
                  e.displayText());
        return 1;
    }

    Shared shared(options, out);
    Poco::ThreadPool pool(2, 32);
    Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(32);
    params->setMaxQueued(32);
    Poco::Net::TCPServer server(new ConnectionFactory(shared), pool, *socket, params);
    server.start();

    const uint16_t port = socket->address().port();
    Poco::JSON::Object::Ptr listening = new_object();
    listening->set("event", "listening");
    listening->set("port", port);
    listening->set("tls", options.tls());
    out.json(listening);
    if (options.pretty) {
        std::string line = std::string("LNS simulator on ") + (options.tls() ? "wss" : "ws") +
                           "://" + socket->address().toString() + ", region " + options.region +
                           ", downlink " + downlink_mode_name(options.downlink);
        if (!options.client_ca.empty()) {
            line += ", client certificates required";
        }
        if (!options.tokens.empty()) {
            line += ", token required";
        }
        out.event(nullptr, line);
    }

    const auto start = Clock::now();
    while (!shared.stopping) {
        timespec wait{0, 100 * 1000 * 1000};
        siginfo_t info{};
        const int signal_number = sigtimedwait(&signals, &info, &wait);
        if (signal_number == SIGINT || signal_number == SIGTERM) {
            shared.request_stop(signal_number == SIGINT ? "SIGINT" : "SIGTERM");
        } else if (options.duration > 0 &&
                   Clock::now() - start >= std::chrono::duration<double>(options.duration)) {
            shared.request_stop("duration");
        }
    }

    // Stop accepting, let the sessions close their websockets (they poll `stopping`).
    server.stop();
    const auto deadline = Clock::now() + kShutdownGrace;
    while (shared.active_connections > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Poco::JSON::Object::Ptr exit_event = new_object();
    exit_event->set("event", "exit");
    exit_event->set("reason", shared.stop_reason());
    exit_event->set("messages", shared.traffic_messages.load());
    out.event(exit_event, "exit: " + shared.stop_reason());
    if (shared.active_connections > 0) {
        // A connection stuck in a handshake or a blocking read: do not wait for it.
        std::fflush(stdout);
        std::_Exit(0);
    }
    pool.joinAll();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const auto options = parse_options(argc, argv);
        if (!options) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        return run(*options);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "forwarder-lns-sim: %s\n", e.message.c_str());
        return 2;
    } catch (const Poco::Exception& e) {
        std::fprintf(stderr, "forwarder-lns-sim: %s\n", e.displayText().c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "forwarder-lns-sim: %s\n", e.what());
        return 1;
    }
}
