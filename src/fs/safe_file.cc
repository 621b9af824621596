#include "fs/safe_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace keyward::fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

tl::unexpected<Error> SysFail(std::string code, std::string_view what, const std::string& name, int err) {
  return Fail(std::move(code), std::string(what) + " " + Quote(name) + ": " + std::strerror(err));
}

std::string KindOf(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISDIR(mode)) return "a folder";
  return "not a regular file";
}

// The checks sshd's StrictModes makes, with a message that says what to do.
Result<void> CheckOwnerAndMode(const struct stat& st, Ownership owner, std::string_view what,
                               const std::string& name) {
  if (!owner.Allows(st.st_uid)) {
    return Fail("bad_owner", std::string(what) + " " + Quote(name) + " is owned by uid " + std::to_string(st.st_uid) +
                                 ", not by the account (uid " + std::to_string(owner.uid) +
                                 ") or root; keyward refuses it (fix the owner with chown)");
  }
  if ((st.st_mode & 022) != 0) {
    return Fail("bad_mode", std::string(what) + " " + Quote(name) +
                                " is writable by group or others; sshd's StrictModes refuses that, and so does "
                                "keyward (fix it with chmod go-w)");
  }
  return {};
}

Result<void> CheckDirectory(int fd, Ownership owner, std::string_view what, const std::string& name) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return SysFail("stat_failed", what, name, errno);
  if (!S_ISDIR(st.st_mode)) return Fail("not_a_directory", std::string(what) + " " + Quote(name) + " is not a folder");
  return CheckOwnerAndMode(st, owner, what, name);
}

Result<void> CheckRegular(const struct stat& st, Ownership owner, std::string_view what, const std::string& name) {
  if (!S_ISREG(st.st_mode)) {
    return Fail("not_a_regular_file",
                std::string(what) + " " + Quote(name) + " is " + KindOf(st.st_mode) + "; keyward only reads regular files");
  }
  if (st.st_nlink != 1) {
    return Fail("hard_link", std::string(what) + " " + Quote(name) +
                                 " has more than one hard link; keyward refuses it, since the other name could be "
                                 "anywhere");
  }
  return CheckOwnerAndMode(st, owner, what, name);
}

Result<UniqueFd> OpenDirFlags(int dirfd, const std::string& name, Ownership owner, std::string_view what) {
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      struct stat st {};
      if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return Fail("symlink", std::string(what) + " " + Quote(name) +
                                   " is a symbolic link; keyward never follows links it did not make. Replace it "
                                   "with a real folder");
      }
      return Fail("not_a_directory", std::string(what) + " " + Quote(name) + " is not a folder");
    }
    if (err == ENOENT) {
      return Fail("missing", std::string(what) + " " + Quote(name) + " does not exist");
    }
    return SysFail("open_failed", what, name, err);
  }
  UniqueFd out(fd);
  if (auto ok = CheckDirectory(out.get(), owner, what, name); !ok) return Fail(ok.error());
  return out;
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

