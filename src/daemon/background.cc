#include "daemon/background.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "daemon/as_user.h"
#include "daemon/log.h"
#include "fs/privilege.h"

namespace keyward::daemon {

namespace {

// pid -> what; only this file's children (RunAsUser waits for its own).
std::map<pid_t, std::string>& Jobs() {
  static std::map<pid_t, std::string> jobs;
  return jobs;
}

std::optional<JobIdentity>& Identity() {
  static std::optional<JobIdentity> identity;
  return identity;
}

}  // namespace

void SetBackgroundIdentity(JobIdentity identity) {
  // Read once: every sender drops to these groups without loading the group
  // database in its child (a failure leaves the child to look them up).
  if (!identity.groups && geteuid() == 0) {
    if (auto groups = fs::UserGroups(identity.name, identity.gid)) identity.groups = std::move(*groups);
  }
  Identity() = std::move(identity);
}

Result<pid_t> RunInBackground(const std::string& what, std::function<Result<void>()> job, JobRights rights) {
  ReapBackgroundJobs();
  if (Jobs().size() >= kMaxBackgroundJobs) {
    return Fail("busy", "too many background jobs are still running; " + what + " was not started");
  }
  pid_t pid = fork();
  if (pid < 0) return Fail("internal", std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    PrepareChild();
    if (rights == JobRights::kNotifyUser && Identity() && geteuid() == 0) {
      // Never send as root: a sender that cannot drop does not send.
      const std::vector<gid_t>* groups = Identity()->groups ? &*Identity()->groups : nullptr;
      if (auto dropped = fs::DropPrivileges(Identity()->name, Identity()->uid, Identity()->gid, groups); !dropped) {
        Log(what + " not sent: cannot become " + Identity()->name + ": " + dropped.error().message);
        _exit(1);
      }
    }
    auto ok = job();
    // The error says what failed, never the message (it may hold a code).
    if (!ok) Log(what + " failed: " + ok.error().message);
    _exit(ok ? 0 : 1);
  }
  Jobs().emplace(pid, what);
  return pid;
}

bool BackgroundJobRunning(pid_t pid) { return Jobs().count(pid) != 0; }

void ReapBackgroundJobs() {
  auto& jobs = Jobs();
  for (auto it = jobs.begin(); it != jobs.end();) {
    int status = 0;
    pid_t r = waitpid(it->first, &status, WNOHANG);
    if (r == 0) {
      ++it;
      continue;
    }
    if (r > 0 && WIFSIGNALED(status)) Log(it->second + ": killed by signal " + std::to_string(WTERMSIG(status)));
    it = jobs.erase(it);
  }
}

void WaitForBackgroundJobs(int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!Jobs().empty() && std::chrono::steady_clock::now() < deadline) {
    ReapBackgroundJobs();
    if (!Jobs().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::size_t RunningBackgroundJobs() { return Jobs().size(); }

}  // namespace keyward::daemon
