#include "fs/privilege.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace keyward::fs {

Result<std::vector<gid_t>> UserGroups(const std::string& user, gid_t gid) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 8; ++attempt) {
    int n = static_cast<int>(groups.size());
    if (getgrouplist(user.c_str(), gid, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      return groups;
    }
    // Too small: n says how many there are (glibc), or grow.
    groups.resize(std::max<std::size_t>(static_cast<std::size_t>(n), groups.size() * 2));
  }
  return Fail("drop_failed", "cannot read the groups of " + user);
}

Result<void> DropPrivileges(const std::string& user, uid_t uid, gid_t gid, const std::vector<gid_t>* groups) {
  if (geteuid() == uid && getuid() == uid && getegid() == gid && getgid() == gid) return {};
  if (geteuid() != 0) {
    return Fail("not_permitted", "only root can act for another user; run keyward as " + user + " or as root");
  }
  auto sys = [](const char* what) {
    return Fail("drop_failed", std::string("cannot drop privileges (") + what + "): " + std::strerror(errno));
  };
  if (groups != nullptr) {
    if (setgroups(groups->size(), groups->data()) != 0) return sys("setgroups");
  } else if (initgroups(user.c_str(), gid) != 0) {
    return sys("initgroups");
  }
  if (setresgid(gid, gid, gid) != 0) return sys("setresgid");
  if (setresuid(uid, uid, uid) != 0) return sys("setresuid");
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid || su != uid ||
      rg != gid || eg != gid || sg != gid) {
    return Fail("drop_failed", "privileges were not dropped completely");
  }
  if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    return Fail("drop_failed", "root could be regained after dropping privileges");
  }
  return {};
}

}  // namespace keyward::fs
