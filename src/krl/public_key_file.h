// Finding the public key in a key file the way OpenSSH's
// sshkey_load_public() does, which is what `ssh-keygen -Q` and `-s CA.pub`
// use: the first line that reads as a key, skipping comments, blank lines
// and lines that do not parse; nothing once a line starts a PEM block (a
// private key). The comment is what follows the key on its line, without
// the line break; empty when there is none. Keys OpenSSH 9.2 does not know
// (ML-DSA) are skipped like any line it cannot read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "key/public_key.h"

namespace keyward::krl {

struct PublicKeyInFile {
  key::PublicKey key;
  std::string comment;  // raw bytes, may be empty
};

std::optional<PublicKeyInFile> FirstPublicKey(std::string_view content);

// A private key file: ssh-keygen then looks for FILE.pub instead.
bool LooksLikePrivateKey(std::string_view content);

struct LoadedPublicKey {
  PublicKeyInFile found;
  std::string from;  // the file it came from: `path`, or `path`.pub
};

// sshkey_load_public(): the first key in `path`, else in `path`.pub (the
// public half beside a private key). Error code "no_public_key", with a
// message that says which files were tried.
Result<LoadedPublicKey> LoadPublicKeyFile(const std::string& path);

}  // namespace keyward::krl
