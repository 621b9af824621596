// RunAsUser: the work runs in a child, with the account's rights, and only
// its JSON answer comes back.
#include "daemon/as_user.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace keyward::daemon {
namespace {

using nlohmann::json;

store::Account Self() { return {"self", geteuid(), getegid(), "/"}; }

TEST(RunAsUser, ResultsAndErrorsComeBack) {
  pid_t parent = getpid();
  auto r = RunAsUser(Self(), [parent]() -> Result<json> {
    return json{{"pid_differs", getpid() != parent}, {"text", "ünï\ncode"}};
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["pid_differs"], true);
  EXPECT_EQ((*r)["text"], "ünï\ncode");

  auto e = RunAsUser(Self(), []() -> Result<json> { return Fail("duplicate_key", "already there"); });
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "duplicate_key");
  EXPECT_EQ(e.error().message, "already there");
}

TEST(RunAsUser, TheChildCannotChangeTheParent) {
  int value = 1;
  auto r = RunAsUser(Self(), [&value]() -> Result<json> {
    value = 2;
    return json(value);
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(value, 1);
}

TEST(RunAsUser, CrashesAndHangsAreInternalErrors) {
  auto crashed = RunAsUser(Self(), []() -> Result<json> {
    raise(SIGKILL);  // as a crash would end it, without a sanitizer report
    return json();
  });
  ASSERT_FALSE(crashed);
  EXPECT_EQ(crashed.error().code, "internal");

  auto exited = RunAsUser(Self(), []() -> Result<json> { _exit(3); });
  ASSERT_FALSE(exited);
  EXPECT_EQ(exited.error().code, "internal");

  auto hung = RunAsUser(
      Self(),
      []() -> Result<json> {
        pause();
        return json();
      },
      std::chrono::milliseconds(200));
  ASSERT_FALSE(hung);
  EXPECT_EQ(hung.error().code, "internal");
}

TEST(RunAsUser, TheDaemonsPrivateDescriptorsStayBehind) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  MarkPrivateFd(fds[0]);
  auto r = RunAsUser(Self(), [&fds]() -> Result<json> {
    return json{{"private_open", fcntl(fds[0], F_GETFD) != -1}, {"other_open", fcntl(fds[1], F_GETFD) != -1}};
  });
  UnmarkPrivateFd(fds[0]);
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["private_open"], false);
  EXPECT_EQ((*r)["other_open"], true);
}

TEST(RunAsUser, DropsToTheAccountFirst) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  store::Account nobody{"nobody", 65534, 65534, "/nonexistent"};
  auto r = RunAsUser(nobody, []() -> Result<json> {
    uid_t ru, eu, su;
    getresuid(&ru, &eu, &su);
    return json{{"uid", ru}, {"euid", eu}, {"suid", su}, {"egid", getegid()}, {"root_again", setuid(0) == 0}};
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["uid"], 65534);
  EXPECT_EQ((*r)["euid"], 65534);
  EXPECT_EQ((*r)["suid"], 65534);
  EXPECT_EQ((*r)["egid"], 65534);
  EXPECT_EQ((*r)["root_again"], false);
  EXPECT_EQ(geteuid(), 0u);  // the parent is unchanged
}

}  // namespace
}  // namespace keyward::daemon
