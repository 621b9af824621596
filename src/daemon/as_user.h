// Work on an account's files, done with that account's rights.
//
// keywardd runs as root, and a home folder is the user's to fill with
// symlinks, FIFOs and hard links. So root never opens anything in it:
// RunAsUser forks, the child drops to the account's uid and gid
// (fs::DropPrivileges: setgroups, setresgid, setresuid, checked) before
// doing anything else, does the work with the safe fs layer, and sends the
// result back over a pipe as JSON. Whatever the user planted, the child can
// reach no file the user could not reach already.
//
// The daemon is single-threaded, so fork() is safe; the child is made
// non-dumpable, so the user cannot ptrace it and read the daemon's memory
// (codes, sessions) that it inherited.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "store/account.h"

namespace keyward::daemon {

inline constexpr std::chrono::milliseconds kAsUserTimeout{15000};
inline constexpr std::size_t kMaxAsUserReplyBytes = std::size_t{32} << 20;

using UserWork = std::function<Result<nlohmann::json>()>;

// Runs `work` in a child with `account`'s rights; its result or error comes
// back as it was. A child that crashes, says too much, or outlives
// `timeout` (a hung NFS home) is killed and reported as "internal".
// When the daemon already runs as the account's uid (a directory account),
// the drop changes nothing; the work still runs in a child, the same way.
Result<nlohmann::json> RunAsUser(const store::Account& account, const UserWork& work,
                                 std::chrono::milliseconds timeout = kAsUserTimeout);

// What every child of keywardd does first: the signal mask and handlers
// the daemon set are put back to their defaults, and the daemon's private
// descriptors (the listening socket, the connections) are closed, so that
// a child neither holds a client's connection open nor can answer on it.
void PrepareChild();

// The descriptors PrepareChild closes; the server marks its own.
void MarkPrivateFd(int fd);
void UnmarkPrivateFd(int fd);

}  // namespace keyward::daemon
