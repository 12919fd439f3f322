// CUPS codec (shared/spec/cups.md): request JSON, binary update-info answer, credential
// blobs, CRC32 and update signatures. Pure functions, no I/O, no exceptions escape.
#include "cups_codec.hpp"
#include "text.hpp"

#include "json_text.hpp"
#include "lns_codec.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <memory>
#include <vector>

namespace forwarder::cups {

namespace {

using support::hex_value;
using support::iequals;

constexpr bool is_hex(char c)
{
    return hex_value(c) >= 0;
}

// --- CRC-32 (§5) -----------------------------------------------------------------------------

constexpr std::array<uint32_t, 256> make_crc_table()
{
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) {
            c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

// --- small text helpers ----------------------------------------------------------------------

std::string hex_byte(unsigned char c)
{
    static const char digits[] = "0123456789abcdef";
    return std::string{digits[c >> 4], digits[c & 15]};
}

// `text` for a one-line message: bytes outside printable ASCII as \xNN.
std::string printable(std::string_view text)
{
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F && u != '\\') {
            out.push_back(c);
        } else {
            out += "\\x" + hex_byte(u);
        }
    }
    return out;
}

// Replaces every invalid UTF-8 sequence by U+FFFD, so the request is always valid JSON text.
std::string valid_utf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t length = 0;
        uint32_t min = 0;
        if (c < 0x80) {
            out.push_back(text[i++]);
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4, min = 0x10000;
        }
        bool ok = length != 0 && i + length <= text.size();
        uint32_t code = length == 2 ? (c & 0x1Fu) : length == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t k = 1; ok && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            ok = (next & 0xC0) == 0x80;
            code = (code << 6) | (next & 0x3Fu);
        }
        ok = ok && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
        if (ok) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::string json_string(std::string_view text)
{
    return "\"" + support::json_escape(valid_utf8(text)) + "\"";
}

std::string json_optional_string(const std::optional<std::string>& text)
{
    return text ? json_string(*text) : std::string("null");
}

// --- URIs (§1, §3 rule 3) --------------------------------------------------------------------

// Checks "scheme://host:port" with one of the two schemes; `reason` says what is wrong.
bool check_uri(std::string_view uri, std::string_view plain, std::string_view tls,
               std::string& reason)
{
    if (uri.empty()) {
        reason = "empty";
        return false;
    }
    if (uri.size() > 127) {
        reason = "longer than 127 characters";
        return false;
    }
    const size_t separator = uri.find("://");
    if (separator == std::string_view::npos) {
        reason = "no scheme";
        return false;
    }
    const std::string_view scheme = uri.substr(0, separator);
    if (!iequals(scheme, plain) && !iequals(scheme, tls)) {
        reason = "scheme is not " + std::string(plain) + " or " + std::string(tls);
        return false;
    }
    const std::string_view authority = uri.substr(separator + 3);
    std::string_view host, port;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            reason = "unterminated [IPv6] host";
            return false;
        }
        host = authority.substr(1, close - 1);
        bool has_colon = false;
        for (char c : host) {
            if (!(is_hex(c) || c == ':' || c == '.')) {
                reason = "invalid IPv6 host";
                return false;
            }
            has_colon = has_colon || c == ':';
        }
        if (!has_colon) {
            reason = "invalid IPv6 host";
            return false;
        }
        const std::string_view after = authority.substr(close + 1);
        if (after.empty() || after.front() != ':') {
            reason = after.empty() ? "port missing" : "unexpected text after the host";
            return false;
        }
        port = after.substr(1);
    } else {
        const size_t colon = authority.find(':');
        if (colon == std::string_view::npos) {
            reason =
                authority.find('/') == std::string_view::npos ? "port missing" : "path not allowed";
            return false;
        }
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        char previous = '.';
        for (char c : host) {
            const bool alnum =
                (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!(alnum || c == '-' || c == '.' || c == '_')) {
                reason = "invalid character in host";
                return false;
            }
            if (c == '.' && previous == '.') {
                reason = "empty label in host";
                return false;
            }
            previous = c;
        }
        if (!host.empty() && host.back() == '.') {
            reason = "empty label in host";
            return false;
        }
    }
    if (host.empty()) {
        reason = "host missing";
        return false;
    }
    const size_t digits = port.find_first_not_of("0123456789");
    if (digits != std::string_view::npos) {
        reason = (port[digits] == '/' && digits > 0) ? "path not allowed"
                                                     : "invalid port \"" + printable(port) + "\"";
        return false;
    }
    unsigned value = 0;
    const auto parsed = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || port.size() > 5 || parsed.ec != std::errc{} || value == 0 ||
        value > 65535) {
        reason = port.empty() ? "port missing" : "invalid port \"" + printable(port) + "\"";
        return false;
    }
    return true;
}

