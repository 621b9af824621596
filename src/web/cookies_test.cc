// Cookie attributes and reading cookies back.
#include "web/cookies.h"

#include <gtest/gtest.h>

namespace keyward::web {
namespace {

TEST(Cookies, AttributesOfEveryCookie) {
  EXPECT_EQ(SetCookie("kw_session", "abc123", CookieOptions{false, -1}),
            "kw_session=abc123; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SetCookie("kw_session", "abc", CookieOptions{false, 900}),
            "kw_session=abc; Path=/; Max-Age=900; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SetCookie("__Host-kw_session", "abc", CookieOptions{true, 900}),
            "__Host-kw_session=abc; Path=/; Max-Age=900; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(ClearCookie("kw_login", false), "kw_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  EXPECT_EQ(ClearCookie("__Host-kw_login", true), "__Host-kw_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

TEST(Cookies, SecureCookiesTakeTheHostPrefix) {
  EXPECT_EQ(CookieName("kw_session", false), "kw_session");
  EXPECT_EQ(CookieName("kw_session", true), "__Host-kw_session");
}

TEST(Cookies, FindsCookies) {
  EXPECT_EQ(FindCookie("a=1; kw_session=abc; b=2", "kw_session"), "abc");
  EXPECT_EQ(FindCookie("kw_session=abc", "kw_session"), "abc");
  EXPECT_EQ(FindCookie("  kw_session = abc ;", "kw_session"), "abc");
  EXPECT_EQ(FindCookie("kw_session=\"abc\"", "kw_session"), "abc");
  EXPECT_EQ(FindCookie("kw_session=first; kw_session=second", "kw_session"), "first");
  EXPECT_EQ(FindCookie("x=1;kw_session=a.b-c_d", "kw_session"), "a.b-c_d");
}

TEST(Cookies, IgnoresWhatKeywardWouldNotHaveSet) {
  EXPECT_FALSE(FindCookie("", "kw_session"));
  EXPECT_FALSE(FindCookie("other=1", "kw_session"));
  EXPECT_FALSE(FindCookie("xkw_session=abc", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=a b", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=<script>", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=a%20b", "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=" + std::string(kMaxCookieValueBytes + 1, 'a'), "kw_session"));
  EXPECT_TRUE(FindCookie("kw_session=" + std::string(kMaxCookieValueBytes, 'a'), "kw_session"));
  EXPECT_FALSE(FindCookie("kw_session=abc", "__Host-kw_session"));
}

}  // namespace
}  // namespace keyward::web
