// Safe file operations: what they refuse (symlinks, FIFOs, hard links,
// group/world-writable files, foreign owners) and what they guarantee
// (atomic replace that keeps the mode, never writing through a link).
#include "fs/safe_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace keyward::fs {
namespace {

namespace stdfs = std::filesystem;

// A FIFO must be refused at once; if a bug made us block on it, SIGALRM
// kills the test binary instead of hanging CI.
class AlarmGuard {
 public:
  explicit AlarmGuard(unsigned seconds) { alarm(seconds); }
  ~AlarmGuard() { alarm(0); }
};

class SafeFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-safe-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    dirfd_ = UniqueFd(fd);
    me_ = Ownership{geteuid()};
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  void Write(const std::string& name, const std::string& content, mode_t mode = 0644) {
    std::ofstream(Path(name), std::ios::binary) << content;
    ASSERT_EQ(chmod(Path(name).c_str(), mode), 0);
  }

  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  struct stat Lstat(const std::string& name) const {
    struct stat st {};
    EXPECT_EQ(lstat(Path(name).c_str(), &st), 0) << name;
    return st;
  }

  std::string dir_;
  UniqueFd dirfd_;
  Ownership me_;
};

TEST_F(SafeFileTest, ReadsARegularFile) {
  Write("key", "ssh-ed25519 AAAA\n");
  struct stat st {};
  auto r = ReadFileAt(dirfd_.get(), "key", me_, 1024, "the key file", &st);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "ssh-ed25519 AAAA\n");
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 17);
}

TEST_F(SafeFileTest, MissingFile) {
  auto maybe = ReadFileIfExistsAt(dirfd_.get(), "nope", me_, 1024, "the key file");
  ASSERT_TRUE(maybe);
  EXPECT_FALSE(maybe->has_value());
  auto must = ReadFileAt(dirfd_.get(), "nope", me_, 1024, "the key file");
  ASSERT_FALSE(must);
  EXPECT_EQ(must.error().code, "missing");
}

TEST_F(SafeFileTest, RefusesSymlinkToAFile) {
  Write("target", "secret\n");
  ASSERT_EQ(symlink("target", Path("link").c_str()), 0);
  auto r = ReadFileAt(dirfd_.get(), "link", me_, 1024, "the key file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "symlink");
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  // A dangling link too.
  ASSERT_EQ(symlink("/nonexistent/x", Path("dangling").c_str()), 0);
  auto d = ReadFileIfExistsAt(dirfd_.get(), "dangling", me_, 1024, "the key file");
  ASSERT_FALSE(d) << "a dangling symlink must not read as a missing file";
  EXPECT_EQ(d.error().code, "symlink");
  auto mode = ExistingFileMode(dirfd_.get(), "link", me_, "authorized_keys");
  ASSERT_FALSE(mode);
  EXPECT_EQ(mode.error().code, "not_a_regular_file");
  EXPECT_NE(mode.error().message.find("symbolic link"), std::string::npos) << mode.error().message;
  auto mapped = MappedFile::OpenIfExistsAt(dirfd_.get(), "link", me_, "keys.index");
  EXPECT_FALSE(mapped);
}

TEST_F(SafeFileTest, RefusesFifoWithoutHanging) {
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  AlarmGuard guard(20);
  auto r = ReadFileAt(dirfd_.get(), "fifo", me_, 1024, "authorized_keys");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "not_a_regular_file");
  EXPECT_NE(r.error().message.find("FIFO"), std::string::npos) << r.error().message;
  auto mode = ExistingFileMode(dirfd_.get(), "fifo", me_, "authorized_keys");
  EXPECT_FALSE(mode);
  auto mapped = MappedFile::OpenIfExistsAt(dirfd_.get(), "fifo", me_, "keys.index");
  EXPECT_FALSE(mapped);
  auto log = AppendAt(dirfd_.get(), "fifo", "record\n", 0600);
  EXPECT_FALSE(log) << "appended to a FIFO";
  auto lock = FileLock::Acquire(dirfd_.get(), "fifo", me_);
  EXPECT_FALSE(lock) << "locked a FIFO";
}

