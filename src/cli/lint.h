// `keyward lint`: checks an authorized_keys file the way sshd reads it.
#pragma once

#include <string>
#include <string_view>

#include "cli/fingerprint.h"
#include "key/policy.h"

namespace keyward::cli {

struct LintRequest {
  std::string_view content;
  std::string display_name;
  bool json = false;
  key::KeyPolicy policy;
  std::int64_t now = 0;  // seconds since the epoch, for expiry warnings
};

// One line per problem: "FILE:LINE: reason" for lines sshd would ignore,
// "FILE:LINE: warning: reason" for lines sshd accepts but policy does not
// like (weak keys, the same key twice, expired keys). Exit code 0 when sshd
// would accept every line, 1 otherwise.
CommandOutput RunLint(const LintRequest& request);

}  // namespace keyward::cli
