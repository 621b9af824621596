#include "daemon/user_workers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "daemon/log.h"
#include "fs/privilege.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Writes all of `data`; false when the other end is gone or the deadline
// passed.
bool SendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      struct pollfd p {fd, POLLOUT, 0};
      poll(&p, 1, static_cast<int>(left));
      continue;
    }
    return false;
  }
  return true;
}

json ReplyOf(const Result<json>& result) {
  if (result) return {{"ok", true}, {"result", *result}};
  return {{"ok", false}, {"error", {{"code", result.error().code}, {"message", result.error().message}}}};
}

// The worker: one request line in, one reply line out, until keywardd
// closes its end. Blocking reads: it has nothing else to do.
[[noreturn]] void WorkerMain(int fd, const store::Account& account, const std::vector<gid_t>* groups,
                             const WorkerServe& serve) {
  PrepareChild();
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  auto dropped = fs::DropPrivileges(account.name, account.uid, account.gid, groups);
  std::string in;
  char buf[65536];
  for (;;) {
    std::size_t nl;
    while ((nl = in.find('\n')) == std::string::npos) {
      if (in.size() > kMaxWorkerRequestBytes) _exit(2);
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);  // keywardd is done with us
      in.append(buf, static_cast<std::size_t>(n));
    }
    json request = json::parse(std::string_view(in).substr(0, nl), nullptr, /*allow_exceptions=*/false);
    in.erase(0, nl + 1);
    Result<json> result = !dropped                ? Result<json>(Fail(dropped.error()))
                          : request.is_discarded() ? Result<json>(Fail("internal", "unreadable request"))
                                                   : serve(request);
    std::string line = ReplyOf(result).dump(-1, ' ', false, json::error_handler_t::replace);
    line += '\n';
    std::string_view out = line;
    while (!out.empty()) {
      ssize_t n = write(fd, out.data(), out.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);
      out.remove_prefix(static_cast<std::size_t>(n));
    }
  }
}

tl::unexpected<Error> Internal(const std::string& why) {
  Log("worker: " + why);
  return Fail("internal", "keywardd could not do that; the administrator can see why in its log");
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<UserWorkers::Worker*> UserWorkers::Start(const store::Account& account, const std::string& place,
                                                const WorkerServe& serve) {
  if (workers_.size() >= kMaxWorkers) {
    auto oldest = std::min_element(workers_.begin(), workers_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    Stop(oldest->first);
  }
  // The groups are read here, where the group database's modules stay
  // loaded, not in the child.
  std::optional<std::vector<gid_t>> groups;
  if (geteuid() == 0 && account.uid != 0) {
    auto looked_up = fs::UserGroups(account.name, account.gid);
    if (!looked_up) return Internal(looked_up.error().message);
    groups = std::move(*looked_up);
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return Internal(std::string("socketpair: ") + std::strerror(errno));
  }
  fs::UniqueFd ours(pair[0]), theirs(pair[1]);
  // Every other child (another worker, an alert sender) closes our end, so
  // that this worker sees the end of its input when we close it.
  MarkPrivateFd(ours.get());
  pid_t pid = fork();
  if (pid < 0) {
    UnmarkPrivateFd(ours.get());
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) WorkerMain(theirs.get(), account, groups ? &*groups : nullptr, serve);
  theirs = fs::UniqueFd();
  Worker& w = workers_[account.name];
  w.pid = pid;
  w.fd = std::move(ours);
  w.place = place;
  w.last_used = Clock::now();
  w.pending.clear();
  return &w;
}

void UserWorkers::Stop(const std::string& account_name) {
  auto it = workers_.find(account_name);
  if (it == workers_.end()) return;
  UnmarkPrivateFd(it->second.fd.get());
  it->second.fd = fs::UniqueFd();
  KillAndReap(it->second.pid);
  workers_.erase(it);
}

void UserWorkers::StopIdle() {
  const auto now = Clock::now();
  std::vector<std::string> idle;
  for (const auto& [name, w] : workers_) {
    if (now - w.last_used > kWorkerIdle) idle.push_back(name);
  }
  for (const std::string& name : idle) Stop(name);
}

void UserWorkers::StopAll() {
  while (!workers_.empty()) Stop(workers_.begin()->first);
}

pid_t UserWorkers::pid_of(const std::string& account_name) const {
  auto it = workers_.find(account_name);
  return it == workers_.end() ? 0 : it->second.pid;
}

Result<json> UserWorkers::Ask(const store::Account& account, const std::string& place, const WorkerServe& serve,
                              const json& request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string who = "the worker for " + Shown(account.name);
  std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  if (line.size() > kMaxWorkerRequestBytes) return Internal("a request for " + who + " is too large");

  Worker* w = nullptr;
  if (auto it = workers_.find(account.name); it != workers_.end()) {
    if (it->second.place == place) w = &it->second;
    else Stop(account.name);  // the account moved: a new worker for the new place
  }
  if (w != nullptr && !SendAll(w->fd.get(), line, deadline)) {
    // Gone (killed, crashed while idle) or stuck before it had the whole
    // line: it did nothing with it, so a fresh worker may have it.
    Stop(account.name);
    w = nullptr;
  }
  if (w == nullptr) {
    auto started = Start(account, place, serve);
    if (!started) return Fail(started.error());
    w = *started;
    if (!SendAll(w->fd.get(), line, deadline)) {
      Stop(account.name);
      return Internal(who + " did not take its request");
    }
  }

  std::string& text = w->pending;
  std::size_t nl;
  while ((nl = text.find('\n')) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      Stop(account.name);
      return Internal(who + " took longer than " + std::to_string(timeout.count()) + " ms; killed");
    }
    struct pollfd p {w->fd.get(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // the deadline check above ends it
    char buf[65536];
    ssize_t n = read(w->fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Stop(account.name);
      return Internal(who + " ended without an answer");
    }
    if (text.size() + static_cast<std::size_t>(n) > kMaxAsUserReplyBytes) {
      Stop(account.name);
      return Internal(who + " answered more than the limit; killed");
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  json reply = json::parse(std::string_view(text).substr(0, nl), nullptr, /*allow_exceptions=*/false);
  text.erase(0, nl + 1);
  w->last_used = Clock::now();
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean() || !text.empty()) {
    Stop(account.name);
    return Internal(who + " gave no readable answer");
  }
  if (reply["ok"].get<bool>()) return reply.contains("result") ? reply["result"] : json();
  const json& e = reply["error"];
  if (!e.is_object() || !e.contains("code") || !e["code"].is_string() || !e.contains("message") ||
      !e["message"].is_string()) {
    Stop(account.name);
    return Internal(who + " gave a malformed error");
  }
  return Fail(e["code"].get<std::string>(), e["message"].get<std::string>());
}

}  // namespace keyward::daemon
