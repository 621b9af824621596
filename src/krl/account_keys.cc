#include "krl/account_keys.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "authkeys/line.h"
#include "fs/privilege.h"
#include "fs/safe_file.h"
#include "store/account.h"
#include "store/store.h"

namespace keyward::krl {

namespace {

struct StoreKeys {
  std::vector<Bytes> keys;
  std::vector<std::string> problems;  // files left out
};

// Reads <store>/revoked/ with the current process's rights: the folders
// checked from the home folder down as the store checks them, every file
// opened without following symlinks. Every key line of every file counts:
// more is revoked rather than less.
Result<StoreKeys> ReadRevokedFolder(const store::Account& account, const std::string& store_dir) {
  fs::Ownership owner{account.uid};
  auto store_fd = fs::OpenDirectoryChain(account.home, store_dir, owner, "the key store");
  if (!store_fd) return Fail(store_fd.error());
  auto revoked = fs::OpenDirectoryAt(store_fd->get(), store::kRevokedDir, owner, "the revoked/ folder");
  if (!revoked) return Fail(revoked.error());
  auto names = fs::ListDirectory(revoked->get());
  if (!names) return Fail(names.error());
  StoreKeys out;
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // the store's own temporary files
    auto text = fs::ReadFileAt(revoked->get(), name, owner, store::kMaxKeyFileBytes, "the revoked key file");
    if (!text) {
      out.problems.push_back("revoked/" + name + ": " + text.error().message);
      continue;
    }
    std::string_view rest = *text;
    bool found = false, reported = false;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      auto parsed = authkeys::ParseAuthorizedKeysLine(line);
      if (!parsed) {
        out.problems.push_back("revoked/" + name + ": " + parsed.error().message);
        reported = true;
        continue;
      }
      if (parsed->kind != authkeys::LineKind::kKey || !parsed->entry) continue;
      ByteView plain = parsed->entry->key.plain_blob();
      out.keys.emplace_back(plain.begin(), plain.end());
      found = true;
    }
    if (!found && !reported) {
      out.problems.push_back("revoked/" + name + ": the file holds no key");
    }
  }
  return out;
}

