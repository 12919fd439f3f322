// The two websocket endpoints of the simulated LNS, after the upgrade.
#pragma once

#include "server.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/Net/WebSocket.h>

#include <cstdint>
#include <string>

namespace lns_sim {

struct ConnectionInfo {
    std::string path;
    std::string host;          // Host header, verbatim ("" if absent)
    std::string local_address; // for a missing Host header
    uint64_t eui = 0;          // traffic only: from the path
};

// /router-info: reads one query, answers it, waits for the close.
void run_discovery(Shared& shared, Poco::Net::WebSocket& ws, const ConnectionInfo& info);

// /traffic/eui-<EUI>: version → router_config, downlinks, timesync, pings, half-open, ...
void run_traffic(Shared& shared, Poco::Net::WebSocket& ws, const ConnectionInfo& info);

} // namespace lns_sim