Result<void> WriteAll(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysFail("write_failed", "cannot write", name, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<UniqueFd> OpenDirectory(const std::string& path, Ownership owner, std::string_view what) {
  return OpenDirFlags(AT_FDCWD, path, owner, what);
}

Result<UniqueFd> OpenDirectoryAt(int dirfd, const std::string& name, Ownership owner, std::string_view what) {
  return OpenDirFlags(dirfd, name, owner, what);
}

Result<UniqueFd> OpenDirectoryChain(const std::string& top, const std::string& path, Ownership owner,
                                    std::string_view what) {
  std::string rel;
  if (path == top) {
    rel.clear();
  } else if (path.size() > top.size() && path.compare(0, top.size(), top) == 0 &&
             (top.back() == '/' || path[top.size()] == '/')) {
    rel = path.substr(top.size());
  } else {
    return OpenDirectory(path, owner, what);
  }
  auto fd = OpenDirectory(top, owner, "the home folder");
  if (!fd) return Fail(fd.error());
  std::string walked = top;
  std::size_t i = 0;
  while (i < rel.size()) {
    while (i < rel.size() && rel[i] == '/') ++i;
    std::size_t j = rel.find('/', i);
    std::string part = rel.substr(i, j == std::string::npos ? std::string::npos : j - i);
    i = j == std::string::npos ? rel.size() : j;
    if (part.empty()) break;
    if (part == "." || part == "..") {
      return Fail("bad_path", std::string(what) + " path " + Quote(path) + " must not contain . or ..");
    }
    walked += (walked.back() == '/' ? "" : "/") + part;
    bool last = i >= rel.size() || rel.find_first_not_of('/', i) == std::string::npos;
    auto next = OpenDirFlags(fd->get(), part, owner, last ? what : std::string_view("the folder"));
    if (!next) {
      Error e = next.error();
      e.message += " (at " + walked + ")";
      return Fail(std::move(e));
    }
    fd = std::move(next);
  }
  return fd;
}

Result<std::optional<std::string>> ReadFileIfExistsAt(int dirfd, const std::string& name, Ownership owner,
                                                      std::size_t max_bytes, std::string_view what,
                                                      struct stat* info) {
  // O_NONBLOCK so that a FIFO planted in place of a file cannot hang us.
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return std::optional<std::string>();
    if (err == ELOOP) {
      return Fail("symlink", std::string(what) + " " + Quote(name) +
                                 " is a symbolic link; keyward never follows links it did not make");
    }
    return SysFail("open_failed", what, name, err);
  }
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(file.get(), &st) != 0) return SysFail("stat_failed", what, name, errno);
  if (auto ok = CheckRegular(st, owner, what, name); !ok) return Fail(ok.error());
  if (info != nullptr) *info = st;
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    return Fail("file_too_large", std::string(what) + " " + Quote(name) + " is larger than " +
                                      std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = read(file.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysFail("read_failed", what, name, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return std::optional<std::string>(std::move(out));
}

Result<std::string> ReadFileAt(int dirfd, const std::string& name, Ownership owner, std::size_t max_bytes,
                               std::string_view what, struct stat* info) {
  auto r = ReadFileIfExistsAt(dirfd, name, owner, max_bytes, what, info);
  if (!r) return Fail(r.error());
  if (!r->has_value()) return Fail("missing", std::string(what) + " " + Quote(name) + " does not exist");
  return std::move(**r);
}

Result<struct stat> StatRegularAt(int dirfd, const std::string& name, Ownership owner, std::string_view what) {
  struct stat st {};
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Fail("missing", std::string(what) + " " + Quote(name) + " does not exist");
    return SysFail("stat_failed", what, name, errno);
  }
  if (auto ok = CheckRegular(st, owner, what, name); !ok) return Fail(ok.error());
  return st;
}

Result<std::optional<FileMode>> ExistingFileMode(int dirfd, const std::string& name, Ownership owner,
                                                 std::string_view what) {
  struct stat st {};
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::optional<FileMode>();
    return SysFail("stat_failed", what, name, errno);
  }
  if (auto ok = CheckRegular(st, owner, what, name); !ok) return Fail(ok.error());
  FileMode mode;
  mode.mode = st.st_mode & 07777;
  mode.uid = st.st_uid;
  mode.gid = st.st_gid;
  return std::optional<FileMode>(mode);
}

Result<void> AtomicReplaceAt(int dirfd, const std::string& name, std::string_view content, const FileMode& mode) {
  std::string temp = "." + name + ".keyward-" + RandomSuffix();
  int fd = openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return SysFail("create_failed", "cannot create a temporary file", temp, errno);
  UniqueFd file(fd);
  auto fail = [&](Error e) -> tl::unexpected<Error> {
    unlinkat(dirfd, temp.c_str(), 0);
    return Fail(std::move(e));
  };
  if (fchmod(file.get(), mode.mode) != 0) return fail({"chmod_failed", "cannot set the mode of " + temp});
  if ((mode.uid || mode.gid) && geteuid() == 0) {
    if (fchown(file.get(), mode.uid.value_or(static_cast<uid_t>(-1)), mode.gid.value_or(static_cast<gid_t>(-1))) !=
        0) {
      return fail({"chown_failed", "cannot set the owner of " + temp});
    }
  }
  if (auto ok = WriteAll(file.get(), content, temp); !ok) return fail(ok.error());
  if (mode.sync && fsync(file.get()) != 0) return fail({"fsync_failed", "cannot flush " + temp + " to disk"});
  if (renameat(dirfd, temp.c_str(), dirfd, name.c_str()) != 0) {
    int err = errno;
    return fail({"rename_failed", "cannot rename " + temp + " to " + name + ": " + std::strerror(err)});
  }
  return mode.sync ? SyncDirectory(dirfd) : Result<void>();
}

Result<void> RewriteCacheAt(int dirfd, const std::string& name, std::string_view content, Ownership owner,
                            mode_t mode) {
  UniqueFd file(openat(dirfd, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat st {};
  bool in_place = file.valid() && fstat(file.get(), &st) == 0 && CheckRegular(st, owner, "a cache", name) &&
                  (st.st_mode & 07777) == mode && flock(file.get(), LOCK_EX | LOCK_NB) == 0;
  if (in_place) {
    std::string_view rest = content;
    off_t at = 0;
    while (in_place && !rest.empty()) {
      ssize_t n = pwrite(file.get(), rest.data(), rest.size(), at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        in_place = false;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
      at += n;
    }
    if (in_place && ftruncate(file.get(), static_cast<off_t>(content.size())) == 0) return {};
  }
  // Missing, not ours, or the write failed half-way: a fresh file.
  FileMode replace;
  replace.mode = mode;
  replace.sync = false;
  return AtomicReplaceAt(dirfd, name, content, replace);
}

Result<void> CreateFileAt(int dirfd, const std::string& name, std::string_view content, mode_t mode) {
  // Written under a temporary (dot) name and renamed into place without
  // replacing anything, so that a crash never leaves a half-written file
  // under `name` (an empty key file in users/, say).
  if (struct stat st {}; fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return SysFail("exists", "cannot create", name, EEXIST);
  }
  std::string temp = ".keyward-new-" + RandomSuffix();
  int fd = openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return SysFail("create_failed", "cannot create", name, errno);
  UniqueFd file(fd);
  auto ok = WriteAll(file.get(), content, name);
  if (ok && fchmod(file.get(), mode) != 0) ok = Fail("chmod_failed", "cannot set the mode of " + name);
  if (ok && fsync(file.get()) != 0) ok = Fail("fsync_failed", "cannot flush " + name + " to disk");
  if (ok && renameat2(dirfd, temp.c_str(), dirfd, name.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    ok = SysFail(err == EEXIST ? "exists" : "create_failed", "cannot create", name, err);
  }
  if (!ok) {
    unlinkat(dirfd, temp.c_str(), 0);
    return ok;
  }
  return {};
}

Result<void> MoveNoReplace(int from_dirfd, const std::string& from, int to_dirfd, const std::string& to) {
  if (renameat2(from_dirfd, from.c_str(), to_dirfd, to.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) return Fail("exists", "cannot move " + Quote(from) + ": " + Quote(to) + " already exists");
    return SysFail("rename_failed", "cannot move", from, err);
  }
  if (auto ok = SyncDirectory(to_dirfd); !ok) return ok;
  return SyncDirectory(from_dirfd);
}

Result<void> AppendAt(int dirfd, const std::string& name, std::string_view record, mode_t mode) {
  int fd = openat(dirfd, name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd < 0) return SysFail("open_failed", "cannot open the log", name, errno);
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    return Fail("bad_log", "the log " + Quote(name) + " is not a regular file with one link; keyward will not write it");
  }
  // One write(2) of the whole record under O_APPEND and a lock: records
  // from concurrent writers never interleave.
  if (flock(file.get(), LOCK_EX) != 0) return SysFail("lock_failed", "cannot lock", name, errno);
  auto ok = WriteAll(file.get(), record, name);
  if (ok && fdatasync(file.get()) != 0) ok = Fail("fsync_failed", "cannot flush the log " + name);
  flock(file.get(), LOCK_UN);
  return ok;
}

Result<std::vector<std::string>> ListDirectory(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SysFail("open_failed", "cannot list", ".", errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    return SysFail("open_failed", "cannot list", ".", err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  int err = errno;
  closedir(dir);
  if (err != 0) return SysFail("read_failed", "cannot list", ".", err);
  std::sort(names.begin(), names.end());  // std::string compares bytes: C collation
  return names;
}

Result<bool> HasVisibleEntry(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SysFail("open_failed", "cannot list", ".", errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    return SysFail("open_failed", "cannot list", ".", err);
  }
  bool found = false;
  errno = 0;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') {
      found = true;
      break;
    }
  }
  int err = found ? 0 : errno;
  closedir(dir);
  if (err != 0) return SysFail("read_failed", "cannot list", ".", err);
  return found;
}

Result<void> SyncDirectory(int dirfd) {
  if (fsync(dirfd) != 0) return Fail("fsync_failed", std::string("cannot flush a folder to disk: ") + std::strerror(errno));
  return {};
}

Result<std::optional<MappedFile>> MappedFile::OpenIfExistsAt(int dirfd, const std::string& name, Ownership owner,
                                                             std::string_view what, bool shared_lock) {
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<MappedFile>();
    return SysFail(errno == ELOOP ? "symlink" : "open_failed", what, name, errno);
  }
  UniqueFd file(fd);
  if (shared_lock) {
    while (flock(file.get(), LOCK_SH) != 0) {
      if (errno != EINTR) return SysFail("lock_failed", what, name, errno);
    }
  }
  struct stat st {};
  if (fstat(file.get(), &st) != 0) return SysFail("stat_failed", what, name, errno);
  if (auto ok = CheckRegular(st, owner, what, name); !ok) return Fail(ok.error());
  UniqueFd lock = shared_lock ? std::move(file) : UniqueFd();
  if (st.st_size == 0) return std::optional<MappedFile>(MappedFile(nullptr, 0, std::move(lock)));
  void* p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE,
                 shared_lock ? lock.get() : file.get(), 0);
  if (p == MAP_FAILED) return SysFail("mmap_failed", what, name, errno);
  return std::optional<MappedFile>(MappedFile(p, static_cast<std::size_t>(st.st_size), std::move(lock)));
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), lock_(std::move(other.lock_)) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(data_, size_);
}

Result<FileLock> FileLock::Acquire(int dirfd, const std::string& name, Ownership owner) {
  int fd = openat(dirfd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return SysFail("lock_failed", "cannot open the lock file", name, errno);
  UniqueFd file(fd);
  struct stat st {};
  if (fstat(file.get(), &st) != 0) return SysFail("stat_failed", "cannot check the lock file", name, errno);
  if (auto ok = CheckRegular(st, owner, "the lock file", name); !ok) return Fail(ok.error());
  while (flock(file.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return SysFail("lock_failed", "cannot lock", name, errno);
  }
  return FileLock(std::move(file));
}

}  // namespace keyward::fs