// --- binary answer reader (§3) ---------------------------------------------------------------

class Reader {
public:
    explicit Reader(std::string_view body) : body_(body) {}
    size_t offset() const { return offset_; }

    bool bytes(size_t count, const char* segment, std::string_view& out, std::string& error)
    {
        if (count > body_.size() - offset_) {
            error = std::string(segment) + ": " + std::to_string(count) + " byte" +
                    (count == 1 ? "" : "s") + " at offset " + std::to_string(offset_) +
                    " run past the end of the " + std::to_string(body_.size()) + "-byte body";
            return false;
        }
        out = body_.substr(offset_, count);
        offset_ += count;
        return true;
    }

    // Little-endian unsigned integer of `size` bytes.
    bool integer(size_t size, const char* segment, uint32_t& out, std::string& error)
    {
        std::string_view raw;
        if (!bytes(size, segment, raw, error)) {
            return false;
        }
        out = 0;
        for (size_t i = size; i-- > 0;) {
            out = (out << 8) | static_cast<unsigned char>(raw[i]);
        }
        return true;
    }

private:
    std::string_view body_;
    size_t offset_ = 0;
};

bool read_uri(Reader& reader, const char* length_name, const char* name, bool tc,
              std::optional<std::string>& out, std::string& error)
{
    uint32_t length = 0;
    std::string_view uri;
    if (!reader.integer(1, length_name, length, error)) {
        return false;
    }
    const size_t offset = reader.offset();
    if (!reader.bytes(length, name, uri, error)) {
        return false;
    }
    if (length == 0) {
        return true;
    }
    std::string reason;
    if (!(tc ? check_uri(uri, "ws", "wss", reason) : check_uri(uri, "http", "https", reason))) {
        error = std::string(name) + " at offset " + std::to_string(offset) + ": not a " +
                (tc ? "ws(s)" : "http(s)") + "://host:port URI (" + reason + ")";
        return false;
    }
    out = std::string(uri);
    return true;
}

bool read_blob(Reader& reader, const char* length_name, const char* name,
               std::optional<std::string>& out, std::string& error)
{
    uint32_t length = 0;
    std::string_view blob;
    if (!reader.integer(2, length_name, length, error) ||
        !reader.bytes(length, name, blob, error)) {
        return false;
    }
    if (length != 0) {
        out = std::string(blob);
    }
    return true;
}

// --- credential blobs (§4) -------------------------------------------------------------------

