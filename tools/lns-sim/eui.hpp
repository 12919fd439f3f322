// EUI-64 parsing and formatting for the simulated LNS (lns.md §2.2, §2.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lns_sim {

// Parses a gateway id as the reference station does (rt_readEui): ID6 ("b827:ebff:fe61:51cf",
// "::1", "4::"), dashed or colon byte pairs, or plain hex digits; case-insensitive; an optional
// lower-case "word-" prefix is dropped. Returns nullopt on a syntax error.
std::optional<uint64_t> parse_eui(std::string_view text);

// Exactly 16 hex digits (either case), nothing else.
std::optional<uint64_t> parse_hex16(std::string_view text);

// 16 upper-case hex digits, most significant first.
std::string eui_hex_upper(uint64_t eui);

// "XX-XX-XX-XX-XX-XX-XX-XX", upper-case.
std::string eui_dashed(uint64_t eui);

// ID6 as the reference station formats it (lns.md §2.3).
std::string eui_id6(uint64_t eui);

} // namespace lns_sim