// The child's report, over a pipe: 'K' or 'W', a 32-bit length, the bytes.
void Put(int fd, char kind, std::string_view data) {
  std::string rec(1, kind);
  const auto n = static_cast<std::uint32_t>(data.size());
  rec.push_back(static_cast<char>(n >> 24));
  rec.push_back(static_cast<char>(n >> 16));
  rec.push_back(static_cast<char>(n >> 8));
  rec.push_back(static_cast<char>(n));
  rec.append(data);
  std::size_t done = 0;
  while (done < rec.size()) {
    ssize_t w = write(fd, rec.data() + done, rec.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    done += static_cast<std::size_t>(w);
  }
}

// Root reads a user's store as that user: a child drops to the user's uid
// and gid for good, reads, reports, and exits.
Result<StoreKeys> ReadRevokedAsUser(const store::Account& account, const std::string& store_dir) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Fail("pipe_failed", std::string("cannot make a pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Fail("fork_failed", std::string("cannot start a process: ") + std::strerror(err));
  }
  if (pid == 0) {
    close(fds[0]);
    int status = 0;
    if (auto ok = fs::DropPrivileges(account.name, account.uid, account.gid); !ok) {
      Put(fds[1], 'E', ok.error().message);
      status = 1;
    } else if (auto keys = ReadRevokedFolder(account, store_dir); !keys) {
      Put(fds[1], 'E', keys.error().message);
      status = 1;
    } else {
      for (const auto& k : keys->keys) Put(fds[1], 'K', AsText(k));
      for (const auto& p : keys->problems) Put(fds[1], 'W', p);
    }
    close(fds[1]);
    _exit(status);  // not exit(): the parent's buffers are not ours to flush
  }
  close(fds[1]);
  std::string data;
  bool too_much = false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (data.size() + static_cast<std::size_t>(n) > kMaxRevokedBytesPerAccount) {
      too_much = true;
      break;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (too_much) {
    return Fail("too_large", "the revoked/ folder holds more than " + std::to_string(kMaxRevokedBytesPerAccount) +
                                 " bytes of keys");
  }
  StoreKeys out;
  std::string_view rest = data;
  while (rest.size() >= 5) {
    const char kind = rest[0];
    const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(rest[1])} << 24) |
                            (std::uint32_t{static_cast<unsigned char>(rest[2])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(rest[3])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(rest[4])};
    if (rest.size() - 5 < n) break;
    std::string_view body = rest.substr(5, n);
    rest = rest.substr(5 + std::size_t{n});
    if (kind == 'E') return Fail("store_unreadable", std::string(body));
    if (kind == 'W') out.problems.emplace_back(body);
    if (kind == 'K' && out.keys.size() < kMaxRevokedKeysPerAccount) out.keys.emplace_back(body.begin(), body.end());
  }
  if (!rest.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail("store_unreadable", "the process reading the store did not finish cleanly");
  }
  return out;
}

class Gatherer {
 public:
  explicit Gatherer(AccountRevokedKeys& out) : out_(out) {}

  void Account(const store::Account& account, const std::string& store_dir, bool drop_privileges) {
    struct stat st {};
    if (lstat(store_dir.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      ++out_.without_store;
      return;
    }
    auto keys = drop_privileges ? ReadRevokedAsUser(account, store_dir) : ReadRevokedFolder(account, store_dir);
    if (!keys) {
      out_.warnings.push_back("skipped the store of " + account.name + " (" + store_dir + "): " + keys.error().message);
      return;
    }
    ++out_.accounts;
    for (const auto& p : keys->problems) {
      out_.warnings.push_back("in the store of " + account.name + " (" + store_dir + "), left out " + p);
    }
    for (auto& k : keys->keys) out_.keys.push_back(std::move(k));
  }

 private:
  AccountRevokedKeys& out_;
};

void PasswdAccounts(const config::Config& config, Gatherer& g, AccountRevokedKeys& out) {
  std::vector<store::Account> accounts;
  setpwent();
  while (struct passwd* pw = getpwent()) {
    if (pw->pw_name == nullptr || pw->pw_dir == nullptr) continue;
    if (!store::ValidateUserName(pw->pw_name)) continue;  // no path is built from a strange name
    accounts.push_back(store::Account{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir});
  }
  endpwent();
  const bool root = geteuid() == 0;
  for (const auto& a : accounts) {
    auto dir = store::ExpandPathTemplate(config.store_template, a);
    if (!dir) {
      out.warnings.push_back("skipped " + a.name + ": " + dir.error().message);
      continue;
    }
    g.Account(a, *dir, root && a.uid != 0);
  }
}

void DirectoryAccounts(const config::Config& config, Gatherer& g, AccountRevokedKeys& out) {
  const std::string& top = config.accounts.path;
  auto top_fd = fs::OpenDirectory(top, fs::Ownership{geteuid()}, "the accounts folder");
  if (!top_fd) {
    out.warnings.push_back("skipped every account: " + top_fd.error().message);
    return;
  }
  auto names = fs::ListDirectory(top_fd->get());
  if (!names) {
    out.warnings.push_back("skipped every account: " + names.error().message);
    return;
  }
  for (const std::string& name : *names) {
    if (!store::ValidateUserName(name)) continue;
    struct stat st {};
    if (fstatat(top_fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    // As keywardd: a folder someone else owns is no account.
    if (st.st_uid != geteuid() && st.st_uid != 0) continue;
    store::Account a{name, geteuid(), getegid(), top + (top.back() == '/' ? "" : "/") + name};
    auto dir = store::ExpandPathTemplate(config.accounts.store_template, a);
    if (!dir) {
      out.warnings.push_back("skipped " + name + ": " + dir.error().message);
      continue;
    }
    g.Account(a, *dir, false);
  }
}

}  // namespace

AccountRevokedKeys RevokedKeysOfAccounts(const config::Config& config) {
  AccountRevokedKeys out;
  Gatherer g(out);
  if (config.accounts.source == config::AccountSource::kDirectory) {
    DirectoryAccounts(config, g, out);
  } else {
    PasswdAccounts(config, g, out);
  }
  return out;
}

}  // namespace keyward::krl