TEST_F(SafeFileTest, RefusesHardLinks) {
  Write("original", "data\n");
  ASSERT_EQ(link(Path("original").c_str(), Path("second").c_str()), 0);
  for (const char* name : {"original", "second"}) {
    auto r = ReadFileAt(dirfd_.get(), name, me_, 1024, "authorized_keys");
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, "hard_link");
    auto mode = ExistingFileMode(dirfd_.get(), name, me_, "authorized_keys");
    ASSERT_FALSE(mode);
    EXPECT_EQ(mode.error().code, "hard_link");
  }
  auto log = AppendAt(dirfd_.get(), "second", "record\n", 0600);
  EXPECT_FALSE(log);
  EXPECT_EQ(Read("original"), "data\n");
}

TEST_F(SafeFileTest, RefusesGroupOrWorldWritable) {
  for (mode_t mode : {0664, 0646, 0666, 0620, 0602}) {
    Write("f", "data\n", mode);
    auto r = ReadFileAt(dirfd_.get(), "f", me_, 1024, "authorized_keys");
    ASSERT_FALSE(r) << std::oct << mode;
    EXPECT_EQ(r.error().code, "bad_mode");
    EXPECT_NE(r.error().message.find("chmod go-w"), std::string::npos) << r.error().message;
    EXPECT_FALSE(ExistingFileMode(dirfd_.get(), "f", me_, "authorized_keys"));
    ASSERT_EQ(unlink(Path("f").c_str()), 0);
  }
  for (mode_t mode : {0600, 0644, 0400, 0755}) {
    Write("f", "data\n", mode);
    EXPECT_TRUE(ReadFileAt(dirfd_.get(), "f", me_, 1024, "authorized_keys")) << std::oct << mode;
    ASSERT_EQ(unlink(Path("f").c_str()), 0);
  }
}

TEST_F(SafeFileTest, RefusesAForeignOwner) {
  Write("f", "data\n");
  Ownership expected = me_;
  if (geteuid() == 0) {
    // Root may give the file away; the account is then root (uid 0) and
    // the file belongs to someone else.
    ASSERT_EQ(chown(Path("f").c_str(), 54321, 54321), 0);
    expected = Ownership{0};
  } else {
    // The file is ours; expect another account.
    expected = Ownership{geteuid() + 1};
  }
  auto r = ReadFileAt(dirfd_.get(), "f", expected, 1024, "authorized_keys");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_owner");
  EXPECT_NE(r.error().message.find("chown"), std::string::npos) << r.error().message;
}

TEST_F(SafeFileTest, RootOwnedFilesAreAccepted) {
  EXPECT_TRUE(Ownership{1000}.Allows(0));
  EXPECT_TRUE(Ownership{1000}.Allows(1000));
  EXPECT_FALSE(Ownership{1000}.Allows(1001));
}

