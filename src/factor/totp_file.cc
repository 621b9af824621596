#include "factor/totp_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "factor/base32.h"
#include "fs/safe_file.h"

namespace keyward::factor {
namespace {

constexpr char kWhat[] = "the TOTP secret file";

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Overwrites a string's bytes before it is freed: it held the secret.
struct Scrubbed {
  std::string text;
  ~Scrubbed() { OPENSSL_cleanse(text.data(), text.size()); }
};

// The folder must be the account's own: root-owned would be fine for
// sshd, but a secret in a folder the user does not own was not put there
// by `keyward totp enroll`.
Result<void> CheckOwnedByUser(int fd, uid_t uid, const std::string& path) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Fail("stat_failed", "cannot check " + Quote(path) + ": " + std::strerror(errno));
  if (st.st_uid != uid) {
    return Fail("bad_owner", Quote(path) + " is owned by uid " + std::to_string(st.st_uid) +
                                 ", not by the account (uid " + std::to_string(uid) +
                                 "); remove it and run keyward totp enroll again");
  }
  return {};
}

// Opens <home>/.keyward; nullopt when it does not exist and `create` is off.
Result<std::optional<fs::UniqueFd>> OpenTotpDir(const std::string& home, uid_t uid, bool create) {
  auto home_fd = fs::OpenDirectory(home, fs::Ownership{uid}, "the home folder");
  if (!home_fd) return Fail(home_fd.error());
  if (create && mkdirat(home_fd->get(), kTotpDirName, 0700) != 0 && errno != EEXIST) {
    return Fail("create_failed", "cannot create " + Quote(home + "/" + kTotpDirName) + ": " + std::strerror(errno));
  }
  auto dir = fs::OpenDirectoryAt(home_fd->get(), kTotpDirName, fs::Ownership{uid}, "the folder");
  if (!dir) {
    if (dir.error().code == "missing" && !create) return std::optional<fs::UniqueFd>();
    Error e = dir.error();
    e.message += " (in " + home + ")";
    return Fail(std::move(e));
  }
  if (auto ok = CheckOwnedByUser(dir->get(), uid, home + "/" + kTotpDirName); !ok) return Fail(ok.error());
  return std::optional<fs::UniqueFd>(std::move(*dir));
}

// What is at the file's name now: nothing, or a regular file; anything
// else (a symlink above all) is refused, even with --force, so that the
// user sees what was planted there.
Result<bool> RegularFileExists(int dirfd, const std::string& path) {
  struct stat st {};
  if (fstatat(dirfd, kTotpFileName, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return Fail("stat_failed", "cannot check " + Quote(path) + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return Fail("symlink", Quote(path) + " is a symbolic link; keyward never writes through links. Remove it and "
                                         "run keyward totp enroll again");
  }
  if (!S_ISREG(st.st_mode)) return Fail("not_a_regular_file", Quote(path) + " is not a regular file; remove it first");
  return true;
}

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string TempName() {
  unsigned char random[8] = {};
  RAND_bytes(random, sizeof random);  // a clash only makes O_EXCL fail
  char name[48];
  std::snprintf(name, sizeof name, ".%s.new-%02x%02x%02x%02x%02x%02x%02x%02x", kTotpFileName, random[0], random[1],
                random[2], random[3], random[4], random[5], random[6], random[7]);
  return name;
}

std::string ExistsMessage(const std::string& path) {
  return "a TOTP secret is already enrolled in " + path +
         "; run keyward totp enroll --force to replace it (the authenticator app's old entry then stops working)";
}

}  // namespace

std::string FormatTotpFile(ByteView secret) { return Base32Encode(secret) + "\n"; }

Result<Bytes> ParseTotpFile(std::string_view text) {
  if (text.size() > kMaxTotpFileBytes) return Fail("bad_totp_file", "the TOTP secret file is too large");
  auto secret = Base32Decode(text);
  if (!secret) return Fail("bad_totp_file", "the TOTP secret file does not hold a base32 secret");
  if (secret->size() < kMinTotpSecretBytes || secret->size() > kMaxTotpSecretBytes) {
    OPENSSL_cleanse(secret->data(), secret->size());
    return Fail("bad_totp_file", "the TOTP secret in the file must be 128 to 512 bits long");
  }
  return secret;
}

std::string TotpFilePath(const std::string& home) {
  return home + (home.ends_with('/') ? "" : "/") + kTotpDirName + "/" + kTotpFileName;
}

Result<std::optional<Bytes>> ReadTotpSecret(const std::string& home, uid_t uid) {
  const std::string path = TotpFilePath(home);
  auto dir = OpenTotpDir(home, uid, false);
  if (!dir) return Fail(dir.error());
  if (!dir->has_value()) return std::optional<Bytes>();
  struct stat st {};
  auto text = fs::ReadFileIfExistsAt((*dir)->get(), kTotpFileName, fs::Ownership{uid}, kMaxTotpFileBytes, kWhat, &st);
  if (!text) {
    Error e = text.error();
    e.message += " (" + path + ")";
    return Fail(std::move(e));
  }
  if (!text->has_value()) return std::optional<Bytes>();
  Scrubbed content{std::move(**text)};
  if (st.st_uid != uid) {
    return Fail("bad_owner", Quote(path) + " is owned by uid " + std::to_string(st.st_uid) +
                                 ", not by the account; keyward ignores it");
  }
  if ((st.st_mode & 077) != 0) {
    return Fail("bad_mode", Quote(path) + " is open to others (mode " + ModeText(st.st_mode) +
                                "); the secret may have leaked, so keyward ignores it. Run keyward totp enroll "
                                "--force");
  }
  auto secret = ParseTotpFile(content.text);
  if (!secret) {
    Error e = secret.error();
    e.message += " (" + path + "); run keyward totp enroll --force";
    return Fail(std::move(e));
  }
  return std::optional<Bytes>(std::move(*secret));
}

Result<void> CheckTotpWritable(const std::string& home, uid_t uid, const TotpWriteOptions& options) {
  const std::string path = TotpFilePath(home);
  auto dir = OpenTotpDir(home, uid, true);
  if (!dir) return Fail(dir.error());
  auto exists = RegularFileExists((*dir)->get(), path);
  if (!exists) return Fail(exists.error());
  if (*exists && !options.replace) return Fail("totp_exists", ExistsMessage(path));
  return {};
}

Result<void> WriteTotpSecret(const std::string& home, uid_t uid, ByteView secret, const TotpWriteOptions& options) {
  if (secret.size() < kMinTotpSecretBytes || secret.size() > kMaxTotpSecretBytes) {
    return Fail("bad_secret", "a TOTP secret must be 128 to 512 bits long");
  }
  const std::string path = TotpFilePath(home);
  auto dir = OpenTotpDir(home, uid, true);
  if (!dir) return Fail(dir.error());
  const int dirfd = (*dir)->get();
  auto exists = RegularFileExists(dirfd, path);
  if (!exists) return Fail(exists.error());
  if (*exists && !options.replace) return Fail("totp_exists", ExistsMessage(path));
  Scrubbed content{FormatTotpFile(secret)};
  if (options.replace) {
    fs::FileMode mode;
    mode.mode = 0600;
    return fs::AtomicReplaceAt(dirfd, kTotpFileName, content.text, mode);
  }
  // Create under a temporary name, then rename without replacing: a reader
  // never sees half a secret, and a file that appeared since the check
  // above is kept.
  const std::string temp = TempName();
  if (auto ok = fs::CreateFileAt(dirfd, temp, content.text, 0600); !ok) return ok;
  auto moved = fs::MoveNoReplace(dirfd, temp, dirfd, kTotpFileName);
  if (!moved) {
    unlinkat(dirfd, temp.c_str(), 0);
    if (moved.error().code == "exists") return Fail("totp_exists", ExistsMessage(path));
    return moved;
  }
  return {};
}

}  // namespace keyward::factor
