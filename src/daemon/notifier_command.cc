// Running a configured program with the message on standard input: fork
// and execve, no shell, nothing of ours leaking into the child, and a hard
// timeout.
//
// The daemon is multi-threaded, so between fork() and execve() the child
// calls only async-signal-safe functions; everything it needs (argv, envp,
// descriptors) is prepared before fork().
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

// Async-signal-safe only (runs between fork and execve). Never returns.
[[noreturn]] void ExecChild(char* const* argv, int stdin_fd, int null_fd, int error_fd, int max_fd) {
  setpgid(0, 0);  // its own group, so the timeout kills what it started too
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // ignored ones survive execve otherwise
  // Move the descriptors above 2 first, so that dup2 cannot clobber one of
  // them when the daemon runs with 0, 1 or 2 closed.
  int in = fcntl(stdin_fd, F_DUPFD, 3);
  int out = fcntl(null_fd, F_DUPFD, 3);
  int err = fcntl(error_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
  // Close everything else but the exec-error pipe (close-on-exec itself):
  // descriptors a library opened without O_CLOEXEC must not leak.
  bool closed = (err == 3 || syscall(SYS_close_range, 3u, static_cast<unsigned>(err - 1), 0u) == 0) &&
                syscall(SYS_close_range, static_cast<unsigned>(err + 1), ~0u, 0u) == 0;
  for (int fd = 3; !closed && fd < max_fd; ++fd) {  // kernels before 5.9
    if (fd != err) close(fd);
  }
  if (chdir("/") != 0) _exit(127);
  execve(argv[0], argv, const_cast<char* const*>(kChildEnv));
  int e = errno;
  ssize_t ignored = write(err, &e, sizeof e);
  (void)ignored;
  _exit(127);
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
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return SysFail(program, "pipe");
  UniqueFd error_read(errpipe[0]), error_write(errpipe[1]);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return SysFail(program, "/dev/null");

  long open_max = sysconf(_SC_OPEN_MAX);  // not async-signal-safe: ask before fork
  int max_fd = open_max > 0 && open_max < (1 << 20) ? static_cast<int>(open_max) : (1 << 16);

  pid_t pid = fork();
  if (pid < 0) return SysFail(program, "fork");
  if (pid == 0) ExecChild(arg_ptrs.data(), theirs.get(), null.get(), error_write.get(), max_fd);
  setpgid(pid, pid);  // as the child does: whichever runs first, the group exists before a kill
  theirs = UniqueFd();
  error_write = UniqueFd();
  null = UniqueFd();

  // The exec-error pipe closes on a successful execve, or carries errno.
  int exec_errno = 0;
  struct pollfd p {error_read.get(), POLLIN, 0};
  if (poll(&p, 1, MillisLeft(deadline)) > 0) {
    ssize_t n;
    do n = read(error_read.get(), &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
  }
  if (exec_errno == 0) FeedInput(ours.get(), input, deadline);
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
  if (exec_errno != 0) {
    return Fail("command_failed", "cannot run " + program + ": " + std::strerror(exec_errno));
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
