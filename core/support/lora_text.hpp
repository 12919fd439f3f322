#pragma once
// LoRa parameters as the Semtech UDP protocol and its relatives spell them.
#include "forwarder.pb.h"

#include <cstdint>
#include <string_view>

namespace forwarder::support {

// "SF7BW125" -> 7, 125000. SF 5..12, BW 125/250/500. False if the text is anything else.
bool parse_lora_datr(std::string_view text, uint32_t& spreading_factor, uint32_t& bandwidth_hz);
// "4/5" -> CR_4_5, ..., "OFF" -> CR_OFF. False if the text is anything else.
bool parse_coding_rate(std::string_view text, forwarder::v1::CodingRate& rate);
// CR_4_5 -> "4/5", ..., CR_OFF -> "OFF"; nullptr when unspecified.
const char* coding_rate_name(forwarder::v1::CodingRate rate);

} // namespace forwarder::support
