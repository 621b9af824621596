// UserWorkers: one child per account that stays for the next request, and
// goes when it misbehaves, idles or the account moves.
#include "daemon/user_workers.h"

#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace keyward::daemon {
namespace {

using nlohmann::json;

store::Account Self(const std::string& name = "self") { return {name, geteuid(), getegid(), "/"}; }

// Echoes the request with the worker's pid; "crash", "sleep" and "big" do
// what they say.
Result<json> Echo(const json& r) {
  const std::string op = r.value("op", "");
  if (op == "crash") _exit(3);
  if (op == "sleep") sleep(5);
  if (op == "big") return json{{"text", std::string(kMaxAsUserReplyBytes + 1, 'x')}};
  if (op == "fail") return Fail("no_match", "nothing");
  return json{{"pid", getpid()}, {"echo", r}, {"uid", geteuid()}};
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

TEST(UserWorkers, OneWorkerServesManyRequests) {
  UserWorkers workers;
  pid_t first = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = workers.Ask(Self(), "here", Echo, {{"op", "echo"}, {"n", i}, {"text", "ünï\ncode"}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)["echo"]["n"], i);
    EXPECT_EQ((*r)["echo"]["text"], "ünï\ncode");
    EXPECT_NE((*r)["pid"].get<pid_t>(), getpid()) << "in a child";
    if (i == 0) first = (*r)["pid"].get<pid_t>();
    EXPECT_EQ((*r)["pid"].get<pid_t>(), first) << "the same child every time";
  }
  EXPECT_EQ(workers.running(), 1u);
  EXPECT_EQ(workers.pid_of("self"), first);
  auto e = workers.Ask(Self(), "here", Echo, {{"op", "fail"}});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "no_match");
  EXPECT_EQ(workers.pid_of("self"), first) << "an error answer is an answer";
  workers.StopAll();
  EXPECT_EQ(workers.running(), 0u);
  EXPECT_FALSE(Alive(first)) << "stopped and reaped";
}

TEST(UserWorkers, EachAccountHasItsOwnAndAMoveStartsAnother) {
  UserWorkers workers;
  auto a = workers.Ask(Self("a"), "here", Echo, {{"op", "echo"}});
  auto b = workers.Ask(Self("b"), "here", Echo, {{"op", "echo"}});
  ASSERT_TRUE(a && b);
  EXPECT_NE((*a)["pid"], (*b)["pid"]);
  pid_t old = (*a)["pid"];
  auto moved = workers.Ask(Self("a"), "elsewhere", Echo, {{"op", "echo"}});
  ASSERT_TRUE(moved);
  EXPECT_NE((*moved)["pid"].get<pid_t>(), old) << "another place, another worker";
  EXPECT_FALSE(Alive(old));
  EXPECT_EQ(workers.running(), 2u);
}

TEST(UserWorkers, ACrashFailsTheRequestAndTheNextOneGetsAFreshWorker) {
  UserWorkers workers;
  auto first = workers.Ask(Self(), "here", Echo, {{"op", "echo"}});
  ASSERT_TRUE(first);
  auto crash = workers.Ask(Self(), "here", Echo, {{"op", "crash"}});
  ASSERT_FALSE(crash);
  EXPECT_EQ(crash.error().code, "internal");
  EXPECT_EQ(workers.running(), 0u);
  auto next = workers.Ask(Self(), "here", Echo, {{"op", "echo"}});
  ASSERT_TRUE(next);
  EXPECT_NE((*next)["pid"], (*first)["pid"]);
}

TEST(UserWorkers, AWorkerKilledWhileIdleIsReplacedAndTheRequestDone) {
  UserWorkers workers;
  auto first = workers.Ask(Self(), "here", Echo, {{"op", "echo"}});
  ASSERT_TRUE(first);
  pid_t pid = (*first)["pid"];
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  usleep(50000);
  auto again = workers.Ask(Self(), "here", Echo, {{"op", "echo"}, {"n", 7}});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)["echo"]["n"], 7);
  EXPECT_NE((*again)["pid"].get<pid_t>(), pid);
}

TEST(UserWorkers, SlowOrTalkativeWorkersAreKilled) {
  UserWorkers workers;
  auto slow = workers.Ask(Self(), "here", Echo, {{"op", "sleep"}}, std::chrono::milliseconds(200));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, "internal");
  EXPECT_EQ(workers.running(), 0u);
  auto big = workers.Ask(Self(), "here", Echo, {{"op", "big"}});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, "internal");
  EXPECT_EQ(workers.running(), 0u);
}

TEST(UserWorkers, TheLeastRecentlyUsedGoesFirstWhenFull) {
  UserWorkers workers;
  for (std::size_t i = 0; i < kMaxWorkers; ++i) {
    ASSERT_TRUE(workers.Ask(Self("u" + std::to_string(i)), "here", Echo, {{"op", "echo"}}));
  }
  ASSERT_TRUE(workers.Ask(Self("u0"), "here", Echo, {{"op", "echo"}}));  // u1 is now the oldest
  pid_t u1 = workers.pid_of("u1");
  ASSERT_TRUE(workers.Ask(Self("new"), "here", Echo, {{"op", "echo"}}));
  EXPECT_EQ(workers.running(), kMaxWorkers);
  EXPECT_EQ(workers.pid_of("u1"), 0);
  EXPECT_NE(workers.pid_of("u0"), 0);
  EXPECT_FALSE(Alive(u1));
}

int Sockets(const std::string& fd_dir) {
  int n = 0;
  if (DIR* d = opendir(fd_dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      char target[64] = {};
      std::string path = fd_dir + "/" + e->d_name;
      if (readlink(path.c_str(), target, sizeof target - 1) > 0 && std::string(target).rfind("socket:", 0) == 0) ++n;
    }
    closedir(d);
  }
  return n;
}

// A worker never holds another worker's end of its socket: closing ours
// ends that worker (it reads the end of its input) even with many running.
TEST(UserWorkers, WorkersDoNotKeepEachOthersSocketsOpen) {
  const int before = Sockets("/proc/self/fd");
  UserWorkers workers;
  ASSERT_TRUE(workers.Ask(Self("a"), "here", Echo, {{"op", "echo"}}));
  ASSERT_TRUE(workers.Ask(Self("b"), "here", Echo, {{"op", "echo"}}));
  ASSERT_TRUE(workers.Ask(Self("c"), "here", Echo, {{"op", "echo"}}));
  EXPECT_EQ(Sockets("/proc/self/fd"), before + 3) << "ours: one per worker";
  EXPECT_EQ(Sockets("/proc/" + std::to_string(workers.pid_of("c")) + "/fd"), before + 1)
      << "c holds its own end and nothing of a's or b's";
}

}  // namespace
}  // namespace keyward::daemon
