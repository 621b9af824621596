// CA private key files in the formats ssh-keygen reads (`ssh-keygen -s`
// signs with them, `ssh-keygen -y` prints their public key).
//
// Written:
//   no passphrase        openssh-key-v1, cipher "none" (PROTOCOL.key):
//                        plain SSH wire encoding, written here.
//   passphrase, Ed25519  openssh-key-v1 encrypted with bcrypt-pbkdf by
//                        libssh (loaded with dlopen only then, see
//                        libssh_loader.h): OpenSSL has no bcrypt-pbkdf.
//   passphrase, ECDSA    PKCS#8 "ENCRYPTED PRIVATE KEY" PEM by OpenSSL:
//   and RSA              PBES2, PBKDF2-HMAC-SHA256 (kPkcs8Iterations),
//                        AES-256-CBC. libssh 0.10 writes these types only
//                        as PEM too, with 2048 iterations, and cannot export
//                        RSA keys it read from openssh-key-v1 at all.
// Read: all of the above, unencrypted PEM/PKCS#8 keys, and openssh-key-v1
// keys that ssh-keygen encrypted (through libssh, which decrypts them).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "ca/ca_signer.h"
#include "ca/secret.h"

namespace keyward::ca {

inline constexpr std::size_t kMaxPrivateKeyFileBytes = 64 * 1024;
inline constexpr std::size_t kMaxPassphraseBytes = 1024;
inline constexpr int kPkcs8Iterations = 600'000;

// True when `text` is (the start of) a private key file of any format
// ssh-keygen writes: what `ca sign` refuses when given instead of a .pub.
bool LooksLikePrivateKey(std::string_view text);

// True when the key file needs a passphrase.
bool IsEncryptedPrivateKey(std::string_view text);

// The private key file for `signer`: unencrypted when `passphrase` is null
// or empty, else encrypted as described above. `comment` goes into
// openssh-key-v1 files (PEM has no comment).
Result<Secret> EncodePrivateKeyFile(const CaSigner& signer, std::string_view comment, const Secret* passphrase);

// Reads a private key file; `passphrase` may be null for unencrypted keys.
// Checks that the private key matches the public key the file records.
Result<CaSigner> DecodePrivateKeyFile(std::string_view text, const Secret* passphrase);

// The unencrypted openssh-key-v1 text alone (EncodePrivateKeyFile without
// passphrase).
Result<Secret> EncodeOpenSshPrivateKey(const CaSigner& signer, std::string_view comment);

}  // namespace keyward::ca
