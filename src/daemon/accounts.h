// Which accounts keywardd serves and where their files are. A name from the
// socket is checked with store::ValidateUserName before it is looked up or
// put in any path.
//   passwd:    system users (not root: its keys are not self-service);
//              the store and authorized_keys from the top-level templates.
//   directory: folders under accounts.path, owned by keywardd's own uid
//              (or root); the account's rights are keywardd's own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "config/config.h"
#include "store/account.h"

namespace keyward::daemon {

struct AccountPlace {
  store::Account account;       // home: the home folder, or the account's folder
  std::string store_dir;
  std::string authorized_keys;
  std::string email_file;       // relative to home (daemon/factors.h)
};

class Accounts {
 public:
  explicit Accounts(const config::Config& config) : config_(config) {}

  // nullopt for an invalid name, an unknown account, and root.
  Result<std::optional<AccountPlace>> Find(std::string_view name) const;

 private:
  Result<std::optional<store::Account>> FindInDirectory(std::string_view name) const;

  config::Config config_;
};

}  // namespace keyward::daemon
