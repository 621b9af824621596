// Pending logins: single use, a fixed lifetime, dead after max_tries wrong
// codes, and a login for nobody that never succeeds.
#include "factor/codes.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "factor/totp.h"
#include "factor/totp_steps.h"

namespace keyward::factor {
namespace {

class CodeBookTest : public ::testing::Test {
 protected:
  CodeBook Make(CodeBookSettings s = {}) {
    auto book = CodeBook::Create(s, [this] { return now_; }, [this] { return wall_; });
    EXPECT_TRUE(book);
    return std::move(*book);
  }
  std::int64_t now_ = 1000;
  std::int64_t wall_ = 1700000000;
};

TEST_F(CodeBookTest, RightCodeOpensOnceOnly) {
  CodeBook book = Make();
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  EXPECT_EQ(handle->size(), 64u);
  auto first = book.Verify(*handle, "123456");
  EXPECT_EQ(first.verdict, Verdict::kOk);
  EXPECT_EQ(first.account, "alice");
  // Reusing the code: the login is gone.
  auto again = book.Verify(*handle, "123456");
  EXPECT_EQ(again.verdict, Verdict::kExpired);
  EXPECT_TRUE(again.account.empty());
  EXPECT_EQ(book.pending(), 0u);
}

TEST_F(CodeBookTest, BlanksBetweenDigitsAreAllowed) {
  CodeBook book = Make();
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  EXPECT_EQ(book.Verify(*handle, "123 456").verdict, Verdict::kOk);
}

TEST_F(CodeBookTest, FiveWrongTriesThenDeadEvenForTheRightCode) {
  CodeBook book = Make();
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(book.Verify(*handle, "00000" + std::to_string(i)).verdict, Verdict::kBadCode) << i;
  }
  auto sixth = book.Verify(*handle, "123456");
  EXPECT_EQ(sixth.verdict, Verdict::kTooManyTries);
  EXPECT_TRUE(sixth.account.empty());
  EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kTooManyTries);
}

TEST_F(CodeBookTest, FourWrongTriesStillLeaveTheRightCode) {
  CodeBook book = Make();
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(book.Verify(*handle, "999999").verdict, Verdict::kBadCode);
  EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kOk);
}

TEST_F(CodeBookTest, MaxTriesIsASetting) {
  CodeBookSettings s;
  s.max_tries = 2;
  CodeBook book = Make(s);
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  EXPECT_EQ(book.Verify(*handle, "1").verdict, Verdict::kBadCode);
  EXPECT_EQ(book.Verify(*handle, "2").verdict, Verdict::kBadCode);
  EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kTooManyTries);
}

TEST_F(CodeBookTest, CodesExpire) {
  CodeBookSettings s;
  s.ttl = 300;
  CodeBook book = Make(s);
  auto handle = book.StartCode("alice", "123456");
  ASSERT_TRUE(handle);
  now_ += 299;
  auto early = book.StartCode("alice", "654321");
  ASSERT_TRUE(early);
  now_ += 1;  // 300 s after the first
  EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kExpired);
  EXPECT_EQ(book.Verify(*early, "654321").verdict, Verdict::kOk);
}

TEST_F(CodeBookTest, CodesAreBoundToTheirHandle) {
  CodeBook book = Make();
  auto alice = book.StartCode("alice", "111111");
  auto bob = book.StartCode("bob", "222222");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(book.Verify(*alice, "222222").verdict, Verdict::kBadCode);
  auto ok = book.Verify(*bob, "222222");
  EXPECT_EQ(ok.verdict, Verdict::kOk);
  EXPECT_EQ(ok.account, "bob");
}

TEST_F(CodeBookTest, UnknownHandlesLookExpired) {
  CodeBook book = Make();
  EXPECT_EQ(book.Verify("", "123456").verdict, Verdict::kExpired);
  EXPECT_EQ(book.Verify(std::string(64, 'a'), "123456").verdict, Verdict::kExpired);
}

