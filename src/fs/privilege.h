// Dropping root for good: one function, one fixed order.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"

namespace keyward::fs {

// The user's supplementary groups (with `gid`), from the group database.
Result<std::vector<gid_t>> UserGroups(const std::string& user, gid_t gid);

// setgroups (the user's groups), setresgid, setresuid, then checks that
// every id changed and that root cannot be regained. A no-op when the
// process already runs as exactly that user. `groups`, when given, are the
// groups UserGroups gave (a forked child should not load the group
// database's modules anew for every operation); otherwise they are looked up.
Result<void> DropPrivileges(const std::string& user, uid_t uid, gid_t gid,
                            const std::vector<gid_t>* groups = nullptr);

}  // namespace keyward::fs
