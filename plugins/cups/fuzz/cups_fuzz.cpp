// libFuzzer target for the CUPS codec: every input is fed to the update-info answer decoder,
// the credential blob parser and the token normaliser (and every blob an answer carries to
// the blob parser). Besides the sanitizers it checks invariants: failures carry a reason and
// return nothing, a decoded answer re-encodes to the bytes it was read from, a parsed blob
// reassembles to itself, normalised tokens are stable.
#include "cups_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace forwarder::cups;

namespace {

void check(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

// A failure reason: present and on one line.
void check_reason(const std::string& error)
{
    check(!error.empty() && error.find_first_of("\r\n") == std::string::npos);
}

std::string le(uint32_t value, int size)
{
    std::string out;
    for (int i = 0; i < size; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
    return out;
}

// The reference encoding of an answer (pysys/tcutils.py).
std::string encode(const UpdateInfoResponse& r)
{
    const std::string cups_uri = r.cups_uri.value_or(""), tc_uri = r.tc_uri.value_or("");
    const std::string cups = r.cups_credentials.value_or(""), tc = r.tc_credentials.value_or("");
    std::string body = le(uint32_t(cups_uri.size()), 1) + cups_uri;
    body += le(uint32_t(tc_uri.size()), 1) + tc_uri;
    body += le(uint32_t(cups.size()), 2) + cups + le(uint32_t(tc.size()), 2) + tc;
    if (r.signature_key_crc) {
        body += le(uint32_t(r.signature.size() + 4), 4) + le(*r.signature_key_crc, 4) + r.signature;
    } else {
        check(r.signature.empty());
        body += le(0, 4);
    }
    return body + le(uint32_t(r.update.size()), 4) + r.update;
}

bool same(const UpdateInfoResponse& a, const UpdateInfoResponse& b)
{
    return a.cups_uri == b.cups_uri && a.tc_uri == b.tc_uri &&
           a.cups_credentials == b.cups_credentials && a.tc_credentials == b.tc_credentials &&
           a.signature_key_crc == b.signature_key_crc && a.signature == b.signature &&
           a.update == b.update;
}

void check_token(std::string_view text)
{
    std::string out, error;
    if (!normalise_token(text, out, error)) {
        check_reason(error);
        check(out.empty());
        return;
    }
    check(error.empty() && out.size() >= 5); // "N: \r\n"
    check(out.compare(out.size() - 2, 2, "\r\n") == 0);
    for (size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        check(c != '\n' || (i > 0 && out[i - 1] == '\r'));
        check(c != '\r' || (i + 1 < out.size() && out[i + 1] == '\n'));
        check(c >= 0x20 || c == '\t' || c == '\r' || c == '\n');
    }
    check(out.find("\r\n\r\n") == std::string::npos); // no header-block terminator inside
    std::string again;
    check(normalise_token(out, again, error) && again == out);
}

void check_blob(std::string_view blob)
{
    CredentialParts parts;
    std::string error;
    if (!parse_credential_blob(blob, parts, error)) {
        check_reason(error);
        check(parts.trust.empty() && parts.cert.empty() && parts.key.empty() && !parts.token);
        return;
    }
    check(error.empty());
    check(!parts.trust.empty() && parts.trust[0] == 0x30);
    check(parts.cert.empty() || parts.cert[0] == 0x30);
    check(!parts.token || (!parts.key.empty() && parts.cert.empty()));
    const std::string zeros(4, '\0');
    const std::string rebuilt = parts.trust + (parts.cert.empty() ? zeros : parts.cert) +
                                (parts.key.empty() ? zeros : parts.key);
    if (!parts.token) {
        check(rebuilt == blob);
        check(credentials_crc(parts.trust, parts.cert, parts.key) == crc32(blob));
    } else {
        std::string normalised;
        check(normalise_token(parts.key, normalised, error) && normalised == parts.key);
        CredentialParts again;
        check(parse_credential_blob(rebuilt, again, error));
        check(again.trust == parts.trust && again.key == parts.key && again.token);
    }
}

void check_answer(std::string_view body)
{
    UpdateInfoResponse out;
    std::string error;
    if (!decode_update_info_response(body, out, error)) {
        check_reason(error);
        check(out.empty() && !out.signature_key_crc && out.signature.empty());
        return;
    }
    check(error.empty());
    check(!out.cups_uri || valid_cups_uri(*out.cups_uri));
    check(!out.tc_uri || valid_tc_uri(*out.tc_uri));
    check(!out.cups_credentials || !out.cups_credentials->empty());
    check(!out.tc_credentials || !out.tc_credentials->empty());
    check(!out.signature_key_crc || (out.signature.size() >= 4 && out.signature.size() <= 128));
    // The decoded content is exactly the prefix it was read from; trailing bytes are ignored.
    const std::string encoded = encode(out);
    check(encoded.size() <= body.size() && body.substr(0, encoded.size()) == encoded);
    UpdateInfoResponse again;
    check(decode_update_info_response(encoded, again, error) && same(again, out));
    check(!decode_update_info_response(body, again, error, body.size() - 1) && !error.empty());
    if (out.cups_credentials) {
        check_blob(*out.cups_credentials);
    }
    if (out.tc_credentials) {
        check_blob(*out.tc_credentials);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_answer(input);
    check_blob(input);
    check_token(input);
    return 0;
}
