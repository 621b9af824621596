// An account's second factors, as files in its folder (the home folder of a
// system user, the account's folder in a directory source):
//   .phonenumber      one E.164 number (+, then 8 to 15 digits)
//   <email file>      one e-mail address (.keyward/email for system users,
//                     email for directory accounts)
//   .keyward/totp     a TOTP secret, written by `keyward totp enroll`
//                     (factor/totp_file.h)
// Each counts only if it is a regular file (not a symlink, one link) owned
// by the account's uid, of mode 0600, holding one valid value; anything
// else is ignored and the reason logged, never shown to the web user.
//
// ReadFactors must run with the account's rights (RunAsUser).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::daemon {

inline constexpr char kPhoneFile[] = ".phonenumber";
inline constexpr char kPasswdEmailFile[] = ".keyward/email";
inline constexpr char kDirectoryEmailFile[] = "email";
inline constexpr std::size_t kMaxFactorFileBytes = 1024;

struct Factors {
  std::string phone;
  std::string email;
  Bytes totp_secret;
  std::vector<std::string> ignored;  // why a file did not count, for the log
};

// Reads the factor files under `home` for the account `uid`.
Result<Factors> ReadFactors(const std::string& home, uid_t uid, const std::string& email_file);

// The child's answer over the pipe, and back (the TOTP secret as base32).
nlohmann::json FactorsToJson(const Factors& factors);
Result<Factors> FactorsFromJson(const nlohmann::json& j);

}  // namespace keyward::daemon
