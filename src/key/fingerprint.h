// Key fingerprints exactly as ssh-keygen -l prints them.
#pragma once

#include <string>

#include "key/public_key.h"

namespace keyward::key {

enum class FingerprintHash { kSha256, kMd5 };

// "SHA256:<unpadded base64>" or "MD5:<colon-separated lower-case hex>", of
// the plain public key (a certificate has its key's fingerprint).
std::string Fingerprint(const PublicKey& key, FingerprintHash hash = FingerprintHash::kSha256);

// The same, appended to `out`; the fast path for printing many keys.
void AppendFingerprint(const PublicKey& key, FingerprintHash hash, std::string& out);

// Fingerprint of a raw plain-key blob (for KRLs and key comparisons).
std::string Sha256FingerprintOfBlob(ByteView plain_blob);

}  // namespace keyward::key
