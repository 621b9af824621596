// Dropping root for good: one function, one fixed order.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"

namespace keyward::fs {

// setgroups (the user's groups), setresgid, setresuid, then checks that
// every id changed and that root cannot be regained. A no-op when the
// process already runs as exactly that user.
Result<void> DropPrivileges(const std::string& user, uid_t uid, gid_t gid);

}  // namespace keyward::fs
