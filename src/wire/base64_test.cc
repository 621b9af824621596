// Base64 as OpenSSH's b64_pton() reads it (openbsd-compat/base64.c): white
// space is skipped anywhere, padding is required, nothing but white space
// may follow the padding, and the bits left over by the padding must be 0.
#include "wire/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace keyward::wire {
namespace {

std::string Hex(const Bytes& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

struct AcceptCase {
  std::string_view name;
  std::string_view text;
  std::string_view hex;  // decoded bytes
};

// Every input here is one that b64_pton() decodes, with what it decodes to.
constexpr AcceptCase kAccept[] = {
    {"empty", "", ""},
    {"one_byte", "AA==", "00"},
    {"two_bytes", "AAA=", "0000"},
    {"three_bytes", "AAAA", "000000"},
    {"rfc4648_f", "Zg==", "66"},
    {"rfc4648_fo", "Zm8=", "666f"},
    {"rfc4648_foo", "Zm9v", "666f6f"},
    {"rfc4648_foob", "Zm9vYg==", "666f6f62"},
    {"rfc4648_fooba", "Zm9vYmE=", "666f6f6261"},
    {"rfc4648_foobar", "Zm9vYmFy", "666f6f626172"},
    {"all_alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
     "00108310518720928b30d38f41149351559761969b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3dfbf"},
    {"space_inside_quantum", "Zm 9v", "666f6f"},
    {"tab_cr_lf_vt_ff_inside", "Z\tm\r9\nv\v\f", "666f6f"},
    {"leading_and_trailing_space", "  Zm9v  ", "666f6f"},
    {"space_between_pads", "Zg= =", "66"},
    {"space_before_pad", "Zg ==", "66"},
    {"space_after_padding", "Zg==  \r\n", "66"},
    {"space_after_single_pad", "Zm8= \t", "666f"},
    {"only_whitespace", " \t\r\n", ""},
    {"many_quanta_with_breaks", "Zm9v\nYmFy\nZm9v", "666f6f626172666f6f"},
};

class Base64Accept : public testing::TestWithParam<AcceptCase> {};

TEST_P(Base64Accept, DecodesLikeB64Pton) {
  const AcceptCase& c = GetParam();
  Bytes out;
  auto r = DecodeBase64(c.text, out);
  ASSERT_TRUE(r.has_value()) << "\"" << c.text << "\": " << r.error().message;
  EXPECT_EQ(Hex(out), c.hex);
}

INSTANTIATE_TEST_SUITE_P(Table, Base64Accept, testing::ValuesIn(kAccept),
                         [](const auto& p) { return std::string(p.param.name); });

struct RejectCase {
  std::string_view name;
  std::string_view text;
};

// The must-reject list: b64_pton() returns -1 for each of these.
constexpr RejectCase kReject[] = {
    {"one_char", "A"},
    {"two_chars_unpadded", "Zg"},
    {"three_chars_unpadded", "Zm8"},
    {"five_chars", "Zm9vY"},
    {"pad_in_first_position", "=AAA"},
    {"pad_in_second_position", "A==="},
    {"pad_only", "===="},
    {"single_pad_after_two", "Zg="},
    {"three_pads", "Z==="},
    {"extra_pad_after_full_padding", "Zg==="},
    {"extra_pad_after_single", "Zm8=="},
    {"data_after_padding", "Zg==Zg=="},
    {"data_after_single_pad", "Zm8=Zm9v"},
    {"data_after_padding_and_space", "Zg== x"},
    {"nonzero_trailing_bits_one_byte", "Zh=="},
    {"nonzero_trailing_bits_one_byte_low", "AB=="},
    {"nonzero_trailing_bits_two_bytes", "Zm9="},
    {"nonzero_trailing_bits_two_bytes_low", "AAB="},
    {"url_safe_minus", "Zm-v"},
    {"url_safe_underscore", "Zm_v"},
    {"dot", "Zm.v"},
    {"nul_byte", std::string_view("Zm\0v", 4)},
    {"high_byte", "Zm\xc3\xa9v"},
    {"non_breaking_space", "Zm9v\xa0"},
    {"pad_then_partial_quantum", "AA==AA"},
    {"pad_after_whole_quantum", "Zm9v="},
    {"four_pads_after_whole_quantum", "Zm9v===="},
    {"space_then_data_after_single_pad", "Zm8= Zg=="},
};

class Base64Reject : public testing::TestWithParam<RejectCase> {};

TEST_P(Base64Reject, IsRefusedWithBadBase64) {
  const RejectCase& c = GetParam();
  Bytes out;
  auto r = DecodeBase64(c.text, out);
  ASSERT_FALSE(r.has_value()) << "accepted, decoded to " << Hex(out);
  EXPECT_EQ(r.error().code, "bad_base64");
  EXPECT_FALSE(r.error().message.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, Base64Reject, testing::ValuesIn(kReject),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(Base64, DecodeAppendsToExistingBytes) {
  Bytes out = {0xff};
  ASSERT_TRUE(DecodeBase64("Zm9v", out).has_value());
  EXPECT_EQ(Hex(out), "ff666f6f");
}

TEST(Base64, EncodeMatchesRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(AsBytes("")), "");
  EXPECT_EQ(EncodeBase64(AsBytes("f")), "Zg==");
  EXPECT_EQ(EncodeBase64(AsBytes("fo")), "Zm8=");
  EXPECT_EQ(EncodeBase64(AsBytes("foo")), "Zm9v");
  EXPECT_EQ(EncodeBase64(AsBytes("foob")), "Zm9vYg==");
  EXPECT_EQ(EncodeBase64(AsBytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(EncodeBase64(AsBytes("foobar")), "Zm9vYmFy");
}

TEST(Base64, UnpaddedEncodingDropsOnlyThePadding) {
  std::string out = "SHA256:";
  AppendBase64Unpadded(AsBytes("f"), out);
  EXPECT_EQ(out, "SHA256:Zg");
  out.clear();
  AppendBase64Unpadded(AsBytes("fo"), out);
  EXPECT_EQ(out, "Zm8");
  out.clear();
  AppendBase64Unpadded(AsBytes("foo"), out);
  EXPECT_EQ(out, "Zm9v");
}

TEST(Base64, RoundTripsEveryLengthAndByteValue) {
  Bytes data;
  for (int len = 0; len < 300; ++len) {
    std::string text = EncodeBase64(data);
    Bytes back;
    auto r = DecodeBase64(text, back);
    ASSERT_TRUE(r.has_value()) << "length " << len << ": " << r.error().message;
    ASSERT_EQ(back, data) << "length " << len;
    data.push_back(static_cast<std::uint8_t>(len * 37 + 11));
  }
}

TEST(Base64, EveryInvalidByteIsRejected) {
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string_view space = " \t\n\v\f\r";
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    if (alphabet.find(ch) != std::string_view::npos || space.find(ch) != std::string_view::npos || ch == '=') {
      continue;
    }
    std::string text = "Zm9v";
    text.insert(2, 1, ch);
    Bytes out;
    EXPECT_FALSE(DecodeBase64(text, out).has_value()) << "byte " << c << " accepted";
  }
}

}  // namespace
}  // namespace keyward::wire
