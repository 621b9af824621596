// The CA's persistent revocation list, <ca.dir>/revocations: what `keyward
// ca revoke` revoked, one JSON object per line, appended under a lock and
// synced before the command reports success; never rewritten. The KRL is
// derived from it (and from the accounts' revoked/ folders), so a lost or
// torn KRL can always be built again.
//
//   {"time":1763712000,"who":"root","ca":"ssh-ed25519 AAAA...","serials":[5,9]}
//   {"time":...,"who":...,"ca":"ssh-ed25519 AAAA...","key_id":"alice-laptop"}
//   {"time":...,"who":...,"key":"ssh-ed25519 AAAA..."}
//
// Each record names its CA by the CA's public key, not by a file name, so
// that the revocations of a CA that was replaced still apply to the
// certificates it signed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "krl/krl.h"

namespace keyward::krl {

inline constexpr const char* kRevocationsFile = "revocations";
inline constexpr const char* kRevocationsLock = "revocations.lock";
inline constexpr std::size_t kMaxRevocationsBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxRevocationLineBytes = std::size_t{128} << 10;

struct Revocation {
  enum class Kind { kSerials, kKeyId, kKey };
  Kind kind = Kind::kSerials;
  std::int64_t time = 0;
  std::string who;
  std::string ca;       // the CA public key, "type base64" (kSerials, kKeyId)
  std::uint64_t first = 0;  // kSerials
  std::uint64_t last = 0;
  std::string key_id;   // kKeyId
  std::string key;      // kKey: a public key or certificate, "type base64"
};

// One line, '\n' included.
std::string FormatRevocation(const Revocation& r);
Result<Revocation> ParseRevocation(std::string_view line);

struct RevocationList {
  std::vector<Revocation> records;
  std::vector<std::string> warnings;  // a torn last line, left out
};

// A last line without its '\n' was cut by a crash before the command that
// wrote it reported success: it is left out with a warning. Any other bad
// line is an error (the list must not silently lose a revocation).
Result<RevocationList> ParseRevocationList(std::string_view text);

// Adds a record's revocation to a KRL being built: serials and key IDs
// under its CA, a key as ssh-keygen -k revokes a key line (a plain key
// explicitly; a certificate by serial, or key ID when its serial is 0).
Result<void> ApplyRevocation(const Revocation& r, KrlBuilder& builder);

// Reads <dir>/revocations; a missing file is an empty list. `dirfd` is the
// CA folder.
Result<RevocationList> ReadRevocationList(int dirfd);

// Appends the records, synced, to <dir>/revocations (created 0600). The
// caller holds the revocations lock. A torn last line left by a crash is
// closed with a '\n' first, so that it cannot swallow the new record.
Result<void> AppendRevocations(int dirfd, const std::vector<Revocation>& records);

}  // namespace keyward::krl
