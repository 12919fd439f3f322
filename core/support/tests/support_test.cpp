#include "base64.hpp"
#include "json_read.hpp"
#include "json_text.hpp"
#include "lora_text.hpp"

#include <gtest/gtest.h>

using namespace forwarder::support;

TEST(Base64, EncodesWithPaddingAndNoLineBreaks)
{
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode(std::string("\x40\x01\x02\x03", 4)), "QAECAw==");
    const std::string long_text = base64_encode(std::string(200, '\xff'));
    EXPECT_EQ(long_text.size(), 268u);
    EXPECT_EQ(long_text.find('\n'), std::string::npos);
}

TEST(Base64, RoundTripsEveryByteValueAndLength)
{
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes.push_back(static_cast<char>(i));
        std::string back;
        ASSERT_TRUE(base64_decode(base64_encode(bytes), back)) << i;
        ASSERT_EQ(back, bytes);
    }
}

TEST(Base64, DecodeIsStrict)
{
    std::string out;
    EXPECT_TRUE(base64_decode("QAECAw", out)); // padding optional
    EXPECT_EQ(out, std::string("\x40\x01\x02\x03", 4));
    for (const char* bad : {"Q", "QUI=QUI=", "QA==A", "QA===", "QA E", "QA\n==", "-_8=", "QAE*"}) {
        EXPECT_FALSE(base64_decode(bad, out)) << bad;
        EXPECT_TRUE(out.empty()) << bad;
    }
}

TEST(JsonText, EscapesQuotesBackslashAndControls)
{
    EXPECT_EQ(json_escape("plain"), "plain");
    EXPECT_EQ(json_escape("a\"b\\c\nd\te\x01"), "a\\\"b\\\\c\\nd\\te\\u0001");
}

TEST(LoRaText, DatrAndCodingRate)
{
    uint32_t sf = 0, bw = 0;
    EXPECT_TRUE(parse_lora_datr("SF12BW500", sf, bw));
    EXPECT_EQ(sf, 12u);
    EXPECT_EQ(bw, 500000u);
    for (const char* bad : {"SF4BW125", "SF13BW125", "SF7BW124", "SF07BW125", "sf7bw125", "SF7",
                            "SF10BW250x", "SF+7BW125"}) {
        EXPECT_FALSE(parse_lora_datr(bad, sf, bw)) << bad;
    }
    forwarder::v1::CodingRate cr{};
    EXPECT_TRUE(parse_coding_rate("4/7", cr));
    EXPECT_EQ(cr, forwarder::v1::CR_4_7);
    EXPECT_STREQ(coding_rate_name(cr), "4/7");
    EXPECT_TRUE(parse_coding_rate("OFF", cr));
    EXPECT_STREQ(coding_rate_name(cr), "OFF");
    EXPECT_FALSE(parse_coding_rate("4/9", cr));
    EXPECT_EQ(coding_rate_name(forwarder::v1::CODING_RATE_UNSPECIFIED), nullptr);
}

