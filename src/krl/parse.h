// Reads a KRL exactly as OpenSSH 9.2's ssh_krl_from_blob() does (what
// `ssh-keygen -Q` on this system and sshd's RevokedKeys accept):
//
//   - the magic "SSHKRL\n\0", format version 1, the header fields;
//   - a first pass over the section framing that verifies every signature
//     section (signing key, then a signature over everything before it;
//     no other section after one, no key twice); OpenSSH 9.4 and later skip
//     signatures unchecked, 9.2 refuses a KRL whose signature does not
//     verify, and so does keyward;
//   - a second pass that reads each section: certificates (CA key, serial
//     lists, ranges and bitmaps, key IDs), explicit keys, SHA1 and SHA256
//     hashes. Serials and key IDs may come in any order and repeat (they are
//     merged), serial 0 and reversed ranges are refused, a bitmap may not
//     wrap around the serial space, hashes have their exact lengths, unknown
//     sections and subsections are refused;
//   - a signed KRL is refused when it revokes every key that signed it.
//
// Zero-copy reading: the input is walked in place, only what the model
// keeps is copied. Every length is checked against what is left first.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "krl/krl.h"

namespace keyward::krl {

// How OpenSSH reports a KRL it refuses, for tools that must print what
// ssh-keygen prints: the lines its error() calls log first, and the
// ssh_err() text of the failure ("invalid format", "incomplete message").
struct OpenSshRefusal {
  std::vector<std::string> log;
  std::string reason;
};

// Error codes: krl_bad_magic, krl_truncated, krl_bad_format, krl_bad_serial,
// krl_bad_ca_key, krl_bad_signature, krl_signer_revoked, krl_too_large,
// krl_too_many_serials. `refusal`, when given, is filled on failure.
Result<Krl> ParseKrl(ByteView data, OpenSshRefusal* refusal = nullptr);

}  // namespace keyward::krl
