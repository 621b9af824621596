// Safe file operations on folders a user can influence.
//
// Everything is opened relative to a directory descriptor with O_NOFOLLOW,
// then checked with fstat: the kind of file, one link, the expected owner,
// and no group or world write permission (sshd's StrictModes). Writes are
// atomic: a temporary file in the same folder, fsync, rename, fsync of the
// folder; a reader sees the old file or the new one, never a part.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::fs {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Who may own what we open: the account's user, and root.
struct Ownership {
  uid_t uid = 0;
  bool Allows(uid_t owner) const { return owner == uid || owner == 0; }
};

// Opens a directory by path. The last component must not be a symlink;
// the directory must be owned by `owner` (or root) and not group or world
// writable. `what` names it in errors ("the key store").
Result<UniqueFd> OpenDirectory(const std::string& path, Ownership owner, std::string_view what);

// Opens a directory inside `dirfd` with the same checks.
Result<UniqueFd> OpenDirectoryAt(int dirfd, const std::string& name, Ownership owner, std::string_view what);

// Checks the folders from `top` down to `path` (both included) the way
// sshd's StrictModes does: no symlinks below `top`, each owned by the user
// or root, none group or world writable. Returns the descriptor of `path`.
Result<UniqueFd> OpenDirectoryChain(const std::string& top, const std::string& path, Ownership owner,
                                    std::string_view what);

// Reads a regular file inside `dirfd`: not a symlink, FIFO or device, one
// link, owned by `owner` or root, not group or world writable, at most
// `max_bytes`.
Result<std::string> ReadFileAt(int dirfd, const std::string& name, Ownership owner, std::size_t max_bytes,
                               std::string_view what, struct stat* info = nullptr);

// Like ReadFileAt, but a missing file is not an error. When `info` is
// given it receives the file's fstat.
Result<std::optional<std::string>> ReadFileIfExistsAt(int dirfd, const std::string& name, Ownership owner,
                                                      std::size_t max_bytes, std::string_view what,
                                                      struct stat* info = nullptr);

struct FileMode {
  mode_t mode = 0644;
  std::optional<uid_t> uid;  // set only when the caller may chown (root)
  std::optional<gid_t> gid;
  // Off only for caches that detect a torn file themselves: the rename is
  // still atomic, but neither the file nor the folder is synced.
  bool sync = true;
};

// A stat's mtime in nanoseconds: what keyward's caches compare.
inline std::int64_t MtimeNs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// The lstat of a file that ReadFileAt would accept (a regular file with one
// link, owned and moded as sshd's StrictModes wants), without opening it:
// for callers that hold a cached copy checked by inode, size and mtime.
// A missing file is an error with code "missing".
Result<struct stat> StatRegularAt(int dirfd, const std::string& name, Ownership owner, std::string_view what);

// What an existing file looks like, so that a replacement can keep its mode
// and owner. Refuses anything but a regular file with one link.
Result<std::optional<FileMode>> ExistingFileMode(int dirfd, const std::string& name, Ownership owner,
                                                 std::string_view what);

// Replaces `name` in `dirfd` atomically with `content`.
Result<void> AtomicReplaceAt(int dirfd, const std::string& name, std::string_view content, const FileMode& mode);

// For a cache that detects a torn file itself (keys.index, revoked.index):
// rewrites the file in place, unsynced, so that a change makes and frees no
// inode (on ext4 without a journal, each freed inode slows every later
// create for a minute). Readers that do not hold the writer's own lock must
// hold a shared flock(2) on the file while they read or map it
// (MappedFile's `shared_lock`): the rewrite takes an exclusive one without
// waiting, and replaces the file (rename, as AtomicReplaceAt, unsynced)
// instead when a reader has it. It is replaced as well when the file is
// missing or not what keyward leaves (a regular file of `owner`, one link,
// mode `mode`).
Result<void> RewriteCacheAt(int dirfd, const std::string& name, std::string_view content, Ownership owner,
                            mode_t mode);

// Creates `name` with `content`, synced: written under a temporary dot name
// and renamed into place without replacing anything, so that no one (and no
// crash) sees a half-written file. Fails ("exists") if `name` exists.
Result<void> CreateFileAt(int dirfd, const std::string& name, std::string_view content, mode_t mode);

// Moves a file between two folders; fails when the target exists.
Result<void> MoveNoReplace(int from_dirfd, const std::string& from, int to_dirfd, const std::string& to);

// Appends one record to a log file under an exclusive lock, and syncs it.
Result<void> AppendAt(int dirfd, const std::string& name, std::string_view record, mode_t mode);

// Names in a folder, "." and ".." left out, in byte order.
Result<std::vector<std::string>> ListDirectory(int dirfd);
// Whether the folder holds a name that does not start with '.': stops at
// the first one instead of listing a large folder.
Result<bool> HasVisibleEntry(int dirfd);

// Flushes a folder's entries to disk.
Result<void> SyncDirectory(int dirfd);

// A read-only mapping of a regular file checked like ReadFileAt; empty files
// map to an empty view.
class MappedFile {
 public:
  // `shared_lock`: holds a shared flock(2) on the file, taken before it is
  // measured and mapped, until the mapping goes (see RewriteCacheAt).
  static Result<std::optional<MappedFile>> OpenIfExistsAt(int dirfd, const std::string& name, Ownership owner,
                                                          std::string_view what, bool shared_lock = false);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, std::size_t size, UniqueFd lock) : data_(data), size_(size), lock_(std::move(lock)) {}
  void* data_ = nullptr;
  std::size_t size_ = 0;
  UniqueFd lock_;  // the file, while it holds a shared lock
};

// An exclusive flock(2) held until destruction.
class FileLock {
 public:
  static Result<FileLock> Acquire(int dirfd, const std::string& name, Ownership owner);

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace keyward::fs
