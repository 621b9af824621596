// The TOTP steps already used, per account, kept in a file so that a code
// seen once cannot be replayed after keywardd restarts within its window.
//
//   <step> <account>\n   (one line per account; steps older than the
//                         window are dropped when the file is written)
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"

namespace keyward::factor {

using UsedSteps = std::map<std::string, std::int64_t>;

// Reads `path`; a missing file is an empty map. Lines that do not parse are
// skipped (the file is keywardd's own, in its root-only state folder).
Result<UsedSteps> LoadUsedSteps(const std::string& path);

// Writes `steps` to `path` atomically (a temporary file, fsync, rename),
// mode 0600, leaving out steps before `oldest`.
Result<void> SaveUsedSteps(const std::string& path, const UsedSteps& steps, std::int64_t oldest);

}  // namespace keyward::factor
