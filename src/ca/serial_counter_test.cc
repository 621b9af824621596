// The serial counter: consecutive blocks, never 0, never reused, durable
// before use, safe between processes, and never guessed when damaged.
#include "ca/serial_counter.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "ca/ca_test_util.h"
#include "ca/issuance_log.h"

namespace keyward::ca {
namespace {

using testing::TempCaDir;

TEST(SerialCounter, StartsAtOneAndHandsOutBlocks) {
  TempCaDir dir;
  auto a = ReserveSerials(dir.fd(), 1);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->first, 1u);
  EXPECT_EQ(dir.Read(kSerialFile), "2\n");
  auto b = ReserveSerials(dir.fd(), 1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, 2u);
  EXPECT_EQ(b->count, 1000u);
  EXPECT_EQ(dir.Read(kSerialFile), "1002\n");
  EXPECT_EQ(*PeekNextSerial(dir.fd()), 1002u);
  EXPECT_FALSE(ReserveSerials(dir.fd(), 0));
  EXPECT_FALSE(ReserveSerials(dir.fd(), kMaxSerialBlock + 1));
}

TEST(SerialCounter, InitKeepsAnExistingCounter) {
  TempCaDir dir;
  ASSERT_TRUE(InitSerialCounter(dir.fd()));
  EXPECT_EQ(dir.Read(kSerialFile), "1\n");
  ASSERT_TRUE(ReserveSerials(dir.fd(), 5));
  ASSERT_TRUE(InitSerialCounter(dir.fd()));
  EXPECT_EQ(dir.Read(kSerialFile), "6\n");
}

TEST(SerialCounter, NeverGuessesADamagedCounter) {
  TempCaDir dir;
  for (const char* bad : {"", "\n", "0\n", "12", "12\n\n", "-3\n", "abc\n", " 5\n", "18446744073709551616\n"}) {
    dir.Write(kSerialFile, bad);
    auto r = ReserveSerials(dir.fd(), 1);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_serial_counter") << bad;
    EXPECT_EQ(dir.Read(kSerialFile), bad);
  }
  dir.Write(kSerialFile, "18446744073709551615\n");
  auto full = ReserveSerials(dir.fd(), 1);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "serials_exhausted");
}

TEST(SerialCounter, AMissingCounterWithHistoryIsRefused) {
  TempCaDir dir;
  dir.Write(kIssuanceLogFile, "{\"serial\":7}\n");
  auto r = ReserveSerials(dir.fd(), 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "serial_counter_missing");
  EXPECT_FALSE(dir.Exists(kSerialFile));
}

TEST(SerialCounter, RefusesAGroupWritableCounter) {
  TempCaDir dir;
  dir.Write(kSerialFile, "5\n", 0666);
  EXPECT_FALSE(ReserveSerials(dir.fd(), 1));
}

// Processes reserving at the same time never get the same serial.
TEST(SerialCounter, ConcurrentProcessesNeverShareASerial) {
  TempCaDir dir;
  constexpr int kProcesses = 4, kRounds = 25;
  int pipes[kProcesses][2];
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    ASSERT_EQ(pipe(pipes[p]), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipes[p][0]);
      for (int i = 0; i < kRounds; ++i) {
        auto block = ReserveSerials(dir.fd(), 3);
        std::uint64_t first = block ? block->first : 0;
        if (write(pipes[p][1], &first, sizeof first) != sizeof first) _exit(2);
      }
      _exit(0);
    }
    close(pipes[p][1]);
    children.push_back(pid);
  }
  std::set<std::uint64_t> seen;
  for (int p = 0; p < kProcesses; ++p) {
    std::uint64_t first = 0;
    while (read(pipes[p][0], &first, sizeof first) == sizeof first) {
      ASSERT_NE(first, 0u);
      for (std::uint64_t s = first; s < first + 3; ++s) EXPECT_TRUE(seen.insert(s).second) << s;
    }
    close(pipes[p][0]);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kProcesses * kRounds * 3));
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), static_cast<std::uint64_t>(kProcesses * kRounds * 3));
}

}  // namespace
}  // namespace keyward::ca
