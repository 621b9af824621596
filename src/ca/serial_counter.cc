#include "ca/serial_counter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "ca/issuance_log.h"
#include "fs/safe_file.h"

namespace keyward::ca {
namespace {

constexpr std::size_t kMaxCounterBytes = 32;

fs::Ownership Owner() { return fs::Ownership{geteuid()}; }

Result<std::uint64_t> ParseCounter(const std::string& text) {
  auto bad = [] {
    return Fail("bad_serial_counter", "the serial counter (" + std::string(kSerialFile) +
                                          " in the CA folder) is damaged: it must hold one number and a "
                                          "newline; keyward will not guess a serial that might repeat");
  };
  if (text.size() < 2 || text.back() != '\n') return bad();
  std::uint64_t v = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return bad();
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (~std::uint64_t{0} - d) / 10) return bad();
    v = v * 10 + d;
  }
  if (v == 0) return bad();
  return v;
}

// The next serial; the lock must be held.
Result<std::uint64_t> ReadNext(int dirfd) {
  auto text = fs::ReadFileIfExistsAt(dirfd, kSerialFile, Owner(), kMaxCounterBytes, "the serial counter");
  if (!text) return Fail(text.error());
  if (*text) return ParseCounter(**text);
  // No counter: a new CA starts at 1, but not one that has issued before.
  struct stat st {};
  if (fstatat(dirfd, kIssuanceLogFile, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0) {
    return Fail("serial_counter_missing",
                "the serial counter (" + std::string(kSerialFile) + " in the CA folder) is missing but " +
                    kIssuanceLogFile + " records certificates; restore it with a number above every serial "
                    "`keyward ca list` shows, so that no serial is used twice");
  }
  return std::uint64_t{1};
}

Result<void> WriteNext(int dirfd, std::uint64_t next) {
  fs::FileMode mode;
  mode.mode = 0600;
  mode.sync = true;
  return fs::AtomicReplaceAt(dirfd, kSerialFile, std::to_string(next) + "\n", mode);
}

}  // namespace

Result<void> InitSerialCounter(int ca_dirfd) {
  auto lock = fs::FileLock::Acquire(ca_dirfd, kSerialLockFile, Owner());
  if (!lock) return Fail(lock.error());
  auto next = ReadNext(ca_dirfd);
  if (!next) return Fail(next.error());
  auto existing = fs::ReadFileIfExistsAt(ca_dirfd, kSerialFile, Owner(), kMaxCounterBytes, "the serial counter");
  if (!existing) return Fail(existing.error());
  if (*existing) return {};
  return WriteNext(ca_dirfd, *next);
}

Result<SerialBlock> ReserveSerials(int ca_dirfd, std::uint64_t count) {
  if (count == 0 || count > kMaxSerialBlock) {
    return Fail("bad_serial_count", "a batch reserves 1 to " + std::to_string(kMaxSerialBlock) + " serials");
  }
  auto lock = fs::FileLock::Acquire(ca_dirfd, kSerialLockFile, Owner());
  if (!lock) return Fail(lock.error());
  auto next = ReadNext(ca_dirfd);
  if (!next) return Fail(next.error());
  if (*next > ~std::uint64_t{0} - count) {
    return Fail("serials_exhausted", "the CA has used up its serial numbers; create a new CA");
  }
  // Durable before any of these numbers is used.
  if (auto ok = WriteNext(ca_dirfd, *next + count); !ok) return Fail(ok.error());
  return SerialBlock{*next, count};
}

Result<std::uint64_t> PeekNextSerial(int ca_dirfd) {
  auto lock = fs::FileLock::Acquire(ca_dirfd, kSerialLockFile, Owner());
  if (!lock) return Fail(lock.error());
  return ReadNext(ca_dirfd);
}

}  // namespace keyward::ca
