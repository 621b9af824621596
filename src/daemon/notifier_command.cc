// Running a configured program with the message on standard input:
// posix_spawn, no shell, nothing of ours leaking into the child, and a hard
// timeout.
//
// posix_spawn rather than fork: glibc starts the child with
// clone(CLONE_VM|CLONE_VFORK), so keywardd's page tables are not copied and
// its pages not faulted in again for a child that only execs (an alert per
// change made that cost show). The child's set-up (descriptors, signals,
// process group, folder) is what the spawn attributes and file actions say.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "daemon/notifier.h"
#include "fs/safe_file.h"

namespace keyward::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using fs::UniqueFd;

constexpr std::size_t kMaxInputBytes = 1 << 20;
constexpr std::size_t kMaxArgs = 256;

// The child's whole environment: the daemon's may hold anything.
constexpr const char* kChildEnv[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                     "LANG=C.UTF-8", nullptr};

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

// Waits for `pid` until `deadline`; false on timeout (the child still runs).
bool WaitUntil(pid_t pid, Clock::time_point deadline, int* status) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  UniqueFd owned(pidfd);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *status = -1;  // ECHILD: someone else reaped it (SIGCHLD ignored?)
      return true;
    }
    int left = MillisLeft(deadline);
    if (left == 0) return false;
    if (pidfd >= 0) {
      struct pollfd p {pidfd, POLLIN, 0};
      poll(&p, 1, left);
    } else {
      usleep(5000);  // kernels before 5.3
    }
  }
}

Result<void> CheckArgv(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Fail("bad_command", "the notify command must start with an absolute program path (it runs without a shell)");
  }
  if (argv.size() > kMaxArgs) return Fail("bad_command", "the notify command has too many arguments");
  for (const auto& arg : argv) {
    if (arg.find('\0') != std::string::npos) return Fail("bad_command", "a notify command argument holds a NUL byte");
  }
  return {};
}

tl::unexpected<Error> SysFail(const std::string& program, const char* what) {
  return Fail("command_failed", "cannot run " + program + " (" + what + "): " + std::strerror(errno));
}

// Writes all of `input` before `deadline`. A child that exits without
// reading is not an error here: its exit status decides.
void FeedInput(int fd, std::string_view input, Clock::time_point deadline) {
  while (!input.empty()) {
    ssize_t n = send(fd, input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      input.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p {fd, POLLOUT, 0};
      if (poll(&p, 1, MillisLeft(deadline)) <= 0) return;
      continue;
    }
    return;  // EPIPE and the like
  }
}

class CommandNotifier final : public Notifier {
 public:
  CommandNotifier(std::vector<std::string> argv, std::chrono::milliseconds timeout)
      : argv_(std::move(argv)), timeout_(timeout) {}
  std::string name() const override { return "command"; }

  Result<void> Send(const Message& message) override {
    if (auto ok = ValidateArgumentRecipient(message.to); !ok) return ok;
    if (message.body.size() + message.subject.size() > kMaxMessageBytes) {
      return Fail("bad_message", "the message is too long");
    }
    std::vector<std::string> argv = argv_;
    argv.push_back(message.to);
    return RunCommandWithInput(argv, message.body, timeout_);
  }

 private:
  std::vector<std::string> argv_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Result<void> RunCommandWithInput(const std::vector<std::string>& argv, std::string_view input,
                                 std::chrono::milliseconds timeout) {
  if (auto ok = CheckArgv(argv); !ok) return ok;
  if (input.size() > kMaxInputBytes) return Fail("bad_message", "the input for the notify command is too long");
  const std::string& program = argv[0];
  const auto deadline = Clock::now() + timeout;

  std::vector<std::string> args = argv;  // execve wants char*, not const char*
  std::vector<char*> arg_ptrs;
  for (auto& a : args) arg_ptrs.push_back(a.data());
  arg_ptrs.push_back(nullptr);

  int pair[2];
  // A socket rather than a pipe for standard input: send(MSG_NOSIGNAL) gets
  // EPIPE instead of a SIGPIPE that would kill the daemon.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return SysFail(program, "socketpair");
  UniqueFd ours(pair[0]), theirs(pair[1]);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return SysFail(program, "/dev/null");
  // Above 2, so that one dup2 cannot clobber the other's source when the
  // daemon runs with 0, 1 or 2 closed.
  for (UniqueFd* fd : {&theirs, &null}) {
    if (fd->get() < 3) {
      UniqueFd moved(fcntl(fd->get(), F_DUPFD_CLOEXEC, 3));
      if (!moved.valid()) return SysFail(program, "fcntl");
      *fd = std::move(moved);
    }
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (posix_spawn_file_actions_init(&actions) != 0) return SysFail(program, "posix_spawn_file_actions_init");
  if (posix_spawnattr_init(&attr) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return SysFail(program, "posix_spawnattr_init");
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // Its own process group, so the timeout kills what it started too; no
  // blocked signals, and every handler at its default (ignored ones would
  // survive execve otherwise). Descriptors a library opened without
  // O_CLOEXEC must not leak: everything above 2 is closed.
  int setup = posix_spawn_file_actions_adddup2(&actions, theirs.get(), 0);
  if (setup == 0) setup = posix_spawn_file_actions_adddup2(&actions, null.get(), 1);
  if (setup == 0) setup = posix_spawn_file_actions_adddup2(&actions, null.get(), 2);
  if (setup == 0) setup = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (setup == 0) setup = posix_spawn_file_actions_addchdir_np(&actions, "/");
  if (setup == 0) setup = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                             POSIX_SPAWN_SETSIGDEF);
  if (setup == 0) setup = posix_spawnattr_setpgroup(&attr, 0);
  if (setup == 0) setup = posix_spawnattr_setsigmask(&attr, &none);
  if (setup == 0) setup = posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = -1;
  int spawned = setup != 0 ? setup
                           : posix_spawn(&pid, program.c_str(), &actions, &attr, arg_ptrs.data(),
                                         const_cast<char* const*>(kChildEnv));
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    // glibc reports a failed execve here (the child shares our memory
    // until it has exec'd).
    return Fail("command_failed", "cannot run " + program + ": " + std::strerror(spawned));
  }
  theirs = UniqueFd();
  null = UniqueFd();
  FeedInput(ours.get(), input, deadline);
  ours = UniqueFd();  // end of input

  int status = 0;
  if (!WaitUntil(pid, deadline, &status)) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Fail("command_timeout", program + " did not finish within " + std::to_string(timeout.count()) +
                                       " ms and was killed");
  }
  if (status == -1) return Fail("command_failed", program + " ended, but its exit status was lost (SIGCHLD ignored?)");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status)) {
    return Fail("command_failed", program + " failed with exit status " + std::to_string(WEXITSTATUS(status)));
  }
  return Fail("command_failed", program + " was killed by signal " + std::to_string(WTERMSIG(status)));
}

std::unique_ptr<Notifier> MakeCommandNotifier(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  return std::make_unique<CommandNotifier>(std::move(argv), timeout);
}

}  // namespace keyward::daemon
