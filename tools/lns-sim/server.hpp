// The HTTP/websocket side of the simulated LNS: shared state, the TCP connection factory (TLS
// handshake, then Poco's HTTP server connection), the request handler (path, token and upgrade
// checks) and the discovery and traffic sessions.
#pragma once

#include "options.hpp"
#include "output.hpp"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace lns_sim {

class Shared {
public:
    Shared(const Options& options, Output& output) : options(options), out(output) {}

    const Options& options;
    Output& out;

    std::atomic<bool> stopping{false};
    std::atomic<int> active_connections{0};
    std::atomic<uint64_t> traffic_messages{0};
    std::atomic<int64_t> next_diid{1};
    std::atomic<bool> half_open_used{false}; // --half-open-after applies once

    // First caller wins; sets `stopping`.
    void request_stop(const std::string& reason);
    std::string stop_reason();

    // Registers a traffic connection for `eui`; an older one for the same EUI is told to close
    // (its flag becomes true).
    std::shared_ptr<std::atomic<bool>> register_traffic(uint64_t eui);
    void unregister_traffic(uint64_t eui, const std::shared_ptr<std::atomic<bool>>& flag);

private:
    std::mutex mutex_;
    std::string stop_reason_;
    std::map<uint64_t, std::shared_ptr<std::atomic<bool>>> traffic_;
};

// Creates one connection object per accepted TCP connection.
class ConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    explicit ConnectionFactory(Shared& shared);
    Poco::Net::TCPServerConnection*
    createConnection(const Poco::Net::StreamSocket& socket) override;

private:
    Shared& shared_;
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
};

} // namespace lns_sim
