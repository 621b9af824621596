#include "daemon/accounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/factors.h"

namespace keyward::daemon {

Result<std::optional<store::Account>> Accounts::FindInDirectory(std::string_view name) const {
  const std::string& top = config_.accounts.path;
  std::string folder = top + (top.back() == '/' ? "" : "/") + std::string(name);
  struct stat st {};
  if (fstatat(AT_FDCWD, folder.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<store::Account>();
    return Fail("internal", "cannot look at " + folder + ": " + std::strerror(errno));
  }
  // A symlink, a file, or a folder someone else owns is no account.
  uid_t self = geteuid();
  if (!S_ISDIR(st.st_mode) || (st.st_uid != self && st.st_uid != 0)) return std::optional<store::Account>();
  return std::optional<store::Account>(store::Account{std::string(name), self, getegid(), folder});
}

Result<std::optional<AccountPlace>> Accounts::Find(std::string_view name) const {
  if (!store::ValidateUserName(name)) return std::optional<AccountPlace>();
  AccountPlace place;
  std::string store_template, ak_template;
  if (config_.accounts.source == config::AccountSource::kDirectory) {
    auto account = FindInDirectory(name);
    if (!account) return Fail(account.error());
    if (!account->has_value()) return std::optional<AccountPlace>();
    place.account = std::move(**account);
    store_template = config_.accounts.store_template;
    ak_template = config_.accounts.authorized_keys_template;
    place.email_file = kDirectoryEmailFile;
  } else {
    auto account = store::LookupAccount(name);
    if (!account) return Fail(account.error());
    if (!account->has_value() || (*account)->uid == 0) return std::optional<AccountPlace>();
    place.account = std::move(**account);
    store_template = config_.store_template;
    ak_template = config_.authorized_keys_template;
    place.email_file = kPasswdEmailFile;
  }
  auto store_dir = store::ExpandPathTemplate(store_template, place.account);
  if (!store_dir) return Fail(store_dir.error());
  auto ak = store::ExpandPathTemplate(ak_template, place.account);
  if (!ak) return Fail(ak.error());
  place.store_dir = std::move(*store_dir);
  place.authorized_keys = std::move(*ak);
  return std::optional<AccountPlace>(std::move(place));
}

}  // namespace keyward::daemon
