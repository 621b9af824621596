// HOTP and TOTP against the RFCs' own test vectors, then the verifier's
// window, replay protection and input rules.
#include "factor/totp.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace keyward::factor {
namespace {

// RFC 4226 Appendix D and RFC 6238 Appendix B both use this ASCII secret
// for HMAC-SHA1.
const std::string kRfcSecret = "12345678901234567890";
ByteView RfcSecret() { return AsBytes(kRfcSecret); }

TEST(HotpTest, Rfc4226AppendixD) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(Hotp(RfcSecret(), counter), expected[counter]) << counter;
  }
}

TEST(HotpTest, DigitsOutsideTheRfcRangeGiveNoCode) {
  EXPECT_EQ(Hotp(RfcSecret(), 0, 5), "");
  EXPECT_EQ(Hotp(RfcSecret(), 0, 9), "");
  EXPECT_EQ(Hotp(RfcSecret(), 0, 7), "4755224");
}

TEST(TotpTest, Rfc6238AppendixBSha1) {
  struct Row {
    std::int64_t time;
    const char* code;
  };
  const Row rows[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
  };
  for (const auto& row : rows) EXPECT_EQ(TotpAt(RfcSecret(), row.time, 8), row.code) << row.time;
  // Six digits are the last six of eight (the modulus is a power of ten).
  EXPECT_EQ(TotpAt(RfcSecret(), 59), "287082");
}

TEST(TotpTest, StepBoundaries) {
  EXPECT_EQ(TotpAt(RfcSecret(), 0), Hotp(RfcSecret(), 0));
  EXPECT_EQ(TotpAt(RfcSecret(), 29), Hotp(RfcSecret(), 0));
  EXPECT_EQ(TotpAt(RfcSecret(), 30), Hotp(RfcSecret(), 1));
  EXPECT_EQ(TotpAt(RfcSecret(), -1), "");
}

class VerifyTotpTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kNow = 1700000015;  // mid-step
  std::string CodeAt(std::int64_t t) const { return TotpAt(RfcSecret(), t); }
  std::int64_t last_ = 0;
};

TEST_F(VerifyTotpTest, AcceptsTheCurrentAndNeighbouringSteps) {
  for (std::int64_t skew : {-30, 0, 30}) {
    std::int64_t last = 0;
    EXPECT_TRUE(VerifyTotp(RfcSecret(), CodeAt(kNow + skew), kNow, &last)) << skew;
    EXPECT_EQ(last, (kNow + skew) / 30);
  }
}

TEST_F(VerifyTotpTest, RefusesStepsFurtherAway) {
  for (std::int64_t skew : {-90, -60, 60, 90}) {
    std::string code = CodeAt(kNow + skew);
    // Skip the (one in a million) case where another step has the same code.
    if (code == CodeAt(kNow - 30) || code == CodeAt(kNow) || code == CodeAt(kNow + 30)) continue;
    EXPECT_FALSE(VerifyTotp(RfcSecret(), code, kNow, &last_)) << skew;
  }
  EXPECT_EQ(last_, 0);
}

TEST_F(VerifyTotpTest, ACodeIsGoodOnce) {
  std::string code = CodeAt(kNow);
  EXPECT_TRUE(VerifyTotp(RfcSecret(), code, kNow, &last_));
  EXPECT_FALSE(VerifyTotp(RfcSecret(), code, kNow, &last_));
  EXPECT_FALSE(VerifyTotp(RfcSecret(), code, kNow + 10, &last_));
  // The next step's code is still good.
  EXPECT_TRUE(VerifyTotp(RfcSecret(), CodeAt(kNow + 30), kNow + 30, &last_));
}

TEST_F(VerifyTotpTest, AnOlderCodeIsRefusedAfterANewerOne) {
  EXPECT_TRUE(VerifyTotp(RfcSecret(), CodeAt(kNow + 30), kNow, &last_));
  EXPECT_FALSE(VerifyTotp(RfcSecret(), CodeAt(kNow), kNow, &last_));
  EXPECT_FALSE(VerifyTotp(RfcSecret(), CodeAt(kNow - 30), kNow, &last_));
}

TEST_F(VerifyTotpTest, WithoutLastStepThereIsNoReplayProtection) {
  EXPECT_TRUE(VerifyTotp(RfcSecret(), CodeAt(kNow), kNow, nullptr));
  EXPECT_TRUE(VerifyTotp(RfcSecret(), CodeAt(kNow), kNow, nullptr));
}

TEST_F(VerifyTotpTest, InputRules) {
  std::string code = CodeAt(kNow);
  EXPECT_TRUE(VerifyTotp(RfcSecret(), code.substr(0, 3) + " " + code.substr(3), kNow, &last_));
  std::int64_t last = 0;
  const std::string bad[] = {
      "", code.substr(0, 5), code + "0", "0" + code, code.substr(0, 5) + "x", "-" + code.substr(1),
      code + "\n", "\xef\xbc\x91" + code.substr(1),  // a full-width digit
  };
  for (const auto& text : bad) EXPECT_FALSE(VerifyTotp(RfcSecret(), text, kNow, &last)) << text;
  EXPECT_EQ(last, 0);
  EXPECT_FALSE(VerifyTotp(ByteView(), "000000", kNow, &last));
  // The 8-digit code of the same step is not a 6-digit code.
  EXPECT_FALSE(VerifyTotp(RfcSecret(), TotpAt(RfcSecret(), kNow, 8), kNow, &last));
}

TEST(TotpSecretTest, NewSecretsAreLongAndDifferent) {
  std::set<Bytes> seen;
  for (int i = 0; i < 32; ++i) {
    auto secret = NewTotpSecret();
    ASSERT_TRUE(secret.has_value());
    EXPECT_EQ(secret->size(), kTotpSecretBytes);
    EXPECT_TRUE(seen.insert(*secret).second);
  }
}

TEST(OtpauthUriTest, GoogleKeyUriFormat) {
  EXPECT_EQ(OtpauthUri("keyward", "alice@host", RfcSecret()),
            "otpauth://totp/keyward:alice%40host?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=keyward&algorithm=SHA1&digits=6&period=30");
  // Anything outside RFC 3986's unreserved set is escaped, ':' and '&' above all.
  EXPECT_EQ(OtpauthUri("A B", "x:y&z=1?#/é", AsBytes("f")),
            "otpauth://totp/A%20B:x%3Ay%26z%3D1%3F%23%2F%C3%A9?secret=MY&issuer=A%20B"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace keyward::factor
