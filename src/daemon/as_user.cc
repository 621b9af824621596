#include "daemon/as_user.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include "daemon/log.h"
#include "fs/privilege.h"
#include "fs/safe_file.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::set<int>& PrivateFds() {
  static std::set<int> fds;
  return fds;
}

[[noreturn]] void Child(int out, const store::Account& account, const std::vector<gid_t>* groups,
                        const UserWork& work) {
  PrepareChild();
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  json reply;
  auto dropped = fs::DropPrivileges(account.name, account.uid, account.gid, groups);
  Result<json> result = dropped ? work() : Result<json>(Fail(dropped.error()));
  if (result) {
    reply = {{"ok", true}, {"result", std::move(*result)}};
  } else {
    reply = {{"ok", false}, {"error", {{"code", result.error().code}, {"message", result.error().message}}}};
  }
  WriteAll(out, reply.dump(-1, ' ', false, json::error_handler_t::replace));
  // _exit: no atexit handlers, no flushing of stdio buffers the parent owns.
  _exit(0);
}

tl::unexpected<Error> Internal(const std::string& why) {
  Log("as_user: " + why);
  return Fail("internal", "keywardd could not do that; the administrator can see why in its log");
}

}  // namespace

void MarkPrivateFd(int fd) { PrivateFds().insert(fd); }
void UnmarkPrivateFd(int fd) { PrivateFds().erase(fd); }

void PrepareChild() {
  for (int fd : PrivateFds()) close(fd);
  PrivateFds().clear();
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE}) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

Result<json> RunAsUser(const store::Account& account, const UserWork& work, std::chrono::milliseconds timeout) {
  // The groups are read here, where the group database's modules stay
  // loaded, not in every child.
  std::optional<std::vector<gid_t>> groups;
  if (geteuid() == 0 && account.uid != 0) {
    auto looked_up = fs::UserGroups(account.name, account.gid);
    if (!looked_up) return Internal(looked_up.error().message);
    groups = std::move(*looked_up);
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  fs::UniqueFd in(fds[0]);
  fs::UniqueFd out(fds[1]);
  pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    in = fs::UniqueFd();
    Child(out.get(), account, groups ? &*groups : nullptr, work);
  }
  out = fs::UniqueFd();

  std::string text;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false, too_big = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p {in.get(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      break;
    }
    char buf[65536];
    ssize_t n = read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (text.size() + static_cast<std::size_t>(n) > kMaxAsUserReplyBytes) {
      too_big = true;
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  if (timed_out || too_big) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string who = "the child for " + Shown(account.name);
  if (timed_out) return Internal(who + " took longer than " + std::to_string(timeout.count()) + " ms; killed");
  if (too_big) return Internal(who + " answered more than the limit; killed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal(who + (WIFSIGNALED(status) ? " died by signal " + std::to_string(WTERMSIG(status))
                                               : " exited with " + std::to_string(WEXITSTATUS(status))));
  }
  json reply = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
    return Internal(who + " gave no readable answer");
  }
  if (reply["ok"].get<bool>()) return reply.contains("result") ? reply["result"] : json();
  const json& e = reply["error"];
  if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
      !e["message"].is_string()) {
    return Internal(who + " gave a malformed error");
  }
  return Fail(e["code"].get<std::string>(), e["message"].get<std::string>());
}

}  // namespace keyward::daemon
