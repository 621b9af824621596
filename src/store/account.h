// Accounts and where their stores live.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace keyward::store {

inline constexpr std::size_t kMaxUserNameBytes = 32;

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// A user name is checked against a strict pattern before it is looked up or
// used in a path: [a-z_][a-z0-9_.-]* (and an optional trailing $), no "..".
Result<void> ValidateUserName(std::string_view name);

// Looks a user up in the password database; nullopt when there is none.
Result<std::optional<Account>> LookupAccount(std::string_view name);
Result<Account> CurrentAccount();

// Expands sshd's tokens in a path template (%h home, %u user, %%); a
// relative result is taken relative to the home folder, as sshd does.
Result<std::string> ExpandPathTemplate(std::string_view templ, const Account& account);

}  // namespace keyward::store