TEST_F(SafeFileTest, RefusesLargeFiles) {
  Write("big", std::string(2000, 'x'));
  auto r = ReadFileAt(dirfd_.get(), "big", me_, 1999, "the key file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "file_too_large");
  EXPECT_TRUE(ReadFileAt(dirfd_.get(), "big", me_, 2000, "the key file"));
}

TEST_F(SafeFileTest, Directories) {
  ASSERT_EQ(mkdir(Path("real").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("open").c_str(), 0775), 0);
  ASSERT_EQ(chmod(Path("open").c_str(), 0775), 0);
  ASSERT_EQ(mkdir(Path("world").c_str(), 0777), 0);
  ASSERT_EQ(chmod(Path("world").c_str(), 01777), 0);
  ASSERT_EQ(symlink("real", Path("link").c_str()), 0);
  Write("file", "x");

  EXPECT_TRUE(OpenDirectoryAt(dirfd_.get(), "real", me_, "the key store"));
  auto link = OpenDirectoryAt(dirfd_.get(), "link", me_, "the key store");
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, "symlink");
  EXPECT_NE(link.error().message.find("the key store"), std::string::npos);
  auto open = OpenDirectoryAt(dirfd_.get(), "open", me_, "the key store");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, "bad_mode");
  auto world = OpenDirectoryAt(dirfd_.get(), "world", me_, "the key store");
  ASSERT_FALSE(world);
  EXPECT_EQ(world.error().code, "bad_mode");
  auto file = OpenDirectoryAt(dirfd_.get(), "file", me_, "the key store");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, "not_a_directory");
  auto missing = OpenDirectoryAt(dirfd_.get(), "missing", me_, "the key store");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "missing");
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  AlarmGuard guard(20);
  auto fifo = OpenDirectoryAt(dirfd_.get(), "fifo", me_, "the key store");
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, "not_a_directory");
  EXPECT_TRUE(OpenDirectory(Path("real"), me_, "the key store"));
  EXPECT_FALSE(OpenDirectory(Path("link"), me_, "the key store"));
}

