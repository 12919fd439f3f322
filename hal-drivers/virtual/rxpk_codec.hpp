// Wire formats of the virtual radio, as pure functions (no I/O, no clocks):
//  - an injected UDP datagram `{"rxpk":[...]}` (Semtech UDP packet forwarder fields)
//    becomes forwarder::v1::Uplink messages, or one line saying what is wrong;
//  - an injected UDP datagram `{"busy":[...]}` becomes simulated busy periods of channels
//    (for listen before talk), or one line saying what is wrong;
//  - a transmitted forwarder::v1::TxRequest becomes one JSON line of the tx_log.
// README.md in this directory documents both formats for operators.
#ifndef FORWARDER_VIRTUAL_RADIO_RXPK_CODEC_HPP
#define FORWARDER_VIRTUAL_RADIO_RXPK_CODEC_HPP

#include "forwarder.pb.h"

#include <Poco/JSON/Parser.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::virtual_radio {

// What decoding needs besides the datagram itself.
struct RxContext {
    uint32_t radio = 0;            // Uplink.radio (the plugin's radio index)
    uint32_t counter_now = 0;      // Uplink.count_us of items without "tmst"
    uint64_t received_mono_us = 0; // Uplink.received_mono_us
};

// One simulated busy period of a channel, from an injected `{"busy":[...]}` datagram.
struct BusyWindow {
    uint64_t frequency_hz = 0; // centre of the interferer
    uint32_t from_us = 0;      // radio counter value where it starts (inclusive)
    uint32_t to_us = 0;        // radio counter value where it ends (exclusive); after from_us
                               // modulo 2^32, at most 2^31 - 1 us later
};

// The `busy` member of a datagram.
struct BusyUpdate {
    bool present = false; // the datagram had a `busy` list (an empty one means "clear all")
    std::vector<BusyWindow> windows;
};

// Decodes rxpk datagrams. Keeps its JSON parser and scratch buffers between calls, so
// decoding many datagrams allocates little. Not thread-safe; use one per thread.
class RxpkDecoder {
public:
    // Decodes one datagram. On success replaces the contents of `out` with one Uplink per
    // rxpk item (in order) and returns true. On failure returns false, leaves `out` empty
    // and sets `error` to one line naming the offending item and field, e.g.
    // `rxpk[1].datr: expected "SF<5..12>BW<125|250|500>", got "SF13BW125"`.
    // A datagram with any bad item is rejected as a whole.
    bool decode(std::string_view datagram, const RxContext& context, std::vector<v1::Uplink>& out,
                std::string& error);

    // Decodes one datagram that carries `rxpk`, `busy` or both (`{"busy":[{"freq":868.1,
    // "from_us":N,"to_us":M}, ...]}`). At least one of them must be present. On success fills
    // `out` as above and `busy` (busy.present says whether the datagram had a `busy` list) and
    // returns true. On failure returns false, leaves both empty and sets `error`, e.g.
    // `busy[0].to_us: expected a counter value after from_us ...`. A datagram with any bad item
    // (uplink or busy window) is rejected as a whole.
    bool decode(std::string_view datagram, const RxContext& context, std::vector<v1::Uplink>& out,
                BusyUpdate& busy, std::string& error);

private:
    bool decode_any(std::string_view datagram, const RxContext& context,
                    std::vector<v1::Uplink>& out, BusyUpdate* busy, std::string& error);

    Poco::JSON::Parser parser_;
    std::string text_;
};

// Convenience form of RxpkDecoder::decode for one-off use.
struct DecodeResult {
    std::vector<v1::Uplink> uplinks;
    BusyUpdate busy;   // only filled by decode_datagram
    std::string error; // empty on success
    bool ok() const { return error.empty(); }
};
DecodeResult decode_rxpk(std::string_view datagram, const RxContext& context);
// Convenience form of the RxpkDecoder::decode that also accepts `busy`.
DecodeResult decode_datagram(std::string_view datagram, const RxContext& context);

// One tx_log line (no trailing newline) for a frame handed to the radio:
// {"count_us":..,"handed_at_us":..,"freq":868.100000,"datr":"SF7BW125","codr":"4/5",
//  "powe":14,"ipol":true,"size":n,"data":"base64","imme":false}
// `count_us` is the counter value the preamble was requested for, `handed_at_us` the
// counter when the frame was handed over. Throws forwarder::sdk::Error for a request
// that cannot be transmitted (no modulation, power not finite).
std::string format_tx_log_line(const v1::TxRequest& request, uint32_t count_us,
                               uint32_t handed_at_us);

} // namespace forwarder::virtual_radio

#endif // FORWARDER_VIRTUAL_RADIO_RXPK_CODEC_HPP
