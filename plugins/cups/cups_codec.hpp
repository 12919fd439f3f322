#pragma once
// CUPS (Configuration and Update Server) as pure functions: request JSON, the binary
// update-info answer, credential blobs, CRC32 rules and update signatures (shared/spec/cups.md).
// No I/O; decoders return false with a one-line reason and never throw.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forwarder::cups {

// Standard CRC-32 (IEEE 802.3; zlib's crc32(data, previous) starting from 0).
uint32_t crc32(std::string_view data, uint32_t previous = 0);

// CRC of a credential category as the gateway reports it (§5): chained over trust, cert and
// key file contents in that order; an empty (or missing) part contributes 4 zero bytes.
uint32_t credentials_crc(std::string_view trust, std::string_view cert, std::string_view key);

struct UpdateInfoRequest {
    uint64_t router = 0;                 // sent as ID6
    std::optional<std::string> cups_uri; // null when absent
    std::optional<std::string> tc_uri;
    uint32_t cups_cred_crc = 0;
    uint32_t tc_cred_crc = 0;
    std::string station;
    std::string model;
    std::optional<std::string> package;
    std::vector<uint32_t> keys; // CRC32 of each sig-N.key
};
std::string encode_update_info_request(const UpdateInfoRequest& request);

// The binary answer (§3), parsed robustly: sigLen includes the key CRC; with sigLen 0 the
// next 4 bytes are updLen; trailing bytes (TTS's extra 4) are ignored.
struct UpdateInfoResponse {
    std::optional<std::string> cups_uri; // present = changed
    std::optional<std::string> tc_uri;
    std::optional<std::string> cups_credentials; // raw blob
    std::optional<std::string> tc_credentials;
    std::optional<uint32_t> signature_key_crc;
    std::string signature; // DER ECDSA signature (without the key CRC)
    std::string update;    // empty = no update
    bool empty() const
    {
        return !cups_uri && !tc_uri && !cups_credentials && !tc_credentials && update.empty();
    }
};
// `max_size` bounds the whole body (oversized answers are rejected).
bool decode_update_info_response(std::string_view body, UpdateInfoResponse& out, std::string& error,
                                 size_t max_size = 16u << 20);

// One credential blob (§4): trust DER, then client cert DER or 4 zero bytes, then a DER
// private key, 4 zero bytes, or a token (all remaining bytes as text, validated per §6).
struct CredentialParts {
    std::string trust; // DER
    std::string cert;  // DER, empty = none
    std::string key;   // DER private key or token text (normalised to CRLF lines), empty = none
    bool token = false;
};
bool parse_credential_blob(std::string_view blob, CredentialParts& out, std::string& error);

// Validates and normalises token header lines (§6): "Name: value" lines, LF or CRLF, trailing
// empty lines removed; output lines end in CRLF. False with a reason for anything else.
bool normalise_token(std::string_view text, std::string& out, std::string& error);

// A URI segment of an answer: http(s)://host:port (cups) or ws(s)://host:port (tc), no path.
bool valid_cups_uri(std::string_view uri);
bool valid_tc_uri(std::string_view uri);

// ECDSA P-256 over SHA-512 of `update`, DER signature, raw 64-byte X||Y public key (§7).
bool verify_update_signature(std::string_view update, std::string_view der_signature,
                             std::string_view raw_public_key, std::string& error);

} // namespace forwarder::cups