TEST_F(SafeFileTest, DirectoryChain) {
  ASSERT_EQ(mkdir(Path("home").c_str(), 0750), 0);
  ASSERT_EQ(mkdir(Path("home/.ssh").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(Path("home/.ssh/store").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(Path("elsewhere").c_str(), 0700), 0);
  const std::string home = Path("home");
  auto ok = OpenDirectoryChain(home, home + "/.ssh/store", me_, "the key store");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(OpenDirectoryChain(home, home, me_, "the key store"));
  EXPECT_TRUE(OpenDirectoryChain(home, home + "/.ssh/store/", me_, "the key store"));
  EXPECT_TRUE(OpenDirectoryChain(home, home + "//.ssh//store", me_, "the key store"));

  // A symlink in the middle of the chain.
  ASSERT_EQ(symlink(Path("elsewhere").c_str(), Path("home/linked").c_str()), 0);
  ASSERT_EQ(mkdir(Path("elsewhere/store").c_str(), 0700), 0);
  auto mid = OpenDirectoryChain(home, home + "/linked/store", me_, "the key store");
  ASSERT_FALSE(mid);
  EXPECT_EQ(mid.error().code, "symlink");
  EXPECT_NE(mid.error().message.find("linked"), std::string::npos) << mid.error().message;

  // . and .. are refused, not resolved.
  auto dots = OpenDirectoryChain(home, home + "/.ssh/../.ssh/store", me_, "the key store");
  ASSERT_FALSE(dots);
  EXPECT_EQ(dots.error().code, "bad_path");
  EXPECT_FALSE(OpenDirectoryChain(home, home + "/./.ssh", me_, "the key store"));

  // A group-writable folder anywhere in the chain, the home folder included.
  ASSERT_EQ(chmod(Path("home/.ssh").c_str(), 0770), 0);
  auto gw = OpenDirectoryChain(home, home + "/.ssh/store", me_, "the key store");
  ASSERT_FALSE(gw);
  EXPECT_EQ(gw.error().code, "bad_mode");
  ASSERT_EQ(chmod(Path("home/.ssh").c_str(), 0700), 0);
  ASSERT_EQ(chmod(home.c_str(), 0757), 0);
  auto gh = OpenDirectoryChain(home, home + "/.ssh/store", me_, "the key store");
  ASSERT_FALSE(gh);
  EXPECT_EQ(gh.error().code, "bad_mode");
  ASSERT_EQ(chmod(home.c_str(), 0750), 0);

  // The home folder itself a symlink.
  ASSERT_EQ(symlink(home.c_str(), Path("homelink").c_str()), 0);
  auto hl = OpenDirectoryChain(Path("homelink"), Path("homelink") + "/.ssh", me_, "the key store");
  ASSERT_FALSE(hl);
  EXPECT_EQ(hl.error().code, "symlink");
}

TEST_F(SafeFileTest, AtomicReplaceKeepsTheModeAndLeavesNoTemporaryFile) {
  Write("authorized_keys", "old\n", 0640);
  struct stat before = Lstat("authorized_keys");
  auto mode = ExistingFileMode(dirfd_.get(), "authorized_keys", me_, "authorized_keys");
  ASSERT_TRUE(mode) << mode.error().message;
  ASSERT_TRUE(mode->has_value());
  EXPECT_EQ((*mode)->mode, 0640u);
  auto ok = AtomicReplaceAt(dirfd_.get(), "authorized_keys", "new content\n", **mode);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(Read("authorized_keys"), "new content\n");
  struct stat after = Lstat("authorized_keys");
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  EXPECT_NE(after.st_ino, before.st_ino) << "a replacement is a new file renamed into place";
  EXPECT_EQ(after.st_nlink, 1u);
  EXPECT_EQ(Names(), std::vector<std::string>{"authorized_keys"});

  // A new file gets the mode asked for, whatever the umask.
  mode_t old_umask = umask(077);
  FileMode fresh;
  fresh.mode = 0644;
  ASSERT_TRUE(AtomicReplaceAt(dirfd_.get(), "fresh", "x\n", fresh));
  umask(old_umask);
  EXPECT_EQ(Lstat("fresh").st_mode & 07777, 0644u);
}

TEST_F(SafeFileTest, AtomicReplaceNeverWritesThroughASymlink) {
  Write("target", "precious\n", 0600);
  ASSERT_EQ(symlink("target", Path("authorized_keys").c_str()), 0);
  FileMode m;
  m.mode = 0600;
  ASSERT_TRUE(AtomicReplaceAt(dirfd_.get(), "authorized_keys", "new\n", m));
  EXPECT_EQ(Read("target"), "precious\n") << "the link's target was written";
  EXPECT_TRUE(S_ISREG(Lstat("authorized_keys").st_mode));
}

TEST_F(SafeFileTest, AtomicReplaceRemovesItsTemporaryFileOnFailure) {
  ASSERT_EQ(mkdir(Path("authorized_keys").c_str(), 0700), 0);
  Write("authorized_keys/inside", "x");
  FileMode m;
  auto r = AtomicReplaceAt(dirfd_.get(), "authorized_keys", "new\n", m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "rename_failed");
  EXPECT_EQ(Names(), std::vector<std::string>{"authorized_keys"}) << "a temporary file was left behind";
}

TEST_F(SafeFileTest, CreateFileAt) {
  mode_t old_umask = umask(077);
  ASSERT_TRUE(CreateFileAt(dirfd_.get(), "key.pub", "line\n", 0644));
  umask(old_umask);
  EXPECT_EQ(Read("key.pub"), "line\n");
  EXPECT_EQ(Lstat("key.pub").st_mode & 07777, 0644u);
  auto again = CreateFileAt(dirfd_.get(), "key.pub", "other\n", 0644);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "exists");
  EXPECT_EQ(Read("key.pub"), "line\n");
  // Never through a symlink, even a dangling one.
  Write("target", "precious\n");
  ASSERT_EQ(symlink("target", Path("link.pub").c_str()), 0);
  ASSERT_EQ(symlink("nowhere", Path("dangling.pub").c_str()), 0);
  EXPECT_FALSE(CreateFileAt(dirfd_.get(), "link.pub", "evil\n", 0644));
  EXPECT_FALSE(CreateFileAt(dirfd_.get(), "dangling.pub", "evil\n", 0644));
  EXPECT_EQ(Read("target"), "precious\n");
  EXPECT_FALSE(stdfs::exists(Path("nowhere")));
}

TEST_F(SafeFileTest, MoveNoReplace) {
  ASSERT_EQ(mkdir(Path("users").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("revoked").c_str(), 0755), 0);
  Write("users/a.pub", "A\n");
  Write("revoked/b.pub", "B-revoked\n");
  Write("users/b.pub", "B\n");
  UniqueFd users(open(Path("users").c_str(), O_RDONLY | O_DIRECTORY));
  UniqueFd revoked(open(Path("revoked").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(MoveNoReplace(users.get(), "a.pub", revoked.get(), "a.pub"));
  EXPECT_FALSE(stdfs::exists(Path("users/a.pub")));
  EXPECT_EQ(Read("revoked/a.pub"), "A\n");
  auto clash = MoveNoReplace(users.get(), "b.pub", revoked.get(), "b.pub");
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, "exists");
  EXPECT_EQ(Read("users/b.pub"), "B\n");
  EXPECT_EQ(Read("revoked/b.pub"), "B-revoked\n");
}

TEST_F(SafeFileTest, AppendAt) {
  ASSERT_TRUE(AppendAt(dirfd_.get(), "audit.log", "one\n", 0600));
  ASSERT_TRUE(AppendAt(dirfd_.get(), "audit.log", "two\n", 0600));
  EXPECT_EQ(Read("audit.log"), "one\ntwo\n");
  EXPECT_EQ(Lstat("audit.log").st_mode & 0777, 0600u);
  Write("target", "precious\n");
  ASSERT_EQ(symlink("target", Path("linked.log").c_str()), 0);
  EXPECT_FALSE(AppendAt(dirfd_.get(), "linked.log", "evil\n", 0600));
  ASSERT_EQ(symlink("nowhere", Path("dangling.log").c_str()), 0);
  EXPECT_FALSE(AppendAt(dirfd_.get(), "dangling.log", "evil\n", 0600));
  EXPECT_EQ(Read("target"), "precious\n");
  EXPECT_FALSE(stdfs::exists(Path("nowhere")));
}

TEST_F(SafeFileTest, RewriteCacheKeepsTheInodeOfItsOwnFile) {
    ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "first version, long\n", me_, 0644));
  EXPECT_EQ(Read("cache"), "first version, long\n");
  struct stat before {};
  ASSERT_EQ(stat(Path("cache").c_str(), &before), 0);
  EXPECT_EQ(before.st_mode & 07777, 0644u);
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "short\n", me_, 0644));
  EXPECT_EQ(Read("cache"), "short\n") << "the old tail is cut off";
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "a longer one than before\n", me_, 0644));
  EXPECT_EQ(Read("cache"), "a longer one than before\n");
  struct stat after {};
  ASSERT_EQ(stat(Path("cache").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "rewritten in place";

  // A reader holding a shared lock keeps its bytes: the writer replaces
  // the file instead of waiting or writing under the reader.
  {
    auto reader = MappedFile::OpenIfExistsAt(dirfd_.get(), "cache", me_, "the cache", /*shared_lock=*/true);
    ASSERT_TRUE(reader && reader->has_value());
    EXPECT_EQ((*reader)->view(), "a longer one than before\n");
    ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "while mapped\n", me_, 0644));
    EXPECT_EQ((*reader)->view(), "a longer one than before\n") << "the mapped bytes did not change";
    EXPECT_EQ(Read("cache"), "while mapped\n");
    struct stat during {};
    ASSERT_EQ(stat(Path("cache").c_str(), &during), 0);
    EXPECT_NE(during.st_ino, before.st_ino) << "replaced, not rewritten";
  }
  ASSERT_EQ(stat(Path("cache").c_str(), &before), 0);
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "after\n", me_, 0644));
  ASSERT_EQ(stat(Path("cache").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "in place again once the reader has gone";

  // Not what keyward leaves: replaced, never written through.
  ASSERT_EQ(chmod(Path("cache").c_str(), 0600), 0);
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "new\n", me_, 0644));
  struct stat replaced {};
  ASSERT_EQ(stat(Path("cache").c_str(), &replaced), 0);
  EXPECT_NE(replaced.st_ino, before.st_ino);
  EXPECT_EQ(replaced.st_mode & 07777, 0644u);
  Write("victim", "keep me\n");
  ASSERT_EQ(unlink(Path("cache").c_str()), 0);
  ASSERT_EQ(link(Path("victim").c_str(), Path("cache").c_str()), 0);
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "cache\n", me_, 0644));
  EXPECT_EQ(Read("victim"), "keep me\n") << "a hard link is not written through";
  ASSERT_EQ(unlink(Path("cache").c_str()), 0);
  ASSERT_EQ(symlink(Path("victim").c_str(), Path("cache").c_str()), 0);
  ASSERT_TRUE(RewriteCacheAt(dirfd_.get(), "cache", "cache\n", me_, 0644));
  EXPECT_EQ(Read("victim"), "keep me\n") << "nor a symlink";
  EXPECT_EQ(Read("cache"), "cache\n");
}

