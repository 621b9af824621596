// Is a key revoked by a KRL? The semantics of OpenSSH's ssh_krl_check_key():
//
//   - any key: revoked when the SHA1 or SHA256 hash of its plain key, or
//     the plain key itself, is listed;
//   - a certificate, in addition: when its key ID, or its serial (unless
//     0), is revoked in the section of the CA that signed it or in the
//     wildcard section; or when that CA key itself is revoked as a key.
//
// Lookups are binary searches over the sorted model: a check costs two
// hashes and O(log n) comparisons, whatever the size of the KRL.
#pragma once

#include "key/public_key.h"
#include "krl/krl.h"

namespace keyward::krl {

bool IsRevoked(const Krl& krl, const key::PublicKey& key);

// The section of a CA (its CaKeyBlob; empty for the wildcard section), or
// null.
const CertificateSection* FindSection(const Krl& krl, ByteView ca_blob);

bool SectionRevokes(const CertificateSection& section, std::uint64_t serial, std::string_view key_id);

}  // namespace keyward::krl