// Size of the DER SEQUENCE starting at `blob[offset]` (header included); false with a reason if
// it is not a SEQUENCE or does not lie inside the blob.
bool der_sequence(std::string_view blob, size_t offset, const char* part, size_t& size,
                  std::string& error)
{
    const std::string where = std::string(part) + " at offset " + std::to_string(offset);
    const size_t available = blob.size() - offset;
    if (available < 2) {
        error = where + ": DER header truncated";
        return false;
    }
    const auto tag = static_cast<unsigned char>(blob[offset]);
    if (tag != 0x30) {
        error = where + ": not a DER SEQUENCE (first byte 0x" + hex_byte(tag) + ")";
        return false;
    }
    const auto first = static_cast<unsigned char>(blob[offset + 1]);
    size_t header = 2;
    size_t length = 0;
    if (first < 0x80) {
        length = first;
    } else if (first >= 0x81 && first <= 0x83) {
        const size_t count = first - 0x80u;
        if (available < 2 + count) {
            error = where + ": DER length truncated";
            return false;
        }
        for (size_t i = 0; i < count; ++i) {
            length = (length << 8) | static_cast<unsigned char>(blob[offset + 2 + i]);
        }
        header += count;
    } else {
        error = where + ": unsupported DER length form 0x" + hex_byte(first);
        return false;
    }
    if (length > available - header) {
        error = where + ": DER length " + std::to_string(length) + " runs past the end of the " +
                std::to_string(blob.size()) + "-byte blob";
        return false;
    }
    size = header + length;
    return true;
}

// The "absent" marker: exactly 4 zero bytes.
bool absent_marker(std::string_view blob, size_t offset, const char* part, std::string& error)
{
    if (blob.size() - offset < 4 || blob.substr(offset, 4) != std::string_view("\0\0\0\0", 4)) {
        error = std::string(part) + " at offset " + std::to_string(offset) +
                ": starts with 00 but is not the 4-byte absent marker 00 00 00 00";
        return false;
    }
    return true;
}

// --- signatures (§7) -------------------------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// An EC P-256 public key from raw X||Y; nullptr if the point is not on the curve.
std::unique_ptr<EVP_PKEY, PkeyFree> p256_public_key(std::string_view raw)
{
    unsigned char point[65];
    point[0] = 0x04; // uncompressed
    std::copy(raw.begin(), raw.end(), point + 1);
    char group[] = "prime256v1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end()};
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
            1) {
        return nullptr;
    }
    return std::unique_ptr<EVP_PKEY, PkeyFree>(key);
}

} // namespace

