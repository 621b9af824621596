// Base32: RFC 4648's test vectors both ways, the lenient input people type,
// and the must-reject list.
#include "factor/base32.h"

#include <gtest/gtest.h>

#include <string>

namespace keyward::factor {
namespace {

std::string Decoded(std::string_view text) {
  auto r = Base32Decode(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? std::string(AsText(*r)) : std::string("<error>");
}

// RFC 4648 section 10, without the padding we never write.
struct Vector {
  const char* plain;
  const char* padded;
};
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "MY======"},
    {"fo", "MZXQ===="},
    {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======"},
};

TEST(Base32Test, Rfc4648VectorsEncodeWithoutPadding) {
  for (const auto& v : kRfc4648) {
    std::string expected = v.padded;
    expected.erase(expected.find_last_not_of('=') + 1);
    if (std::string(v.padded).empty()) expected.clear();
    EXPECT_EQ(Base32Encode(AsBytes(v.plain)), expected) << v.plain;
  }
}

TEST(Base32Test, Rfc4648VectorsDecodePaddedAndUnpadded) {
  for (const auto& v : kRfc4648) {
    std::string unpadded = v.padded;
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    if (std::string(v.padded).empty()) unpadded.clear();
    EXPECT_EQ(Decoded(v.padded), v.plain);
    EXPECT_EQ(Decoded(unpadded), v.plain);
  }
}

TEST(Base32Test, RoundTripsEveryLengthAndByte) {
  Bytes data;
  for (int i = 0; i < 300; ++i) {
    auto r = Base32Decode(Base32Encode(data));
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(*r, data);
    data.push_back(static_cast<std::uint8_t>(i * 7 + 13));
  }
}

TEST(Base32Test, AcceptsWhatPeopleType) {
  EXPECT_EQ(Decoded("mzxw6ytboi"), "foobar");
  EXPECT_EQ(Decoded("MZXW 6YTB OI"), "foobar");
  EXPECT_EQ(Decoded("mzxw-6ytb-oi\n"), "foobar");
  EXPECT_EQ(Decoded("\tMZXW6YTBOI======\r\n"), "foobar");
}

TEST(Base32Test, MustReject) {
  const char* bad[] = {
      "MZXW6YTB1",   // '1' is not in the alphabet (people confuse it with I)
      "MZXW6YTB0",   // nor '0'
      "MZXW6YTB8",   // nor '8'
      "MZ=XW6YTB",   // padding in the middle
      "MY==MY==",    // data after padding
      "M",           // 1 digit: no whole byte
      "MZX",         // 3 digits
      "MZXW6Y",      // 6 digits
      "MZ",          // "f" is MY; MZ leaves a stray bit
      "MZXR",        // stray bits in the last digit
      "MZXW6YTB+",   // base64 characters
      "MZXW6YTB/",
      "MZXW6\xc3\x89",  // non-ASCII
  };
  for (const char* text : bad) EXPECT_FALSE(Base32Decode(text).has_value()) << text;
  EXPECT_FALSE(Base32Decode(std::string_view("MZXW\0", 5)).has_value());
}

}  // namespace
}  // namespace keyward::factor
