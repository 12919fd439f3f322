#pragma once
// JSON lines for the capture transport: pure functions, no I/O.
#include "forwarder.pb.h"

#include <string>

namespace forwarder::capture {

// {"type":"uplink","radio":0,"count_us":…,"freq":868.100000,"modu":"LORA","datr":"SF7BW125",…}
std::string format_uplink(const forwarder::v1::Uplink& up);
// {"type":"tx_result","id":…,"outcome":"TOO_LATE",…}
std::string format_tx_result(const forwarder::v1::TxResult& result);
// {"type":"stats",…}
std::string format_stats(const forwarder::v1::GatewayStats& stats);

} // namespace forwarder::capture
