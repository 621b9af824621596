// ssh-keygen's KRL specification files (ssh-keygen(1), KEY REVOCATION
// LISTS), read as `ssh-keygen -k` reads them, so that `keyward krl build
// --spec` accepts exactly what ssh-keygen accepts and revokes the same:
//
//   serial: N[-M]     certificates by serial (decimal, 0x hex or 0 octal,
//                     as strtoull reads them); needs a CA (or "none")
//   id: KEY_ID        certificates by key ID; needs a CA (or "none")
//   key: PUBLIC_KEY   the plain key, explicitly (a certificate: its key)
//   sha1: PUBLIC_KEY  its SHA1 hash
//   sha256: PUBLIC_KEY its SHA256 hash
//   hash: SHA256:FP   a SHA256 fingerprint as ssh-keygen -l prints it
//   PUBLIC_KEY        a plain key explicitly, a certificate by serial (by
//                     key ID when its serial is 0) under its CA
//
// Directives are case-insensitive; blanks around them, and '#' comments,
// are ignored; a bad line stops everything, with "FILE:LINE: reason".
#pragma once

#include <string_view>

#include "base/error.h"
#include "key/public_key.h"
#include "krl/krl.h"

namespace keyward::krl {

struct SpecOptions {
  const key::PublicKey* ca = nullptr;  // ssh-keygen -s CA.pub
  bool any_ca = false;                 // ssh-keygen -s none: the wildcard section
};

// Error code "bad_spec"; the message names the file and line.
Result<void> ApplySpec(std::string_view text, std::string_view path, const SpecOptions& options, KrlBuilder& builder);

}  // namespace keyward::krl
