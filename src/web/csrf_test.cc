// CSRF tokens: accepted only for the scope, binding and key they were
// issued for; fresh for every page.
#include "web/csrf.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace keyward::web {
namespace {

CsrfSigner Signer(std::uint8_t fill) {
  CsrfSigner::Key key;
  key.fill(fill);
  return CsrfSigner(key);
}

TEST(Csrf, AcceptsWhatItIssued) {
  auto signer = CsrfSigner::Create();
  ASSERT_TRUE(signer.has_value());
  std::string token = signer->Issue(CsrfScope::kSession, "session-a");
  EXPECT_EQ(token.size(), kCsrfTokenChars);
  EXPECT_TRUE(signer->Check(CsrfScope::kSession, "session-a", token));
}

TEST(Csrf, EveryTokenIsNew) {
  CsrfSigner signer = Signer(1);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(signer.Issue(CsrfScope::kAnonymous, "cookie"));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Csrf, RejectsEverythingElse) {
  CsrfSigner signer = Signer(1);
  std::string token = signer.Issue(CsrfScope::kSession, "session-a");
  ASSERT_TRUE(signer.Check(CsrfScope::kSession, "session-a", token));

  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-b", token)) << "another session";
  EXPECT_FALSE(signer.Check(CsrfScope::kAnonymous, "session-a", token)) << "another scope";
  EXPECT_FALSE(Signer(2).Check(CsrfScope::kSession, "session-a", token)) << "another key (a restart)";
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "", token)) << "no binding";
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", "")) << "missing";
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", token.substr(1))) << "short";
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", token + "0")) << "long";
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", std::string(kCsrfTokenChars, '0'))) << "zeros";

  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != token) {
    EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", upper)) << "upper case";
  }

  // Any single changed character, in the nonce or in the MAC.
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", bad)) << "changed at " << i;
  }
  std::string junk = token;
  junk[3] = 'g';
  EXPECT_FALSE(signer.Check(CsrfScope::kSession, "session-a", junk)) << "not hex";
}

TEST(Csrf, RandomHex) {
  auto a = RandomHex(16), b = RandomHex(16);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace keyward::web
