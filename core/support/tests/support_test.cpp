#include "base64.hpp"
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
