// libFuzzer target for the Semtech UDP codec: every input is fed, as a datagram, to the header
// and EUI parsers, and, as JSON (whole and after the header), to the PULL_RESP, PUSH_DATA and
// TX_ACK decoders. Besides the sanitizers it checks invariants: a failure carries a reason,
// only ParseError escapes, a decoded txpk is sane, and a decoded PUSH_DATA re-encodes
// (rxpk_json, stat_json, push_data_bodies) into bodies that decode again to the same text.
#include "udp_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace forwarder::udp;
namespace v1 = forwarder::v1;

namespace {

void check(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

void check_header(std::string_view datagram)
{
    const auto header = parse_header(datagram);
    if (!header) {
        check(datagram.size() < 4 || (datagram[0] != 1 && datagram[0] != 2) ||
              static_cast<uint8_t>(datagram[3]) > 5);
        check(!packet_eui(datagram));
        return;
    }
    check(header->version == 1 || header->version == 2);
    check(encode_ack(header->type, header->token, header->version) == datagram.substr(0, 4));
    if (const auto eui = packet_eui(datagram)) {
        check(datagram.size() >= 12 && header_size(header->type) == 12);
        check(encode_pull_data(header->token, *eui).substr(4) == datagram.substr(4, 8));
    }
}

void check_pull_resp(std::string_view json)
{
    try {
        const Txpk txpk = parse_pull_resp(json);
        const v1::TxRequest& r = txpk.request;
        check(r.payload().size() <= kMaxPayload);
        check(r.timing().when_case() != v1::TxTiming::WHEN_NOT_SET);
        check(r.frequency_hz() > 0);
        if (r.modulation().has_lora()) {
            check(r.preamble() >= 6 && r.modulation().lora().coding_rate() != v1::CR_OFF &&
                  r.modulation().lora().coding_rate() != v1::CODING_RATE_UNSPECIFIED);
        } else {
            check(r.modulation().has_fsk() && r.preamble() >= 3);
        }
        std::string bytes;
        check(r.SerializeToString(&bytes));
    } catch (const ParseError& e) {
        check(e.what()[0] != '\0');
    }
}

void check_push_data(std::string_view json)
{
    PushData first;
    try {
        first = parse_push_data(json);
    } catch (const ParseError& e) {
        check(e.what()[0] != '\0');
        return;
    }
    std::vector<std::string> rxpks;
    for (const auto& uplink : first.uplinks) {
        rxpks.push_back(rxpk_json(uplink, true));
    }
    const std::string stat = first.stat ? stat_json(*first.stat) : std::string();
    const auto bodies = push_data_bodies(rxpks, stat);
    check(bodies.empty() == (rxpks.empty() && stat.empty()));
    // encode(decode(x)) decodes again, to the same text.
    size_t next = 0;
    for (size_t b = 0; b < bodies.size(); ++b) {
        PushData again;
        try {
            again = parse_push_data(bodies[b]);
        } catch (const ParseError&) {
            check(false);
        }
        check(bodies[b].size() <= 1400 || again.uplinks.size() == 1);
        check(again.stat.has_value() == (b == 0 && !stat.empty()));
        if (again.stat) {
            check(stat_json(*again.stat) == stat);
        }
        for (const auto& uplink : again.uplinks) {
            check(next < rxpks.size() && rxpk_json(uplink, true) == rxpks[next]);
            ++next;
        }
    }
    check(next == rxpks.size());
}

void check_tx_ack(std::string_view json)
{
    try {
        const TxAck ack = parse_tx_ack(json);
        check(!ack.error.empty());
    } catch (const ParseError& e) {
        check(e.what()[0] != '\0');
    }
}

void check_decoders(std::string_view json)
{
    check_pull_resp(json);
    check_push_data(json);
    check_tx_ack(json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_header(text);
    check_decoders(text);
    if (const auto header = parse_header(text)) {
        const size_t skip = std::min(text.size(), header_size(header->type));
        check_decoders(text.substr(skip));
    }

    // TX_ACK bodies for an outcome and power taken from the input parse back to their code.
    if (size >= 2) {
        const auto outcome = static_cast<v1::TxOutcome>(data[0] % 16);
        const std::optional<float> power =
            data[1] % 2 ? std::optional<float>(static_cast<int8_t>(data[1]) / 2.0f) : std::nullopt;
        const std::string body = tx_ack_json(outcome, power);
        const TxAck ack = parse_tx_ack(body);
        check(ack.error == tx_ack_error(outcome));
        check((ack.warn == "TX_POWER") == (outcome == v1::OK && power.has_value()));
    }
    return 0;
}
