// Where an account's TOTP secret lives and how it is read and written:
// %h/.keyward/totp, one line holding the base32 secret.
//
// The rules are those of ~/.phonenumber: the folder and the file are owned
// by the user, the file is a regular file (not a symlink, one link) of mode
// 0600, the folder not writable by group or others. `keyward totp enroll`
// writes it; keywardd reads it. Both must run as the account's own uid when
// they do (root drops to the user first), so that nothing planted in a home
// folder can make root read or write elsewhere.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::factor {

inline constexpr char kTotpDirName[] = ".keyward";
inline constexpr char kTotpFileName[] = "totp";
inline constexpr std::size_t kMaxTotpFileBytes = 1024;
inline constexpr std::size_t kMinTotpSecretBytes = 16;  // RFC 4226 section 4: at least 128 bits
inline constexpr std::size_t kMaxTotpSecretBytes = 64;  // HMAC-SHA1's block; longer keys are hashed anyway

// "<base32 secret>\n".
std::string FormatTotpFile(ByteView secret);
// The file's text: one base32 secret (blanks and a final newline allowed),
// kMinTotpSecretBytes..kMaxTotpSecretBytes once decoded.
Result<Bytes> ParseTotpFile(std::string_view text);

// "<home>/.keyward/totp", for messages.
std::string TotpFilePath(const std::string& home);

// Reads the secret of the account `uid` whose home folder is `home`.
// nullopt when the account has not enrolled (no folder or no file); an
// error when the file is there but breaks a rule (symlink, owner, mode,
// content) — the caller then treats the account as having no TOTP factor,
// and says why in its log.
Result<std::optional<Bytes>> ReadTotpSecret(const std::string& home, uid_t uid);

struct TotpWriteOptions {
  bool replace = false;  // --force: replace an existing secret
};

// Fails with "totp_exists" when a secret is already there and `replace` is
// false, and always when the path is a symlink or not a regular file.
// Creates %h/.keyward (0700) if missing, refusing a symlink in its place.
Result<void> CheckTotpWritable(const std::string& home, uid_t uid, const TotpWriteOptions& options);

// Writes the secret atomically (a temporary file, fsync, rename, fsync of
// the folder), mode 0600. Without `replace` the rename refuses to replace a
// file that appeared meanwhile (renameat2 RENAME_NOREPLACE).
Result<void> WriteTotpSecret(const std::string& home, uid_t uid, ByteView secret, const TotpWriteOptions& options);

}  // namespace keyward::factor