TEST_F(CodeBookTest, NobodyNeverSucceeds) {
  CodeBook book = Make();
  auto handle = book.StartNobody();
  ASSERT_TRUE(handle);
  EXPECT_EQ(handle->size(), 64u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kBadCode);
  EXPECT_EQ(book.Verify(*handle, "123456").verdict, Verdict::kTooManyTries);
}

TEST_F(CodeBookTest, TotpLoginsTakeTheAppsCodeOnce) {
  CodeBook book = Make();
  Bytes secret(20, 0x42);
  auto handle = book.StartTotp("alice", secret);
  ASSERT_TRUE(handle);
  std::string code = TotpAt(secret, wall_);
  EXPECT_EQ(book.Verify(*handle, "000000" == code ? "111111" : "000000").verdict, Verdict::kBadCode);
  auto ok = book.Verify(*handle, code);
  EXPECT_EQ(ok.verdict, Verdict::kOk);
  EXPECT_EQ(ok.account, "alice");
  // A second login of the same account cannot replay the same step.
  auto second = book.StartTotp("alice", secret);
  ASSERT_TRUE(second);
  EXPECT_EQ(book.Verify(*second, code).verdict, Verdict::kBadCode);
  wall_ += kTotpStep;
  EXPECT_EQ(book.Verify(*second, TotpAt(secret, wall_)).verdict, Verdict::kOk);
}

// A restarted keywardd (a new CodeBook on the same file) still refuses a
// TOTP code that was used before the restart; other accounts are unharmed.
TEST_F(CodeBookTest, UsedTotpStepsSurviveARestart) {
  char dir[] = "/tmp/keyward-steps-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  CodeBookSettings settings;
  settings.used_steps_file = std::string(dir) + "/totp-used-steps";
  Bytes secret(20, 0x42);
  std::string code = TotpAt(secret, wall_);
  {
    CodeBook book = Make(settings);
    auto handle = book.StartTotp("alice", secret);
    ASSERT_TRUE(handle);
    EXPECT_EQ(book.Verify(*handle, code).verdict, Verdict::kOk);
  }
  struct stat st {};
  ASSERT_EQ(stat(settings.used_steps_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    CodeBook book = Make(settings);
    auto replay = book.StartTotp("alice", secret);
    ASSERT_TRUE(replay);
    EXPECT_EQ(book.Verify(*replay, code).verdict, Verdict::kBadCode);
    auto bob = book.StartTotp("bob", secret);
    ASSERT_TRUE(bob);
    EXPECT_EQ(book.Verify(*bob, code).verdict, Verdict::kOk);
  }
  // Steps older than the window are dropped from the file.
  wall_ += 10 * kTotpStep;
  {
    CodeBook book = Make(settings);
    auto handle = book.StartTotp("carol", secret);
    ASSERT_TRUE(handle);
    EXPECT_EQ(book.Verify(*handle, TotpAt(secret, wall_)).verdict, Verdict::kOk);
  }
  auto saved = LoadUsedSteps(settings.used_steps_file);
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->count("alice"), 0u);
  EXPECT_EQ(saved->count("carol"), 1u);
  std::remove(settings.used_steps_file.c_str());
  rmdir(dir);
}

TEST_F(CodeBookTest, FullBookSaysBusyUntilLoginsExpire) {
  CodeBookSettings s;
  s.max_pending = 3;
  s.ttl = 60;
  CodeBook book = Make(s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(book.StartCode("alice", "123456"));
  auto full = book.StartCode("alice", "123456");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "busy");
  now_ += 60;
  EXPECT_TRUE(book.StartCode("alice", "123456"));
  EXPECT_EQ(book.pending(), 1u);
}

TEST(Verdict, StableCodes) {
  EXPECT_STREQ(VerdictCode(Verdict::kOk), "ok");
  EXPECT_STREQ(VerdictCode(Verdict::kBadCode), "bad_code");
  EXPECT_STREQ(VerdictCode(Verdict::kExpired), "expired");
  EXPECT_STREQ(VerdictCode(Verdict::kTooManyTries), "too_many_tries");
}

}  // namespace
}  // namespace keyward::factor
