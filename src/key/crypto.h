// The only place keyward touches cryptography: thin wrappers over OpenSSL 3.
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.h"
#include "base/error.h"
#include "key/key_type.h"

namespace keyward::key {

class PublicKey;

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

Sha256Digest Sha256(ByteView data);
Md5Digest Md5(ByteView data);

// Checks an uncompressed EC point the way OpenSSH's
// sshkey_ec_validate_public() does: on the curve, not infinity, of the
// group's order, coordinates in range.
Result<void> ValidateEcPoint(Curve curve, ByteView point);

// Verifies an SSH signature blob (string algorithm, string signature, and
// for security keys flags and counter) made by `signer` over `data`.
Result<void> VerifySignature(const PublicKey& signer, ByteView signature_blob, ByteView data);

// Number of significant bits of a big-endian magnitude.
unsigned BitLength(ByteView magnitude);

}  // namespace keyward::key
