// Codes and tokens come from getrandom(2) without modulo bias.
#include "factor/random.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace keyward::factor {
namespace {

TEST(Random, DigitsHaveTheLengthAskedForAndNothingElse) {
  for (int digits : {6, 7, 8, 12}) {
    auto code = RandomDigits(digits);
    ASSERT_TRUE(code) << code.error().message;
    EXPECT_EQ(code->size(), static_cast<std::size_t>(digits));
    EXPECT_EQ(code->find_first_not_of("0123456789"), std::string::npos) << *code;
  }
  EXPECT_FALSE(RandomDigits(5));
  EXPECT_FALSE(RandomDigits(13));
  EXPECT_FALSE(RandomDigits(0));
}

// A sanity check, not a proof: with 600,000 digits each of the ten counts
// has a standard deviation of about 232, so a biased generator (byte % 10
// over 0..255 gives 0..5 about 2.3% more) is far outside 6 sigma while a
// fair one is inside it.
TEST(Random, DigitsAreUniform) {
  std::array<long, 10> counts{};
  long total = 0;
  for (int i = 0; i < 50000; ++i) {
    auto code = RandomDigits(12);
    ASSERT_TRUE(code);
    for (char c : *code) ++counts[static_cast<std::size_t>(c - '0')];
    total += 12;
  }
  double expected = static_cast<double>(total) / 10;
  double chi2 = 0;
  for (long n : counts) {
    EXPECT_NEAR(static_cast<double>(n), expected, 1400.0);
    chi2 += (static_cast<double>(n) - expected) * (static_cast<double>(n) - expected) / expected;
  }
  // 9 degrees of freedom: P(chi2 > 33.7) is about 1e-4.
  EXPECT_LT(chi2, 33.7);
}

TEST(Random, TokensAre256BitsOfHexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = RandomToken();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->size(), 64u);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(seen.insert(*t).second);
  }
}

}  // namespace
}  // namespace keyward::factor
