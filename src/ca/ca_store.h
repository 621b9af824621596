// The CA folder (config ca.dir, /var/lib/keyward/ca by default): owned by
// the user keyward runs as (root in production) and mode 0700, holding
//   user_ca, user_ca.pub   the user CA key (0600) and its public key
//   host_ca, host_ca.pub   the host CA key, kept apart from the user CA
//   serial, serial.lock    the serial counter (serial_counter.h)
//   issued.log             the issuance log (issuance_log.h)
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "ca/ca_signer.h"
#include "ca/secret.h"
#include "fs/safe_file.h"
#include "key/public_key.h"

namespace keyward::ca {

inline constexpr const char* kUserCaKeyFile = "user_ca";
inline constexpr const char* kHostCaKeyFile = "host_ca";

// "user_ca" or "host_ca".
std::string CaKeyFileName(key::CertType type);

// Opens the CA folder: a real folder (no symlink as its last component),
// owned by the effective user, with no group or other permissions. With
// `create`, makes it (mode 0700) and any missing parents (0755) first.
Result<fs::UniqueFd> OpenCaDirectory(const std::string& path, bool create);

struct CreatedCaKey {
  std::string public_line;  // "ssh-ed25519 AAAA... comment\n", as in the .pub file
  std::string fingerprint;  // SHA256:...
  std::string key_type;     // "ED25519"
};

// Generates a CA key and writes <name> (0600, created without replacing
// anything: an existing CA key is never overwritten, error code
// "ca_exists") and <name>.pub, synced, then makes sure the serial counter
// exists. The key is read back before it is written, so that a file keyward
// cannot load is never left behind.
Result<CreatedCaKey> CreateCaKey(int ca_dirfd, key::CertType type, const CaKeySpec& spec, const Secret* passphrase,
                                 std::string_view comment);

// Loads the CA key: the file must be a regular file owned by the effective
// user and readable by nobody else. `passphrase` may be null; an encrypted
// key then fails with "passphrase_required".
Result<CaSigner> LoadCaKey(int ca_dirfd, key::CertType type, const Secret* passphrase);

// The CA's public key from <name>.pub (what sshd's TrustedUserCAKeys and
// KRLs name), without loading the private key.
Result<key::PublicKey> ReadCaPublicKey(int ca_dirfd, key::CertType type);

// A CA folder opened and its key loaded: what a signer keeps for its life.
struct OpenedCa {
  fs::UniqueFd dir;
  CaSigner signer;
};
Result<OpenedCa> OpenCa(const std::string& ca_dir, key::CertType type, const Secret* passphrase);

}  // namespace keyward::ca
