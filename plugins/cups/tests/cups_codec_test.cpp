// Tests of the CUPS codec against spec cups.md and the TTS CUPS vectors (a copy of
// shared/vectors lives in plugins/lns/tests/vectors). Certificates, keys and signatures are
// generated at test time with OpenSSL; nothing is read from key files.
#include "cups_codec.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

using namespace forwarder::cups;
using JsonObject = Poco::JSON::Object;

namespace {

const std::filesystem::path kVectors = FORWARDER_VECTORS_DIR;

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "missing vector " << path;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

JsonObject::Ptr parse_json(const std::string& text)
{
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<JsonObject::Ptr>();
}

JsonObject::Ptr read_vector(const std::string& name)
{
    return parse_json(read_file(kVectors / "tts" / name));
}

std::string unhex(std::string_view hex)
{
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string bytes(std::initializer_list<int> values)
{
    std::string out;
    for (int v : values) {
        out.push_back(static_cast<char>(v));
    }
    return out;
}

std::string le(uint32_t value, int size)
{
    std::string out;
    for (int i = 0; i < size; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
    return out;
}

const std::string kZeros4(4, '\0');
// A minimal syntactically valid DER SEQUENCE { INTEGER 5 } (framing only, not a certificate).
const std::string kDerSeq = bytes({0x30, 0x03, 0x02, 0x01, 0x05});
const std::string kToken = "Authorization: token\r\n";

// An update-info answer in the reference encoding (pysys/tcutils.py); `tts` adds the key CRC
// that TTS writes even with sigLen 0 and counts sigLen without it.
struct Answer {
    std::string cups_uri, tc_uri, cups_cred, tc_cred;
    uint32_t key_crc = 0;
    std::string signature, update;

    std::string reference() const
    {
        std::string body = le(uint32_t(cups_uri.size()), 1) + cups_uri;
        body += le(uint32_t(tc_uri.size()), 1) + tc_uri;
        body += le(uint32_t(cups_cred.size()), 2) + cups_cred;
        body += le(uint32_t(tc_cred.size()), 2) + tc_cred;
        if (signature.empty()) {
            body += le(0, 4);
        } else {
            body += le(uint32_t(signature.size() + 4), 4) + le(key_crc, 4) + signature;
        }
        return body + le(uint32_t(update.size()), 4) + update;
    }
    std::string tts() const
    {
        std::string body = le(uint32_t(cups_uri.size()), 1) + cups_uri;
        body += le(uint32_t(tc_uri.size()), 1) + tc_uri;
        body += le(uint32_t(cups_cred.size()), 2) + cups_cred;
        body += le(uint32_t(tc_cred.size()), 2) + tc_cred;
        body += le(uint32_t(signature.size()), 4) + le(key_crc, 4) + signature;
        return body + le(uint32_t(update.size()), 4) + update;
    }
};

bool starts_with(const std::string& text, const std::string& prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// --- OpenSSL helpers -------------------------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Pkey p256_key()
{
    Pkey key(EVP_EC_gen("P-256"));
    EXPECT_TRUE(key);
    return key;
}

template <typename T, typename F> std::string der(T* object, F i2d)
{
    unsigned char* buffer = nullptr;
    const int length = i2d(object, &buffer);
    EXPECT_GT(length, 0);
    std::string out(reinterpret_cast<char*>(buffer), length > 0 ? size_t(length) : 0);
    OPENSSL_free(buffer);
    return out;
}

// The raw 64-byte X||Y as in a sig-N.key file: the tail of the SubjectPublicKeyInfo (§7).
std::string raw_public_key(EVP_PKEY* key)
{
    const std::string spki = der(key, i2d_PUBKEY);
    return spki.size() >= 64 ? spki.substr(spki.size() - 64) : std::string();
}

std::string sign_sha512(EVP_PKEY* key, const std::string& data)
{
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    EXPECT_EQ(EVP_DigestSignInit(md.get(), nullptr, EVP_sha512(), nullptr, key), 1);
    size_t length = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    EXPECT_EQ(EVP_DigestSign(md.get(), nullptr, &length, in, data.size()), 1);
    std::string signature(length, '\0');
    EXPECT_EQ(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                             in, data.size()),
              1);
    signature.resize(length);
    return signature;
}

// A self-signed certificate (DER) for `key`.
std::string self_signed_cert(EVP_PKEY* key, const char* cn)
{
    std::unique_ptr<X509, X509Free> cert(X509_new());
    EXPECT_EQ(X509_set_version(cert.get(), 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    EXPECT_EQ(X509_set_pubkey(cert.get(), key), 1);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
    EXPECT_EQ(X509_set_issuer_name(cert.get(), name), 1);
    EXPECT_GT(X509_sign(cert.get(), key, EVP_sha256()), 0);
    return der(cert.get(), i2d_X509);
}

std::string pkcs8_key(EVP_PKEY* key)
{
    PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key);
    EXPECT_NE(info, nullptr);
    std::string out = der(info, i2d_PKCS8_PRIV_KEY_INFO);
    PKCS8_PRIV_KEY_INFO_free(info);
    return out;
}

bool parses_as_cert(const std::string& data)
{
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    X509* cert = d2i_X509(nullptr, &p, long(data.size()));
    X509_free(cert);
    return cert != nullptr;
}

bool parses_as_key(const std::string& data)
{
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, long(data.size()));
    EVP_PKEY_free(key);
    return key != nullptr;
}

} // namespace

// --- CRC32 (§5) ------------------------------------------------------------------------------

TEST(Crc32, StandardCheckValues)
{
    EXPECT_EQ(crc32(""), 0u);
    EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
    EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
    EXPECT_EQ(crc32(std::string(12, '\0')), 2077607535u);
}

TEST(Crc32, ChainingEqualsConcatenation)
{
    const std::string a = "first part", b = std::string("\0\xff\x80", 3), c = "third";
    EXPECT_EQ(crc32(c, crc32(b, crc32(a))), crc32(a + b + c));
    EXPECT_EQ(crc32("", crc32(a)), crc32(a));
}

TEST(Crc32, CredentialsNoFiles)
{
    EXPECT_EQ(credentials_crc("", "", ""), 2077607535u);
}

TEST(Crc32, TtsTokenVector)
{
    const auto vector = read_vector("tts_cups_token_credentials.json");
    const std::string blob = unhex(vector->getValue<std::string>("expected_hex"));
    const uint32_t expected = vector->getValue<uint32_t>("crc32_ieee");
    EXPECT_EQ(expected, 2538017681u);
    EXPECT_EQ(crc32(blob), expected);
    // Chaining trust, an absent certificate (4 zero bytes) and the token gives the same CRC.
    ASSERT_EQ(blob.size(), 42u);
    EXPECT_EQ(credentials_crc(blob.substr(0, 16), "", blob.substr(20)), expected);
    EXPECT_EQ(blob.substr(20), kToken);
}

// --- Request (§2) ----------------------------------------------------------------------------

TEST(Request, SpecExampleExactly)
{
    UpdateInfoRequest request;
    request.router = 0xb827ebfffe6151cfULL;
    request.cups_uri = "https://cups.example.com:443";
    request.tc_uri = "wss://lns.example.com:8887";
    request.cups_cred_crc = 2077607535;
    request.tc_cred_crc = 2538017681;
    request.station = "2.0.6(linux/std) 2022-01-17 12:00:00";
    request.model = "linux";
    request.package = "1.0.0";
    request.keys = {3476831697};
    EXPECT_EQ(encode_update_info_request(request),
              "{\"router\":\"b827:ebff:fe61:51cf\",\"cupsUri\":\"https://cups.example.com:443\","
              "\"tcUri\":\"wss://lns.example.com:8887\",\"cupsCredCrc\":2077607535,"
              "\"tcCredCrc\":2538017681,\"station\":\"2.0.6(linux/std) 2022-01-17 12:00:00\","
              "\"model\":\"linux\",\"package\":\"1.0.0\",\"keys\":[3476831697]}");
}

TEST(Request, NullsWhenAbsentAndEmptyKeys)
{
    UpdateInfoRequest request;
    request.router = 1;
    request.station = "s";
    request.model = "m";
    const std::string json = encode_update_info_request(request);
    EXPECT_EQ(json, "{\"router\":\"::1\",\"cupsUri\":null,\"tcUri\":null,\"cupsCredCrc\":0,"
                    "\"tcCredCrc\":0,\"station\":\"s\",\"model\":\"m\",\"package\":null,"
                    "\"keys\":[]}");
    const auto object = parse_json(json);
    EXPECT_TRUE(object->isNull("cupsUri"));
    EXPECT_TRUE(object->isNull("tcUri"));
    EXPECT_TRUE(object->isNull("package"));
    EXPECT_EQ(object->getArray("keys")->size(), 0u);
}

TEST(Request, MatchesTtsVectorFieldByField)
{
    const auto vector = read_vector("tts_cups_update_info_request.json");
    UpdateInfoRequest request;
    request.router = 0x58a0cbfffe800019ULL;
    request.cups_uri = "https://thethingsnetwork.org:443";
    request.tc_uri = ""; // the TTS test sends "" where the reference would send null
    request.cups_cred_crc = 1398343300;
    request.tc_cred_crc = 0;
    request.station = "2.0.0(minihub/debug) 2018-12-06 09:30:35";
    request.model = "minihub";
    request.package = "2.0.0";
    request.keys = {392840017};
    const auto object = parse_json(encode_update_info_request(request));
    std::vector<std::string> names, expected_names;
    object->getNames(names);
    vector->getNames(expected_names);
    EXPECT_EQ(names, expected_names);
    for (const char* name : {"router", "cupsUri", "tcUri", "station", "model", "package"}) {
        EXPECT_EQ(object->getValue<std::string>(name), vector->getValue<std::string>(name)) << name;
    }
    for (const char* name : {"cupsCredCrc", "tcCredCrc"}) {
        EXPECT_EQ(object->getValue<uint32_t>(name), vector->getValue<uint32_t>(name)) << name;
    }
    const auto keys = object->getArray("keys");
    const auto expected_keys = vector->getArray("keys");
    ASSERT_EQ(keys->size(), expected_keys->size());
    EXPECT_EQ(keys->getElement<uint32_t>(0), expected_keys->getElement<uint32_t>(0));
}

TEST(Request, LargeValuesAndManyKeys)
{
    UpdateInfoRequest request;
    request.router = ~0ULL;
    request.cups_cred_crc = 0xFFFFFFFFu;
    request.tc_cred_crc = 0x80000000u;
    request.keys = {0, 0xFFFFFFFFu, 42};
    const std::string json = encode_update_info_request(request);
    EXPECT_TRUE(contains(json, "\"cupsCredCrc\":4294967295,\"tcCredCrc\":2147483648"));
    EXPECT_TRUE(contains(json, "\"keys\":[0,4294967295,42]}"));
    EXPECT_TRUE(contains(json, "\"router\":\"ffff:ffff:ffff:ffff\""));
}

TEST(Request, EscapesStrings)
{
    UpdateInfoRequest request;
    request.station = "quote\" backslash\\ newline\n tab\t nul" + std::string(1, '\0');
    request.model = "caf\xC3\xA9";         // valid UTF-8 is kept
    request.package = "bad \xFF\xC3 utf8"; // invalid bytes become U+FFFD
    const std::string json = encode_update_info_request(request);
    EXPECT_TRUE(contains(json, "\"station\":\"quote\\\" backslash\\\\ newline\\n tab\\t "
                               "nul\\u0000\""));
    const auto object = parse_json(json);
    EXPECT_EQ(object->getValue<std::string>("station"), request.station);
    EXPECT_EQ(object->getValue<std::string>("model"), "caf\xC3\xA9");
    EXPECT_EQ(object->getValue<std::string>("package"), "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8");
}

// --- URIs ------------------------------------------------------------------------------------

TEST(Uri, Valid)
{
    for (const char* uri : {"https://cups.example.com:443", "http://10.0.0.1:8885", "HTTPS://h:1",
                            "https://[::1]:443", "http://a_b-c.d:65535"}) {
        EXPECT_TRUE(valid_cups_uri(uri)) << uri;
        EXPECT_FALSE(valid_tc_uri(uri)) << uri;
    }
    for (const char* uri : {"wss://lns.example.com:8887", "ws://localhost:1887", "WSS://h:1",
                            "wss://[2001:db8::1]:8887"}) {
        EXPECT_TRUE(valid_tc_uri(uri)) << uri;
        EXPECT_FALSE(valid_cups_uri(uri)) << uri;
    }
    const std::string longest = "https://" + std::string(115, 'a') + ":443";
    ASSERT_EQ(longest.size(), 127u);
    EXPECT_TRUE(valid_cups_uri(longest));
}

TEST(Uri, Invalid)
{
    const std::string too_long = "https://" + std::string(116, 'a') + ":443";
    for (const std::string& uri : {std::string(""),
                                   std::string("https://h"),
                                   std::string("https://h:"),
                                   std::string("https://h:0"),
                                   std::string("https://h:65536"),
                                   std::string("https://h:99999"),
                                   std::string("https://h:-1"),
                                   std::string("https://h:+443"),
                                   std::string("https://h:443/"),
                                   std::string("https://h:443/path"),
                                   std::string("https://h/path"),
                                   std::string("https://:443"),
                                   std::string("https://h:443 "),
                                   std::string(" https://h:443"),
                                   std::string("https//h:443"),
                                   std::string("ftp://h:21"),
                                   std::string("https://u@h:443"),
                                   std::string("https://h:443?x=1"),
                                   std::string("https://h:44 3"),
                                   std::string("https://[::1:443"),
                                   std::string("https://[::1]"),
                                   std::string("https://[::1]x:443"),
                                   std::string("https://[1.2.3.4]:443"),
                                   std::string("https://a..b:443"),
                                   std::string("https://.a:443"),
                                   std::string("https://a.:443"),
                                   std::string("https://h:443:1"),
                                   std::string("https://h:000000443"),
                                   std::string("https://h\0:443", 14),
                                   too_long}) {
        EXPECT_FALSE(valid_cups_uri(uri)) << uri;
    }
    EXPECT_FALSE(valid_tc_uri("wss://lns.example.com:8887/traffic"));
    EXPECT_FALSE(valid_tc_uri("wss://lns.example.com"));
}

// --- Response (§3) ---------------------------------------------------------------------------

TEST(Response, TtsVectorBothEncodingsGiveTheSameResult)
{
    const auto vector = read_vector("tts_cups_response_lns_token.json");
    const auto inputs = vector->getObject("inputs");
    const std::string tc_cred = unhex(inputs->getValue<std::string>("tcCred_hex"));
    const std::string tts = unhex(vector->getValue<std::string>("tts_hex"));
    const std::string reference = unhex(vector->getValue<std::string>("semtech_reference_hex"));
    EXPECT_EQ(tts.size(), reference.size() + 4);
    EXPECT_EQ(crc32(tc_cred), inputs->getValue<uint32_t>("tcCred_crc32"));

    UpdateInfoResponse a, b;
    std::string error;
    ASSERT_TRUE(decode_update_info_response(tts, a, error)) << error;
    EXPECT_TRUE(error.empty());
    ASSERT_TRUE(decode_update_info_response(reference, b, error)) << error;
    for (const UpdateInfoResponse* r : {&a, &b}) {
        EXPECT_FALSE(r->cups_uri);
        ASSERT_TRUE(r->tc_uri);
        EXPECT_EQ(*r->tc_uri, inputs->getValue<std::string>("tcUri"));
        EXPECT_EQ(*r->tc_uri, "wss://lns.example.com:8887");
        EXPECT_FALSE(r->cups_credentials);
        ASSERT_TRUE(r->tc_credentials);
        EXPECT_EQ(*r->tc_credentials, tc_cred);
        EXPECT_EQ(r->tc_credentials->size(), 42u);
        EXPECT_FALSE(r->signature_key_crc);
        EXPECT_TRUE(r->signature.empty());
        EXPECT_TRUE(r->update.empty());
        EXPECT_FALSE(r->empty());
    }
    // Our reference encoder reproduces both vector encodings.
    Answer answer;
    answer.tc_uri = "wss://lns.example.com:8887";
    answer.tc_cred = tc_cred;
    EXPECT_EQ(answer.reference(), reference);
    EXPECT_EQ(answer.tts(), tts);
}

TEST(Response, NothingToDoBodies)
{
    for (size_t size : {14u, 18u, 30u}) { // reference, TTS, TTS plus more trailing bytes
        UpdateInfoResponse out;
        out.update = "stale";
        std::string error = "stale";
        ASSERT_TRUE(decode_update_info_response(std::string(size, '\0'), out, error)) << error;
        EXPECT_TRUE(out.empty()) << size;
        EXPECT_TRUE(error.empty());
        EXPECT_FALSE(out.signature_key_crc);
        EXPECT_TRUE(out.signature.empty());
    }
    EXPECT_EQ(Answer{}.reference().size(), 14u);
    EXPECT_EQ(Answer{}.tts().size(), 18u);
}

TEST(Response, FullBodyWithSignedUpdate)
{
    const Pkey key = p256_key();
    Answer answer;
    answer.cups_uri = "https://cups.example.com:443";
    answer.tc_uri = "wss://lns.example.com:8887";
    answer.cups_cred = kDerSeq + kZeros4 + "Authorization: Bearer NNSXS.CUPS\r\n";
    answer.tc_cred = kDerSeq + kZeros4 + kToken;
    answer.update = "#!/bin/sh\necho updated\n" + std::string(300, 'x');
    answer.signature = sign_sha512(key.get(), answer.update);
    const std::string raw = raw_public_key(key.get());
    answer.key_crc = crc32(raw);
    const std::string body = answer.reference() + "trailing bytes are ignored";

    UpdateInfoResponse out;
    std::string error;
    ASSERT_TRUE(decode_update_info_response(body, out, error)) << error;
    EXPECT_EQ(out.cups_uri, answer.cups_uri);
    EXPECT_EQ(out.tc_uri, answer.tc_uri);
    EXPECT_EQ(out.cups_credentials, answer.cups_cred);
    EXPECT_EQ(out.tc_credentials, answer.tc_cred);
    EXPECT_EQ(out.signature_key_crc, crc32(raw));
    EXPECT_EQ(out.signature, answer.signature);
    EXPECT_EQ(out.update, answer.update);
    EXPECT_FALSE(out.empty());
    EXPECT_TRUE(verify_update_signature(out.update, out.signature, raw, error)) << error;

    CredentialParts parts;
    ASSERT_TRUE(parse_credential_blob(*out.cups_credentials, parts, error)) << error;
    EXPECT_EQ(parts.key, "Authorization: Bearer NNSXS.CUPS\r\n");
    ASSERT_TRUE(parse_credential_blob(*out.tc_credentials, parts, error)) << error;
    EXPECT_EQ(parts.key, kToken);
}

TEST(Response, UnsignedUpdateAndLittleEndianLengths)
{
    Answer answer;
    answer.tc_cred = kDerSeq + kZeros4 + "X-Long: " + std::string(300, 'v') + "\r\n";
    answer.update = std::string(0x10203, 'u');
    const std::string body = answer.reference();
    // u16le 0x013F = 319 bytes and u32le 0x00010203.
    EXPECT_EQ(body.substr(4, 2), bytes({0x3F, 0x01}));
    UpdateInfoResponse out;
    std::string error;
    ASSERT_TRUE(decode_update_info_response(body, out, error)) << error;
    EXPECT_EQ(out.tc_credentials, answer.tc_cred);
    EXPECT_EQ(out.update.size(), 0x10203u);
    EXPECT_FALSE(out.signature_key_crc);

    // TTS-style body with an update: the zero key CRC is read as updLen 0, the update ignored.
    ASSERT_TRUE(decode_update_info_response(answer.tts(), out, error)) << error;
    EXPECT_TRUE(out.update.empty());
    EXPECT_EQ(out.tc_credentials, answer.tc_cred);
}

TEST(Response, TruncatedInEverySegment)
{
    const Pkey key = p256_key();
    Answer answer;
    answer.cups_uri = "https://cups.example.com:443";
    answer.tc_uri = "wss://lns.example.com:8887";
    answer.cups_cred = kDerSeq + kZeros4 + kToken;
    answer.tc_cred = kDerSeq + kZeros4 + "Authorization: other\r\n";
    answer.update = "update";
    answer.signature = sign_sha512(key.get(), answer.update);
    answer.key_crc = 7;
    const std::string body = answer.reference();

    struct Segment {
        const char* name;
        size_t size;
    };
    const std::vector<Segment> segments = {
        {"cupsUriLen", 1},
        {"cupsUri", answer.cups_uri.size()},
        {"tcUriLen", 1},
        {"tcUri", answer.tc_uri.size()},
        {"cupsCredLen", 2},
        {"cupsCred", answer.cups_cred.size()},
        {"tcCredLen", 2},
        {"tcCred", answer.tc_cred.size()},
        {"sigLen", 4},
        {"sig (key CRC)", 4},
        {"sig", answer.signature.size()},
        {"updLen", 4},
        {"upd", answer.update.size()},
    };
    size_t total = 0;
    for (const auto& s : segments) {
        total += s.size;
    }
    ASSERT_EQ(total, body.size());

    size_t start = 0;
    for (const auto& segment : segments) {
        for (size_t length = start; length < start + segment.size; ++length) {
            UpdateInfoResponse out;
            out.update = "stale";
            std::string error;
            EXPECT_FALSE(decode_update_info_response(body.substr(0, length), out, error));
            EXPECT_TRUE(starts_with(error, std::string(segment.name) + ": "))
                << length << ": " << error;
            EXPECT_TRUE(contains(error, "at offset " + std::to_string(start) + " ")) << error;
            EXPECT_TRUE(contains(error, std::to_string(length) + "-byte body")) << error;
            EXPECT_TRUE(out.empty()) << "nothing is returned on failure";
        }
        start += segment.size;
    }
    UpdateInfoResponse out;
    std::string error;
    EXPECT_TRUE(decode_update_info_response(body, out, error)) << error;
}

TEST(Response, LengthsBeyondTheBody)
{
    UpdateInfoResponse out;
    std::string error;
    // Claimed lengths far larger than the body (no allocation, clear reason).
    std::string body = bytes({0, 0, 0xFF, 0xFF}) + std::string(20, '\0');
    EXPECT_FALSE(decode_update_info_response(body, out, error));
    EXPECT_EQ(error, "cupsCred: 65535 bytes at offset 4 run past the end of the 24-byte body");
    body = std::string(10, '\0') + bytes({0xFF, 0xFF, 0xFF, 0xFF});
    EXPECT_FALSE(decode_update_info_response(body, out, error));
    EXPECT_EQ(error, "upd: 4294967295 bytes at offset 14 run past the end of the 14-byte body");
    EXPECT_FALSE(decode_update_info_response("", out, error));
    EXPECT_EQ(error, "cupsUriLen: 1 byte at offset 0 run past the end of the 0-byte body");
}

TEST(Response, Oversized)
{
    Answer answer;
    answer.update = std::string(1000, 'u');
    const std::string body = answer.reference();
    UpdateInfoResponse out;
    std::string error;
    EXPECT_TRUE(decode_update_info_response(body, out, error, body.size())) << error;
    EXPECT_FALSE(decode_update_info_response(body, out, error, body.size() - 1));
    EXPECT_EQ(error, "body of 1014 bytes exceeds the limit of 1013 bytes");
    EXPECT_TRUE(out.empty());
    // Trailing bytes count towards the limit too.
    EXPECT_FALSE(decode_update_info_response(std::string(15, '\0'), out, error, 14));
    // Default limit: 16 MiB.
    EXPECT_FALSE(decode_update_info_response(std::string((16u << 20) + 1, '\0'), out, error));
    EXPECT_TRUE(decode_update_info_response(std::string(16u << 20, '\0'), out, error)) << error;
}

TEST(Response, SigLenRange)
{
    for (uint32_t sig_length : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 133u, 200u, 0xFFFFFFFFu}) {
        const std::string body = std::string(6, '\0') + le(sig_length, 4) + std::string(200, '\0');
        UpdateInfoResponse out;
        std::string error;
        EXPECT_FALSE(decode_update_info_response(body, out, error)) << sig_length;
        EXPECT_TRUE(starts_with(error, "sigLen at offset 6: " + std::to_string(sig_length) +
                                           " is out of range"))
            << error;
    }
    for (uint32_t sig_length : {8u, 9u, 72u, 132u}) {
        std::string signature(sig_length - 4, 's');
        const std::string body =
            std::string(6, '\0') + le(sig_length, 4) + le(0xA1B2C3D4u, 4) + signature + le(0, 4);
        UpdateInfoResponse out;
        std::string error;
        ASSERT_TRUE(decode_update_info_response(body, out, error)) << sig_length << error;
        EXPECT_EQ(out.signature_key_crc, 0xA1B2C3D4u);
        EXPECT_EQ(out.signature, signature);
        EXPECT_TRUE(out.empty()); // a signature alone changes nothing
    }
}

TEST(Response, BadUris)
{
    struct Case {
        std::string cups, tc;
    };
    for (const Case& c : std::vector<Case>{
             {"wss://lns.example.com:8887", ""},   // tc scheme in the cups segment
             {"", "https://cups.example.com:443"}, // cups scheme in the tc segment
             {"https://cups.example.com", ""},     // no port
             {"", "wss://lns.example.com:0"},
             {"", "wss://lns.example.com:8887/traffic"},
             {"https://cups.example.com:443/update-info", ""},
             {"", std::string("wss://lns\0:1", 12)},
             {"https://" + std::string(116, 'a') + ":443", ""}, // 128 characters
             {"", "wss://h:1 "},
             {"", "wss://h:1\n"},
         }) {
        Answer answer;
        answer.cups_uri = c.cups;
        answer.tc_uri = c.tc;
        UpdateInfoResponse out;
        std::string error;
        EXPECT_FALSE(decode_update_info_response(answer.reference(), out, error)) << c.cups << c.tc;
        const std::string expected = c.cups.empty()
                                         ? "tcUri at offset " + std::to_string(2) + ": not a ws(s)"
                                         : "cupsUri at offset 1: not a http(s)";
        EXPECT_TRUE(starts_with(error, expected)) << error;
        EXPECT_EQ(error.find_first_of("\r\n"), std::string::npos) << "one line: " << error;
        EXPECT_TRUE(out.empty());
    }
}

// --- Credential blobs (§4) -------------------------------------------------------------------

TEST(Blob, TtsVectorTrustIsNotDer)
{
    const auto vector = read_vector("tts_cups_token_credentials.json");
    const std::string blob = unhex(vector->getValue<std::string>("expected_hex"));
    CredentialParts parts;
    parts.trust = "stale";
    std::string error;
    EXPECT_FALSE(parse_credential_blob(blob, parts, error));
    EXPECT_EQ(error, "trust at offset 0: not a DER SEQUENCE (first byte 0x4c)");
    EXPECT_TRUE(parts.trust.empty());

    // The same framing with a syntactically valid DER trust parses, and the CRC of the blob
    // equals the CRC the gateway reports for the stored parts.
    const std::string fixed = kDerSeq + blob.substr(16);
    ASSERT_TRUE(parse_credential_blob(fixed, parts, error)) << error;
    EXPECT_TRUE(error.empty());
    EXPECT_EQ(parts.trust, kDerSeq);
    EXPECT_TRUE(parts.cert.empty());
    EXPECT_EQ(parts.key, kToken);
    EXPECT_TRUE(parts.token);
    EXPECT_EQ(credentials_crc(parts.trust, parts.cert, parts.key), crc32(fixed));
}

TEST(Blob, DerLengthForms)
{
    struct Case {
        std::string header;
        size_t content;
    };
    for (const Case& c : std::vector<Case>{{bytes({0x30, 0x00}), 0},
                                           {bytes({0x30, 0x7F}), 127},
                                           {bytes({0x30, 0x81, 0x80}), 128},
                                           {bytes({0x30, 0x81, 0xFF}), 255},
                                           {bytes({0x30, 0x81, 0x05}), 5}, // not minimal: accepted
                                           {bytes({0x30, 0x82, 0x01, 0x00}), 256},
                                           {bytes({0x30, 0x82, 0x12, 0x34}), 0x1234},
                                           {bytes({0x30, 0x83, 0x01, 0x00, 0x01}), 0x10001}}) {
        const std::string trust = c.header + std::string(c.content, 'T');
        const std::string cert = c.header + std::string(c.content, 'C');
        const std::string key = c.header + std::string(c.content, 'K');
        CredentialParts parts;
        std::string error;
        ASSERT_TRUE(parse_credential_blob(trust + cert + key, parts, error)) << c.content << error;
        EXPECT_EQ(parts.trust, trust);
        EXPECT_EQ(parts.cert, cert);
        EXPECT_EQ(parts.key, key);
        EXPECT_FALSE(parts.token);
    }
}

TEST(Blob, UnsupportedDerLengthForms)
{
    for (int form : {0x80, 0x84, 0x88, 0xFF}) {
        const std::string blob = bytes({0x30, form, 0, 0, 0, 0, 0, 0}) + kZeros4 + kZeros4;
        CredentialParts parts;
        std::string error;
        EXPECT_FALSE(parse_credential_blob(blob, parts, error)) << form;
        EXPECT_TRUE(starts_with(error, "trust at offset 0: unsupported DER length form")) << error;
    }
}

TEST(Blob, EveryPartInsideTheBlob)
{
    const std::string cert = bytes({0x30, 0x81, 0x80}) + std::string(128, 'C');
    const std::string key = bytes({0x30, 0x82, 0x01, 0x00}) + std::string(256, 'K');
    const std::string blob = kDerSeq + cert + key;
    CredentialParts parts;
    std::string error;
    ASSERT_TRUE(parse_credential_blob(blob, parts, error)) << error;
    for (size_t length = 0; length < blob.size(); ++length) {
        EXPECT_FALSE(parse_credential_blob(blob.substr(0, length), parts, error)) << length;
        EXPECT_FALSE(error.empty());
        EXPECT_TRUE(parts.trust.empty() && parts.cert.empty() && parts.key.empty());
    }
    struct Case {
        std::string blob, error;
    };
    for (const Case& c : std::vector<Case>{
             {"", "empty credential blob"},
             {bytes({0x30}), "trust at offset 0: DER header truncated"},
             {bytes({0x30, 0x82, 0x01}), "trust at offset 0: DER length truncated"},
             {bytes({0x30, 0x05, 0x02, 0x01, 0x05}),
              "trust at offset 0: DER length 5 runs past the end of the 5-byte blob"},
             {kDerSeq, "blob ends after the trust (client certificate or 00 00 00 00 missing)"},
             {kDerSeq + kZeros4,
              "blob ends after the client certificate (key, token or 00 00 00 00 missing)"},
             {kDerSeq + bytes({0x30, 0x82, 0xFF, 0xFF, 0}),
              "client certificate at offset 5: DER length 65535 runs past the end of the "
              "10-byte blob"},
             {kDerSeq + kDerSeq + bytes({0x30, 0x10, 1, 2}),
              "private key at offset 10: DER length 16 runs past the end of the 14-byte blob"},
             {kDerSeq + bytes({0x31, 0x00}) + kZeros4,
              "client certificate at offset 5: not a DER SEQUENCE (first byte 0x31)"},
         }) {
        EXPECT_FALSE(parse_credential_blob(c.blob, parts, error));
        EXPECT_EQ(error, c.error);
    }
}

TEST(Blob, OnlyFourZeroBytesMeanAbsent)
{
    CredentialParts parts;
    std::string error;
    // Server authentication only: trust, no certificate, no key.
    ASSERT_TRUE(parse_credential_blob(kDerSeq + kZeros4 + kZeros4, parts, error)) << error;
    EXPECT_EQ(parts.trust, kDerSeq);
    EXPECT_TRUE(parts.cert.empty());
    EXPECT_TRUE(parts.key.empty());
    EXPECT_FALSE(parts.token);
    EXPECT_EQ(credentials_crc(parts.trust, parts.cert, parts.key),
              crc32(kDerSeq + kZeros4 + kZeros4));

    for (const std::string& marker : {bytes({0, 0, 0, 1}), bytes({0, 0, 0}), bytes({0}),
                                      bytes({0, 0x30, 0, 0}), bytes({0, 0, 0, 0x41})}) {
        EXPECT_FALSE(parse_credential_blob(kDerSeq + marker + kToken, parts, error));
        EXPECT_TRUE(starts_with(error, "client certificate at offset 5: starts with 00 but is not"))
            << error;
        EXPECT_FALSE(parse_credential_blob(kDerSeq + kDerSeq + marker, parts, error));
        EXPECT_TRUE(starts_with(error, "key at offset 10: starts with 00 but is not")) << error;
    }
}

TEST(Blob, TrailingBytesRejected)
{
    CredentialParts parts;
    std::string error;
    EXPECT_FALSE(parse_credential_blob(kDerSeq + kZeros4 + kZeros4 + "x", parts, error));
    EXPECT_EQ(error, "1 trailing bytes at offset 13 after the absent key marker");
    EXPECT_FALSE(parse_credential_blob(kDerSeq + kDerSeq + kDerSeq + kZeros4, parts, error));
    EXPECT_EQ(error, "4 trailing bytes at offset 15 after the private key");
}

TEST(Blob, UnusableCombinationsRejected)
{
    CredentialParts parts;
    std::string error;
    EXPECT_FALSE(parse_credential_blob(kDerSeq + kZeros4 + kDerSeq, parts, error));
    EXPECT_EQ(error, "private key at offset 9 without a client certificate");
    EXPECT_FALSE(parse_credential_blob(kDerSeq + kDerSeq + kToken, parts, error));
    EXPECT_EQ(error, "token at offset 10 together with a client certificate");
    // A certificate without a key is accepted (server authentication, as the station does).
    EXPECT_TRUE(parse_credential_blob(kDerSeq + kDerSeq + kZeros4, parts, error)) << error;
    EXPECT_EQ(parts.cert, kDerSeq);
    EXPECT_TRUE(parts.key.empty());
}

TEST(Blob, TokenValidatedAndNormalised)
{
    CredentialParts parts;
    std::string error;
    // TTS trims the key's trailing CR/LF and adds CRLF; a hand-made blob may use LF only.
    ASSERT_TRUE(parse_credential_blob(kDerSeq + kZeros4 + "Authorization: token", parts, error))
        << error;
    EXPECT_EQ(parts.key, kToken);
    ASSERT_TRUE(parse_credential_blob(
        kDerSeq + kZeros4 + "Authorization: Bearer NNSXS.SECRET\nX-Extra: hello\n\n", parts, error))
        << error;
    EXPECT_EQ(parts.key, "Authorization: Bearer NNSXS.SECRET\r\nX-Extra: hello\r\n");
    EXPECT_TRUE(parts.token);

    for (const std::string& token :
         {std::string("NNSXS.KEY-WITHOUT-HEADER-NAME"), std::string("Authorization:token"),
          std::string("Authorization: a\r\n\r\nInjected: b"),
          std::string("Authorization: a\rInjected: b")}) {
        EXPECT_FALSE(parse_credential_blob(kDerSeq + kZeros4 + token, parts, error)) << token;
        EXPECT_TRUE(starts_with(error, "token at offset 9: line ")) << error;
        EXPECT_TRUE(parts.key.empty());
    }
}

TEST(Blob, RealCertificateAndKeys)
{
    const Pkey ca_key = p256_key();
    const Pkey client_key = p256_key();
    const std::string trust = self_signed_cert(ca_key.get(), "Test Root CA");
    const std::string cert = self_signed_cert(client_key.get(), "0102030405060708");
    const std::string sec1 = der(client_key.get(), i2d_PrivateKey); // SEC1, as TTS sends EC keys
    const std::string pkcs8 = pkcs8_key(client_key.get());
    ASSERT_TRUE(parses_as_cert(trust));
    // Length forms: certificates use 0x82, a P-256 PKCS#8 key 0x81 (which the reference
    // station cannot parse), a P-256 SEC1 key the short form.
    EXPECT_EQ(static_cast<unsigned char>(trust[1]), 0x82);
    EXPECT_EQ(static_cast<unsigned char>(pkcs8[1]), 0x81);
    EXPECT_LT(static_cast<unsigned char>(sec1[1]), 0x80);

    for (const std::string& key : {sec1, pkcs8}) {
        CredentialParts parts;
        std::string error;
        const std::string blob = trust + cert + key;
        ASSERT_TRUE(parse_credential_blob(blob, parts, error)) << error;
        EXPECT_EQ(parts.trust, trust);
        EXPECT_EQ(parts.cert, cert);
        EXPECT_EQ(parts.key, key);
        EXPECT_FALSE(parts.token);
        EXPECT_TRUE(parses_as_cert(parts.trust));
        EXPECT_TRUE(parses_as_cert(parts.cert));
        EXPECT_TRUE(parses_as_key(parts.key));
        EXPECT_EQ(credentials_crc(parts.trust, parts.cert, parts.key), crc32(blob));

        // Inside an answer, next to a token blob for the other category.
        Answer answer;
        answer.cups_uri = "https://cups.example.com:8987";
        answer.cups_cred = blob;
        answer.tc_uri = "wss://lns.example.com:8887";
        answer.tc_cred = trust + kZeros4 + kToken;
        UpdateInfoResponse out;
        ASSERT_TRUE(decode_update_info_response(answer.tts(), out, error)) << error;
        EXPECT_EQ(out.cups_credentials, blob);
        ASSERT_TRUE(parse_credential_blob(*out.tc_credentials, parts, error)) << error;
        EXPECT_EQ(parts.trust, trust);
        EXPECT_EQ(parts.key, kToken);
    }
}

// --- Token (§6) ------------------------------------------------------------------------------

TEST(Token, Normalised)
{
    struct Case {
        std::string in, out;
    };
    for (const Case& c : std::vector<Case>{
             {"Authorization: token", "Authorization: token\r\n"},
             {"Authorization: token\n", "Authorization: token\r\n"},
             {"Authorization: token\r\n", "Authorization: token\r\n"},
             {"Authorization: token\r\n\r\n\n", "Authorization: token\r\n"},
             {"A: 1\nB_b-9: two words\r\nC: ", "A: 1\r\nB_b-9: two words\r\nC: \r\n"},
             {"X: tab\there: colon", "X: tab\there: colon\r\n"},
             {"X: caf\xC3\xA9", "X: caf\xC3\xA9\r\n"},
         }) {
        std::string out, error = "stale";
        ASSERT_TRUE(normalise_token(c.in, out, error)) << c.in << ": " << error;
        EXPECT_EQ(out, c.out);
        EXPECT_TRUE(error.empty());
        std::string again;
        ASSERT_TRUE(normalise_token(out, again, error));
        EXPECT_EQ(again, out);
    }
}

TEST(Token, Malformed)
{
    for (const std::string& in :
         {std::string(""), std::string("\r\n"), std::string("\n\n"), std::string("token"),
          std::string("Authorization:token"), std::string("Authorization :x"),
          std::string(": value"), std::string(" A: b"), std::string("A.b: c"),
          std::string("A: b\n\nC: d"), std::string("A: b\nnot a header"), std::string("A: b\rC: d"),
          std::string("A: b\r"), std::string("A: b\r\r\n"), std::string("A: b\0c", 6),
          std::string("A: b\x7f"), std::string("\nA: b")}) {
        std::string out = "stale", error;
        EXPECT_FALSE(normalise_token(in, out, error)) << in;
        EXPECT_FALSE(error.empty());
        EXPECT_TRUE(out.empty());
    }
    std::string out, error;
    EXPECT_FALSE(normalise_token("A: b\nC d", out, error));
    EXPECT_EQ(error, "line 2: header name not followed by \": \"");
    EXPECT_FALSE(normalise_token("", out, error));
    EXPECT_EQ(error, "empty token");
}

// --- Signature (§7) --------------------------------------------------------------------------

TEST(Signature, VerifiesWithTheSigningKey)
{
    const Pkey key = p256_key();
    const std::string update = "update binary \x00\x01\x02" + std::string(5000, 'z');
    const std::string signature = sign_sha512(key.get(), update);
    const std::string raw = raw_public_key(key.get());
    ASSERT_EQ(raw.size(), 64u);
    std::string error = "stale";
    EXPECT_TRUE(verify_update_signature(update, signature, raw, error)) << error;
    EXPECT_TRUE(error.empty());
    // An empty update can be signed too.
    EXPECT_TRUE(verify_update_signature("", sign_sha512(key.get(), ""), raw, error)) << error;
}

TEST(Signature, TamperedUpdateFails)
{
    const Pkey key = p256_key();
    std::string update = "original update";
    const std::string signature = sign_sha512(key.get(), update);
    update[0] ^= 1;
    std::string error;
    EXPECT_FALSE(verify_update_signature(update, signature, raw_public_key(key.get()), error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(
        verify_update_signature(update + "x", signature, raw_public_key(key.get()), error));
}

TEST(Signature, WrongKeyFails)
{
    const Pkey key = p256_key();
    const Pkey other = p256_key();
    const std::string update = "update";
    std::string error;
    EXPECT_FALSE(verify_update_signature(update, sign_sha512(key.get(), update),
                                         raw_public_key(other.get()), error));
    EXPECT_EQ(error, "signature does not match the update");
}

TEST(Signature, GarbageSignatureFails)
{
    const Pkey key = p256_key();
    const std::string raw = raw_public_key(key.get());
    const std::string update = "update";
    std::string signature = sign_sha512(key.get(), update);
    for (const std::string& bad :
         {std::string(), std::string(72, '\0'), std::string(72, '\xff'), std::string("garbage"),
          signature.substr(0, signature.size() - 1), signature + "x", kDerSeq}) {
        std::string error;
        EXPECT_FALSE(verify_update_signature(update, bad, raw, error)) << bad.size();
        EXPECT_FALSE(error.empty());
    }
    signature[signature.size() - 1] ^= 0x01; // still DER, wrong s
    std::string error;
    EXPECT_FALSE(verify_update_signature(update, signature, raw, error));
    EXPECT_FALSE(error.empty());
}

TEST(Signature, KeyOfWrongSizeOrNotOnTheCurve)
{
    const Pkey key = p256_key();
    const std::string update = "update";
    const std::string signature = sign_sha512(key.get(), update);
    const std::string raw = raw_public_key(key.get());
    std::string error;
    for (const std::string& bad :
         {std::string(), raw.substr(0, 63), "\x04" + raw, raw + "x", std::string(32, 'a')}) {
        EXPECT_FALSE(verify_update_signature(update, signature, bad, error)) << bad.size();
        EXPECT_EQ(error, "signature key has " + std::to_string(bad.size()) +
                             " bytes (expected a raw 64-byte P-256 X||Y key)");
    }
    for (const std::string& bad : {std::string(64, '\0'), std::string(64, '\x01')}) {
        EXPECT_FALSE(verify_update_signature(update, signature, bad, error));
        EXPECT_EQ(error, "signature key is not a valid P-256 point");
    }
}
