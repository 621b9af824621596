// Key file names: <owner email>+<device>+<YYYYMMDD>+<NN>.pub
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace keyward::store {

inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMaxDeviceBytes = 64;
inline constexpr int kMaxSerial = 99;

struct KeyName {
  std::string owner;   // e-mail address
  std::string device;  // "laptop", "phone-2024"
  std::string date;    // YYYYMMDD, UTC, the day the key was added
  int serial = 1;      // 1..99, makes the name unique

  std::string FileName() const;  // "alice@example.com+laptop+20261121+01.pub"
  // The part that identifies one device's key on one day, serial excluded.
  std::string Prefix() const;
};

// Each part is checked on its own, with a message that names the part.
Result<void> ValidateEmail(std::string_view email);
Result<void> ValidateDevice(std::string_view device);
Result<void> ValidateDate(std::string_view yyyymmdd);

// Parses a file name; anything that is not exactly the naming rule is an
// error (such a file is not one keyward wrote).
Result<KeyName> ParseKeyFileName(std::string_view file_name);

// Today's date in UTC as YYYYMMDD.
std::string TodayUtc(std::int64_t now);

}  // namespace keyward::store