uint32_t crc32(std::string_view data, uint32_t previous)
{
    uint32_t crc = ~previous;
    for (char c : data) {
        crc = kCrcTable[(crc ^ static_cast<unsigned char>(c)) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t credentials_crc(std::string_view trust, std::string_view cert, std::string_view key)
{
    static constexpr std::string_view kAbsent("\0\0\0\0", 4);
    uint32_t crc = 0;
    for (std::string_view part : {trust, cert, key}) {
        crc = crc32(part.empty() ? kAbsent : part, crc);
    }
    return crc;
}

std::string encode_update_info_request(const UpdateInfoRequest& request)
{
    std::string json = "{\"router\":" + json_string(lns::format_id6(request.router));
    json += ",\"cupsUri\":" + json_optional_string(request.cups_uri);
    json += ",\"tcUri\":" + json_optional_string(request.tc_uri);
    json += ",\"cupsCredCrc\":" + std::to_string(request.cups_cred_crc);
    json += ",\"tcCredCrc\":" + std::to_string(request.tc_cred_crc);
    json += ",\"station\":" + json_string(request.station);
    json += ",\"model\":" + json_string(request.model);
    json += ",\"package\":" + json_optional_string(request.package);
    json += ",\"keys\":[";
    for (size_t i = 0; i < request.keys.size(); ++i) {
        json += (i ? "," : "") + std::to_string(request.keys[i]);
    }
    json += "]}";
    return json;
}

bool decode_update_info_response(std::string_view body, UpdateInfoResponse& out, std::string& error,
                                 size_t max_size)
{
    out = UpdateInfoResponse{};
    error.clear();
    try {
        if (body.size() > max_size) {
            error = "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                    std::to_string(max_size) + " bytes";
            return false;
        }
        UpdateInfoResponse result;
        Reader reader(body);
        if (!read_uri(reader, "cupsUriLen", "cupsUri", false, result.cups_uri, error) ||
            !read_uri(reader, "tcUriLen", "tcUri", true, result.tc_uri, error) ||
            !read_blob(reader, "cupsCredLen", "cupsCred", result.cups_credentials, error) ||
            !read_blob(reader, "tcCredLen", "tcCred", result.tc_credentials, error)) {
            return false;
        }
        uint32_t sig_length = 0;
        const size_t sig_offset = reader.offset();
        if (!reader.integer(4, "sigLen", sig_length, error)) {
            return false;
        }
        if ((sig_length > 0 && sig_length < 8) || sig_length > 132) {
            error = "sigLen at offset " + std::to_string(sig_offset) + ": " +
                    std::to_string(sig_length) +
                    " is out of range (0, or 8..132 including the 4-byte key CRC)";
            return false;
        }
        if (sig_length > 0) {
            uint32_t key_crc = 0;
            std::string_view signature;
            if (!reader.integer(4, "sig (key CRC)", key_crc, error) ||
                !reader.bytes(sig_length - 4, "sig", signature, error)) {
                return false;
            }
            result.signature_key_crc = key_crc;
            result.signature = std::string(signature);
        }
        uint32_t update_length = 0;
        std::string_view update;
        if (!reader.integer(4, "updLen", update_length, error) ||
            !reader.bytes(update_length, "upd", update, error)) {
            return false;
        }
        result.update = std::string(update);
        // Bytes after the update (TTS's key CRC written with sigLen 0) are ignored (rule 2).
        out = std::move(result);
        return true;
    } catch (const std::exception& e) {
        error = std::string("update-info answer: ") + e.what();
    }
    return false;
}

bool parse_credential_blob(std::string_view blob, CredentialParts& out, std::string& error)
{
    out = CredentialParts{};
    error.clear();
    try {
        if (blob.empty()) {
            error = "empty credential blob";
            return false;
        }
        CredentialParts parts;
        size_t offset = 0;
        size_t size = 0;
        if (!der_sequence(blob, offset, "trust", size, error)) {
            return false;
        }
        parts.trust = std::string(blob.substr(offset, size));
        offset += size;

        if (offset == blob.size()) {
            error = "blob ends after the trust (client certificate or 00 00 00 00 missing)";
            return false;
        }
        if (blob[offset] == '\0') {
            if (!absent_marker(blob, offset, "client certificate", error)) {
                return false;
            }
            offset += 4;
        } else {
            if (!der_sequence(blob, offset, "client certificate", size, error)) {
                return false;
            }
            parts.cert = std::string(blob.substr(offset, size));
            offset += size;
        }

        if (offset == blob.size()) {
            error = "blob ends after the client certificate (key, token or 00 00 00 00 missing)";
            return false;
        }
        const size_t key_offset = offset;
        const auto first = static_cast<unsigned char>(blob[offset]);
        if (first == 0x30) {
            if (!der_sequence(blob, offset, "private key", size, error)) {
                return false;
            }
            parts.key = std::string(blob.substr(offset, size));
            offset += size;
        } else if (first == 0x00) {
            if (!absent_marker(blob, offset, "key", error)) {
                return false;
            }
            offset += 4;
        } else {
            std::string reason;
            if (!normalise_token(blob.substr(offset), parts.key, reason)) {
                error = "token at offset " + std::to_string(offset) + ": " + reason;
                return false;
            }
            parts.token = true;
            offset = blob.size();
        }
        if (offset != blob.size()) {
            error = std::to_string(blob.size() - offset) + " trailing bytes at offset " +
                    std::to_string(offset) + " after the " +
                    (parts.key.empty() ? "absent key marker" : "private key");
            return false;
        }
        // Combinations the station cannot use (§6): a DER key needs the certificate it belongs
        // to, and a token is only sent when there is no client certificate.
        if (!parts.token && !parts.key.empty() && parts.cert.empty()) {
            error = "private key at offset " + std::to_string(key_offset) +
                    " without a client certificate";
            return false;
        }
        if (parts.token && !parts.cert.empty()) {
            error = "token at offset " + std::to_string(key_offset) +
                    " together with a client certificate";
            return false;
        }
        out = std::move(parts);
        return true;
    } catch (const std::exception& e) {
        error = std::string("credential blob: ") + e.what();
    }
    return false;
}

bool normalise_token(std::string_view text, std::string& out, std::string& error)
{
    out.clear();
    error.clear();
    try {
        // Split into lines (LF or CRLF), then drop trailing empty lines.
        std::vector<std::string_view> lines;
        size_t start = 0;
        while (start <= text.size()) {
            const size_t end = text.find('\n', start);
            std::string_view line = text.substr(
                start, end == std::string_view::npos ? std::string_view::npos : end - start);
            if (end != std::string_view::npos && !line.empty() && line.back() == '\r') {
                line.remove_suffix(1); // CRLF; a CR elsewhere is a control character
            }
            lines.push_back(line);
            if (end == std::string_view::npos) {
                break;
            }
            start = end + 1;
        }
        while (!lines.empty() && lines.back().empty()) {
            lines.pop_back();
        }
        if (lines.empty()) {
            error = "empty token";
            return false;
        }
        std::string result;
        for (size_t n = 0; n < lines.size(); ++n) {
            const std::string_view line = lines[n];
            const std::string where = "line " + std::to_string(n + 1);
            size_t name = 0;
            while (name < line.size()) {
                const char c = line[name];
                const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_' || c == '-';
                if (!ok) {
                    break;
                }
                ++name;
            }
            if (name == 0) {
                error = where + ": no header name (expecting Name: value lines)";
                return false;
            }
            if (line.substr(name, 2) != ": ") {
                error = where + ": header name not followed by \": \"";
                return false;
            }
            for (size_t i = name + 2; i < line.size(); ++i) {
                const auto c = static_cast<unsigned char>(line[i]);
                if ((c < 0x20 && c != '\t') || c == 0x7F) {
                    error = where + ": control character 0x" + hex_byte(c) + " in the value";
                    return false;
                }
            }
            result.append(line);
            result += "\r\n";
        }
        out = std::move(result);
        return true;
    } catch (const std::exception& e) {
        error = std::string("token: ") + e.what();
    }
    return false;
}

bool valid_cups_uri(std::string_view uri)
{
    std::string reason;
    return check_uri(uri, "http", "https", reason);
}

bool valid_tc_uri(std::string_view uri)
{
    std::string reason;
    return check_uri(uri, "ws", "wss", reason);
}

bool verify_update_signature(std::string_view update, std::string_view der_signature,
                             std::string_view raw_public_key, std::string& error)
{
    error.clear();
    if (raw_public_key.size() != 64) {
        error = "signature key has " + std::to_string(raw_public_key.size()) +
                " bytes (expected a raw 64-byte P-256 X||Y key)";
        return false;
    }
    if (der_signature.empty()) {
        error = "empty signature";
        return false;
    }
    auto key = p256_public_key(raw_public_key);
    if (!key) {
        ERR_clear_error();
        error = "signature key is not a valid P-256 point";
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha512(), nullptr, key.get()) != 1) {
        ERR_clear_error();
        error = "cannot set up ECDSA/SHA-512 verification";
        return false;
    }
    const int result = EVP_DigestVerify(
        md.get(), reinterpret_cast<const unsigned char*>(der_signature.data()),
        der_signature.size(), reinterpret_cast<const unsigned char*>(update.data()), update.size());
    ERR_clear_error();
    if (result != 1) {
        error = result == 0 ? "signature does not match the update"
                            : "signature is not a valid DER ECDSA signature";
        return false;
    }
    return true;
}

} // namespace forwarder::cups
