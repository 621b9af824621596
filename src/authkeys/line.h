// authorized_keys lines, read the way sshd reads them and written back in
// one canonical form.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "authkeys/options.h"
#include "base/error.h"
#include "key/public_key.h"

namespace keyward::authkeys {

// No line keyward reads or writes may be longer; sshd has no limit, but a
// real key line is a few kilobytes at most.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

struct AuthorizedKey {
  Options options;
  key::PublicKey key;
  std::string comment;  // as written, with the line's trailing CR removed
};

enum class LineKind { kBlank, kComment, kKey };

struct ParsedLine {
  LineKind kind = LineKind::kBlank;
  std::optional<AuthorizedKey> entry;  // set for kKey
};

// Parses one line, without its '\n', as sshd's authorized_keys reader
// (auth_check_authkey_line) does: blank lines and '#' lines are skipped;
// otherwise the line is "key" or "options key", and the options must parse.
// An error means sshd would ignore the line; the message says why.
Result<ParsedLine> ParseAuthorizedKeysLine(std::string_view line);

// Writes the canonical line: options, type, base64, comment. The comment is
// reduced to printable characters so that the line can never be split or
// smuggle anything; sshd reads the result to the same key and options.
std::string FormatAuthorizedKey(const AuthorizedKey& entry);

// Reduces a comment to what is safe inside a generated line: control
// characters (CR, LF, NUL, ...) become spaces, the ends are trimmed.
std::string CleanComment(std::string_view comment);

}  // namespace keyward::authkeys
