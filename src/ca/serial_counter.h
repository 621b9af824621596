// The CA's serial counter: <ca.dir>/serial holds the next unused serial
// ("17\n"). Serials are reserved before any certificate is signed: the new
// value is written and synced to disk (temporary file, fsync, rename, fsync
// of the folder) under a lock (<ca.dir>/serial.lock) before the reserved
// numbers are used, so that a crash can skip numbers but never reuse one.
// 0 is never handed out (it means "unnumbered" in OpenSSH).
#pragma once

#include <cstdint>

#include "base/error.h"

namespace keyward::ca {

inline constexpr const char* kSerialFile = "serial";
inline constexpr const char* kSerialLockFile = "serial.lock";
// A batch reserves at most this many serials at once.
inline constexpr std::uint64_t kMaxSerialBlock = 1'000'000;

struct SerialBlock {
  std::uint64_t first = 0;  // >= 1
  std::uint64_t count = 0;
};

// Creates the counter at 1 if it does not exist yet (`keyward ca init`).
Result<void> InitSerialCounter(int ca_dirfd);

// Reserves `count` consecutive serials (1 to kMaxSerialBlock). A missing
// counter starts at 1, unless the issuance log already records
// certificates: then numbers could repeat, and this refuses until the
// administrator restores the counter. Error codes: "serial_counter_missing",
// "bad_serial_counter", "serials_exhausted".
Result<SerialBlock> ReserveSerials(int ca_dirfd, std::uint64_t count);

// The next serial that would be handed out, without reserving it.
Result<std::uint64_t> PeekNextSerial(int ca_dirfd);

}  // namespace keyward::ca
