// Validity as ssh-keygen -V takes it, and as ssh-keygen -L prints it.
#include "ca/validity.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <string>
#include <vector>

namespace keyward::ca {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::uint64_t kForeverValue = ~std::uint64_t{0};

// Local times are tested in UTC and in a zone with an offset.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (had_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST(Validity, Intervals) {
  EXPECT_EQ(*ParseInterval("90"), 90);
  EXPECT_EQ(*ParseInterval("10m"), 600);
  EXPECT_EQ(*ParseInterval("1h30m"), 5400);
  EXPECT_EQ(*ParseInterval("7d"), 7 * 86400);
  EXPECT_EQ(*ParseInterval("1W2d3H4M5s"), 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
  EXPECT_EQ(*ParseInterval("0"), 0);
  for (const char* bad : {"", "d", "1x", "1.5h", "-1h", "1h ", " 1h", "99999999999999999999", "5300w"}) {
    EXPECT_FALSE(ParseInterval(bad)) << bad;
  }
}

TEST(Validity, RelativeFormsAndBackdate) {
  auto plus = ParseValidity("+7d", kNow, 300);
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->valid_after, static_cast<std::uint64_t>(kNow - 300));
  EXPECT_EQ(plus->valid_before, static_cast<std::uint64_t>(kNow + 7 * 86400));

  // An explicit start is taken as written: no backdate.
  auto range = ParseValidity("-5m:+1w", kNow, 300);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->valid_after, static_cast<std::uint64_t>(kNow - 300));
  EXPECT_EQ(range->valid_before, static_cast<std::uint64_t>(kNow + 7 * 86400));
  auto later = ParseValidity("+1h:+2h", kNow, 300);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->valid_after, static_cast<std::uint64_t>(kNow + 3600));

  auto always = ParseValidity("always:forever", kNow, 300);
  ASSERT_TRUE(always);
  EXPECT_EQ(always->valid_after, 0u);
  EXPECT_EQ(always->valid_before, kForeverValue);

  auto forever = ParseValidity("forever", kNow, 60);
  ASSERT_TRUE(forever);
  EXPECT_EQ(forever->valid_after, static_cast<std::uint64_t>(kNow - 60));
  EXPECT_EQ(forever->valid_before, kForeverValue);

  auto hex = ParseValidity("0x1:0x2000000000", kNow, 300);
  ASSERT_TRUE(hex);
  EXPECT_EQ(hex->valid_after, 1u);
  EXPECT_EQ(hex->valid_before, 0x2000000000u);

  auto zero = ParseValidity("+0", kNow, 0);
  EXPECT_FALSE(zero);  // from now to now: never valid
}

TEST(Validity, AbsoluteTimes) {
  ScopedTimeZone tz("UTC0");
  auto v = ParseValidity("20300101:20310101123456", kNow, 300);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->valid_after, 1893456000u);
  EXPECT_EQ(v->valid_before, 1925037296u);
  auto z = ParseValidity("203001010000Z:20310101123456Z", kNow, 300);
  ASSERT_TRUE(z);
  EXPECT_EQ(z->valid_after, 1893456000u);
  {
    ScopedTimeZone east("XST-2");  // two hours east of UTC
    auto local = ParseValidity("20300101:forever", kNow, 300);
    ASSERT_TRUE(local);
    EXPECT_EQ(local->valid_after, 1893456000u - 7200);
    auto utc = ParseValidity("20300101Z:forever", kNow, 300);
    ASSERT_TRUE(utc);
    EXPECT_EQ(utc->valid_after, 1893456000u);
  }
  auto end_only = ParseValidity("20300101", kNow, 300);
  ASSERT_TRUE(end_only);
  EXPECT_EQ(end_only->valid_after, static_cast<std::uint64_t>(kNow - 300));
  EXPECT_EQ(end_only->valid_before, 1893456000u);
}

TEST(Validity, MustReject) {
  for (const char* bad :
       {"", ":", "+1d:", ":+1d", "-1h:-2h", "+1h:-1h", "20260231:forever", "20261301:forever", "2030010112:+1d",
        "20300101246000:forever", "forever:+1d", "+1d:always", "-1y:+1", "+1x", "7d", "0x:0x10", "0xg:0x10",
        "0x1:0x10000000000000000", "20200101:20100101", "yesterday:tomorrow"}) {
    auto v = ParseValidity(bad, kNow, 300);
    EXPECT_FALSE(v) << bad;
    if (!v) {
      EXPECT_EQ(v.error().code, "bad_validity") << bad;
    }
  }
}

TEST(Validity, PrintedAsSshKeygenPrintsIt) {
  ScopedTimeZone tz("UTC0");
  EXPECT_EQ(FormatValidity(0, kForeverValue), "forever");
  EXPECT_EQ(FormatValidity(0, 1893456000), "before 2030-01-01T00:00:00");
  EXPECT_EQ(FormatValidity(16, kForeverValue), "after 1970-01-01T00:00:16");
  EXPECT_EQ(FormatValidity(1893456000, 1925037296), "from 2030-01-01T00:00:00 to 2031-01-01T12:34:56");
  ScopedTimeZone east("XST-2");
  EXPECT_EQ(FormatLocalTime(1893456000), "2030-01-01T02:00:00");
}

}  // namespace
}  // namespace keyward::ca