namespace {

// The message of the JsonError that `read` throws, "" if none.
template <typename Read> std::string json_error(Read read)
{
    try {
        read();
    } catch (const json::JsonError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(JsonRead, ParsesOnlyObjects)
{
    EXPECT_EQ(json::parse_object(R"({"a":1})")->size(), 1u);
    EXPECT_EQ(json_error([] { json::parse_object("[1]"); }), "not a JSON object");
    EXPECT_EQ(json_error([] { json::parse_object("{\"a\":"); }).rfind("invalid JSON: ", 0), 0u);
    const std::string deep = std::string(40, '[') + std::string(40, ']');
    EXPECT_EQ(json_error([&] { json::parse_object("{\"a\":" + deep + "}"); }).rfind("invalid", 0),
              0u);
}

TEST(JsonRead, FindsKeysExactlyOrFoldingCase)
{
    const auto object = json::parse_object(R"({"Freq":1,"freq":2,"DR":3,"gone":null})");
    ASSERT_NE(json::find(*object, "freq"), nullptr);
    EXPECT_EQ(json::find(*object, "freq")->extract<Poco::Int64>(), 2); // exact match first
    EXPECT_EQ(json::find(*object, "dr"), nullptr);
    ASSERT_NE(json::find(*object, "dr", json::Keys::fold_case), nullptr);
    EXPECT_EQ(json::find(*object, "dr", json::Keys::fold_case)->extract<Poco::Int64>(), 3);
    EXPECT_EQ(json::find(*object, "gone"), nullptr); // null counts as absent
    EXPECT_EQ(json_error([&] { json::need(*object, "gone"); }), "gone: missing");
    EXPECT_EQ(json_error([&] { json::need(*object, "x", "txpk.x"); }), "txpk.x: missing");
}

TEST(JsonRead, IntegersStrictTolerantAndDetailed)
{
    const auto o = json::parse_object(
        R"({"i":-5,"u":18446744073709551615,"f":14.0,"h":1.5,"big":1e300,"s":"1","b":true})");
    const json::Rules tolerant{.tolerant = true, .detailed_errors = false};
    const json::Rules detailed{.tolerant = true, .detailed_errors = true};
    auto at = [&](const char* key) -> const json::Var& { return json::need(*o, key); };

    EXPECT_EQ(json::to_int(at("i"), "i", -10, 10), -5);
    EXPECT_EQ(json_error([&] { json::to_int(at("i"), "i", 0, 10); }), "i: -5 out of range [0, 10]");
    EXPECT_EQ(json_error([&] { json::to_int(at("u"), "u", 0, 10); }),
              "u: 18446744073709551615 out of range");
    EXPECT_EQ(json_error([&] { json::to_int(at("f"), "f", 0, 100); }), "f: not an integer");
    EXPECT_EQ(json::to_int(at("f"), "f", 0, 100, tolerant), 14);
    EXPECT_EQ(json_error([&] { json::to_int(at("h"), "h", 0, 100, tolerant); }),
              "h: not an integer");
    EXPECT_EQ(json_error([&] { json::to_int(at("big"), "big", 0, 100, tolerant); }),
              "big: not an integer");
    EXPECT_EQ(json_error([&] { json::to_int(at("big"), "big", 0, 100, detailed); }),
              "big: integer written as a float beyond 2^53");
    EXPECT_EQ(json_error([&] { json::to_int(at("s"), "s", 0, 100, detailed); }),
              "s: not an integer");

    EXPECT_EQ(json::to_uint64(at("u"), "u"), UINT64_MAX);
    EXPECT_EQ(json_error([&] { json::to_uint64(at("u"), "u", 100); }),
              "u: 18446744073709551615 out of range (max 100)");
    EXPECT_EQ(json_error([&] { json::to_uint64(at("i"), "i", 100); }),
              "i: -5 out of range [0, 100]");
    EXPECT_EQ(json_error([&] { json::to_uint64(at("i"), "i", 100, detailed); }),
              "i: negative (-5)");
    EXPECT_EQ(json::to_uint64(at("f"), "f", 100, detailed), 14u);
    EXPECT_EQ(json_error([&] { json::to_uint64(at("f"), "f", 10, detailed); }),
              "f: 14 out of range (max 10)");
}

TEST(JsonRead, NumbersBooleansAndContainers)
{
    const auto o =
        json::parse_object(R"({"n":868.1,"i":3,"one":1,"t":true,"s":"x","o":{},"a":[1]})");
    auto at = [&](const char* key) -> const json::Var& { return json::need(*o, key); };
    EXPECT_DOUBLE_EQ(json::to_number(at("n"), "n"), 868.1);
    EXPECT_DOUBLE_EQ(json::to_number(at("i"), "i"), 3.0);
    EXPECT_EQ(json_error([&] { json::to_number(at("s"), "s"); }), "s: not a number");
    EXPECT_TRUE(json::to_bool(at("t"), "t"));
    EXPECT_EQ(json_error([&] { json::to_bool(at("one"), "one"); }), "one: not a boolean");
    EXPECT_TRUE(json::to_bool(at("one"), "one", {.tolerant = true}));
    EXPECT_EQ(json_error([&] { json::to_bool(at("i"), "i", {.tolerant = true}); }),
              "i: 3 out of range [0, 1]");
    EXPECT_EQ(json::to_string(at("s"), "s"), "x");
    EXPECT_EQ(json_error([&] { json::to_string(at("i"), "i"); }), "i: not a string");
    EXPECT_EQ(json::to_object(at("o"), "o").size(), 0u);
    EXPECT_EQ(json_error([&] { json::to_object(at("a"), "a"); }), "a: not an object");
    EXPECT_EQ(json::to_array(at("a"), "a").size(), 1u);
    EXPECT_EQ(json_error([&] { json::to_array(at("o"), "o"); }), "o: not an array");
    EXPECT_EQ(json::index_name("rxpk", 3), "rxpk[3]");
}