TEST_F(SafeFileTest, HasVisibleEntryIgnoresDotNames) {
  auto empty = HasVisibleEntry(dirfd_.get());
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);
  Write(".lock", "");
  Write(".tmp-x", "");
  auto hidden = HasVisibleEntry(dirfd_.get());
  ASSERT_TRUE(hidden);
  EXPECT_FALSE(*hidden) << "only dot names";
  Write("a+b+20260101+01.pub", "");
  auto visible = HasVisibleEntry(dirfd_.get());
  ASSERT_TRUE(visible);
  EXPECT_TRUE(*visible);
}

TEST_F(SafeFileTest, ListDirectoryIsInByteOrder) {
  for (const char* n : {"b", "B", "a", "!!README!!", "\xc3\xa9", "_", ".hidden", "A+1", "A+01"}) Write(n, "");
  auto names = ListDirectory(dirfd_.get());
  ASSERT_TRUE(names);
  std::vector<std::string> want = {"!!README!!", ".hidden", "A+01", "A+1", "B", "_", "a", "b", "\xc3\xa9"};
  EXPECT_EQ(*names, want);
}

TEST_F(SafeFileTest, MappedFile) {
  Write("empty", "");
  Write("index", "abc\n");
  auto empty = MappedFile::OpenIfExistsAt(dirfd_.get(), "empty", me_, "keys.index");
  ASSERT_TRUE(empty);
  ASSERT_TRUE(empty->has_value());
  EXPECT_EQ((*empty)->view(), "");
  auto index = MappedFile::OpenIfExistsAt(dirfd_.get(), "index", me_, "keys.index");
  ASSERT_TRUE(index);
  ASSERT_TRUE(index->has_value());
  EXPECT_EQ((*index)->view(), "abc\n");
  auto missing = MappedFile::OpenIfExistsAt(dirfd_.get(), "missing", me_, "keys.index");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  Write("open", "x", 0666);
  EXPECT_FALSE(MappedFile::OpenIfExistsAt(dirfd_.get(), "open", me_, "keys.index"));
}

TEST_F(SafeFileTest, FileLockIsExclusive) {
  auto lock = FileLock::Acquire(dirfd_.get(), ".lock", me_);
  ASSERT_TRUE(lock) << lock.error().message;
  // flock locks belong to the open file description: a second open of the
  // same file in this process cannot take it while the first is held.
  int fd = open(Path(".lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_NE(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  {
    auto moved = std::move(*lock);
    (void)moved;
  }
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0) << "the lock outlived its FileLock";
  close(fd);

  Write("target", "precious\n");
  ASSERT_EQ(symlink("target", Path("linked.lock").c_str()), 0);
  EXPECT_FALSE(FileLock::Acquire(dirfd_.get(), "linked.lock", me_));
  EXPECT_EQ(Read("target"), "precious\n");
}

}  // namespace
}  // namespace keyward::fs
