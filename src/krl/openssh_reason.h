// What OpenSSH 9.2 says when it refuses a key or a signature inside a KRL:
// the ssh_err() text that `ssh-keygen -Q` prints after "Invalid KRL file
// F: ". keyward's key parser decides whether a key is valid; these
// functions only find the words OpenSSH uses for the first thing wrong,
// walking the blob in OpenSSH's order (sshkey_from_blob(), cert_parse(),
// sshkey_verify()) with its error for each field.
#pragma once

#include <optional>

#include "base/bytes.h"
#include "base/error.h"
#include "key/public_key.h"

namespace keyward::krl {

// The reason sshkey_from_blob() refuses `blob`, or nullopt when OpenSSH 9.2
// reads it. `keyward_error` (from key::ParsePublicKeyBlob) is the fallback
// for what the walk does not look at.
std::optional<const char*> KeyBlobReason(ByteView blob, const Error* keyward_error = nullptr);

// The reason sshkey_verify() refuses a signature by `signer` that keyward
// found not to verify.
const char* SignatureReason(const key::PublicKey& signer, ByteView signature);

// OpenSSH 9.2 predates ML-DSA: such keys, and certificates they sign, are
// unknown to it.
bool KnownToOpenSsh92(const key::PublicKey& key);

}  // namespace keyward::krl
