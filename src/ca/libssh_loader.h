// libssh, loaded with dlopen("libssh.so.4") only when a passphrase-protected
// openssh-key-v1 key is written or read.
//
// Why dlopen: the keyward binary runs on every ssh login (sshd's
// AuthorizedKeysCommand) and links libcrypto statically to start fast; a
// DT_NEEDED on libssh would load libssh, its own libcrypto.so and Kerberos
// on every login. libssh brings that separate libcrypto instance with it,
// so only text crosses this boundary, never an OpenSSL object; the library
// is opened with RTLD_DEEPBIND so that it binds to its own libcrypto even
// when the program exports the statically linked one.
#pragma once

#include <string_view>

#include "base/error.h"
#include "ca/secret.h"

namespace keyward::ca::libssh {

// Encrypts an unencrypted openssh-key-v1 Ed25519 key file with
// `passphrase` (libssh: bcrypt-pbkdf, 16 rounds). Returns the new file.
Result<Secret> EncryptEd25519KeyFile(std::string_view plain_key_file, const Secret& passphrase);

// Decrypts a passphrase-protected openssh-key-v1 key file. Returns an
// unencrypted key file: openssh-key-v1 for Ed25519, PKCS#8 PEM otherwise.
// Error code "bad_passphrase" when the passphrase does not open it.
Result<Secret> DecryptKeyFile(std::string_view encrypted_key_file, const Secret& passphrase);

}  // namespace keyward::ca::libssh
