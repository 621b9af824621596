// Sessions: bound to one account, idle and absolute lifetimes.
#include "factor/sessions.h"

#include <gtest/gtest.h>

namespace keyward::factor {
namespace {

class SessionsTest : public ::testing::Test {
 protected:
  Sessions Make(SessionSettings s = {}) {
    return Sessions(s, [this] { return now_; });
  }
  std::int64_t now_ = 5000;
};

TEST_F(SessionsTest, ATokenNamesItsAccount) {
  Sessions s = Make();
  auto alice = s.Open("alice");
  auto bob = s.Open("bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->size(), 64u);
  EXPECT_NE(*alice, *bob);
  EXPECT_EQ(s.Check(*alice)->account, "alice");
  EXPECT_EQ(s.Check(*bob)->account, "bob");
  EXPECT_FALSE(s.Check(""));
  EXPECT_FALSE(s.Check(std::string(64, '0')));
  // A token differing in one digit is another (unknown) token.
  std::string near = *alice;
  near.back() = near.back() == '0' ? '1' : '0';
  EXPECT_FALSE(s.Check(near));
}

TEST_F(SessionsTest, IdleLifetime) {
  SessionSettings settings;
  settings.idle = 600;
  settings.max = 3600;
  Sessions s = Make(settings);
  auto t = s.Open("alice");
  ASSERT_TRUE(t);
  EXPECT_EQ(s.Check(*t)->expires_in, 600);
  now_ += 599;
  ASSERT_TRUE(s.Check(*t));  // renews
  now_ += 599;
  ASSERT_TRUE(s.Check(*t));
  now_ += 600;
  EXPECT_FALSE(s.Check(*t));
  EXPECT_FALSE(s.Check(*t));  // and stays gone
}

TEST_F(SessionsTest, AbsoluteLifetimeEvenWhenBusy) {
  SessionSettings settings;
  settings.idle = 600;
  settings.max = 1000;
  Sessions s = Make(settings);
  auto t = s.Open("alice");
  ASSERT_TRUE(t);
  now_ += 500;
  auto a = s.Check(*t);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->expires_in, 500);  // the absolute end is nearer than the idle one
  now_ += 499;
  ASSERT_TRUE(s.Check(*t));
  now_ += 1;
  EXPECT_FALSE(s.Check(*t));
}

TEST_F(SessionsTest, CloseEndsOnlyThatSession) {
  Sessions s = Make();
  auto one = s.Open("alice");
  auto two = s.Open("alice");
  ASSERT_TRUE(one && two);
  EXPECT_TRUE(s.Close(*one));
  EXPECT_FALSE(s.Close(*one));
  EXPECT_FALSE(s.Check(*one));
  EXPECT_TRUE(s.Check(*two));
}

TEST_F(SessionsTest, FullTableSaysBusyUntilSessionsEnd) {
  SessionSettings settings;
  settings.idle = 60;
  settings.max = 60;
  settings.max_sessions = 2;
  Sessions s = Make(settings);
  ASSERT_TRUE(s.Open("a"));
  ASSERT_TRUE(s.Open("b"));
  auto full = s.Open("c");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "busy");
  now_ += 60;
  EXPECT_TRUE(s.Open("c"));
  EXPECT_EQ(s.size(), 1u);
}

}  // namespace
}  // namespace keyward::factor
