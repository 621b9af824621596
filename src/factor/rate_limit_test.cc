// Sliding-window rate limits per key.
#include "factor/rate_limit.h"

#include <gtest/gtest.h>

namespace keyward::factor {
namespace {

TEST(RateLimiter, AllowsTheLimitPerWindowThenRefuses) {
  std::int64_t now = 100;
  RateLimiter r(3, 3600, [&] { return now; });
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(r.Allowed("alice")) << i;
    r.Record("alice");
    now += 10;
  }
  EXPECT_FALSE(r.Allowed("alice"));
  EXPECT_TRUE(r.Allowed("bob"));  // keys are independent
  // The window slides: the first event leaves it 3600 s after it happened.
  now = 100 + 3599;
  EXPECT_FALSE(r.Allowed("alice"));
  now = 100 + 3600;
  EXPECT_TRUE(r.Allowed("alice"));
  r.Record("alice");
  EXPECT_FALSE(r.Allowed("alice"));
}

TEST(RateLimiter, AFullTableOfLiveKeysFailsClosed) {
  std::int64_t now = 0;
  RateLimiter r(5, 60, [&] { return now; }, 2);
  r.Record("a");
  r.Record("b");
  EXPECT_TRUE(r.Allowed("a"));   // known keys go on
  EXPECT_FALSE(r.Allowed("c"));  // a new one is refused while the table is full
  now = 60;
  EXPECT_TRUE(r.Allowed("c"));  // old keys were purged
  EXPECT_EQ(r.keys(), 0u);
}

}  // namespace
}  // namespace keyward::factor
