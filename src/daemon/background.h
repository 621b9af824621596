// Jobs that must not hold up the socket: sending a code or an alert can
// take seconds (Twilio, sendmail, a command), and so can rebuilding the KRL.
// Each runs in a forked child; the daemon does not wait for it, and reaps it
// from its loop. Forking rather than a thread keeps keywardd single-threaded,
// so that the forks of RunAsUser stay safe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace keyward::daemon {

inline constexpr std::size_t kMaxBackgroundJobs = 32;

// The user background jobs run as when keywardd is root (notify_user):
// messages are sent with no more rights than sending needs. Unset, or when
// keywardd is not root, jobs keep keywardd's identity.
struct JobIdentity {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<std::vector<gid_t>> groups;  // read by SetBackgroundIdentity when unset
};
void SetBackgroundIdentity(JobIdentity identity);

// Whose rights a job has. Messages go out as notify_user (above); a job
// that must write what only root may write (the KRL, the CA's revocation
// list) keeps keywardd's own identity.
enum class JobRights { kNotifyUser, kKeywardd };

// Starts `job` in a child and returns its pid at once. `what` names the job
// in the log ("code for alice"); never a secret. Fails when
// kMaxBackgroundJobs are still running or fork fails; the caller logs and
// goes on.
Result<pid_t> RunInBackground(const std::string& what, std::function<Result<void>()> job,
                              JobRights rights = JobRights::kNotifyUser);

// Whether the job started as `pid` has not been reaped yet.
bool BackgroundJobRunning(pid_t pid);

// Collects the children that have ended; logs those that failed.
void ReapBackgroundJobs();

// Waits up to `seconds` for the running jobs (at shutdown), then leaves.
void WaitForBackgroundJobs(int seconds);

std::size_t RunningBackgroundJobs();

}  // namespace keyward::daemon
