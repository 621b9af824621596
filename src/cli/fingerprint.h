// `keyward fingerprint`: ssh-keygen -l, byte for byte, and faster.
#pragma once

#include <string>
#include <string_view>

#include "key/fingerprint.h"

namespace keyward::cli {

struct FingerprintRequest {
  std::string_view content;   // the whole file
  std::string display_name;   // "(stdin)" for standard input
  bool from_stdin = false;
  key::FingerprintHash hash = key::FingerprintHash::kSha256;
  bool json = false;
};

struct CommandOutput {
  std::string out;
  std::string err;
  int exit_code = 0;
};

// Reads the content the way ssh-keygen -l -f does (public key files,
// authorized_keys with options, known_hosts with host names) and prints
// "<bits> <fingerprint> <comment> (<TYPE>)" for each key. Lines ssh-keygen
// skips silently are named on `err` with their line number and the reason.
// Exit code 255 and "<file> is not a public key file." when no key was found,
// as ssh-keygen.
CommandOutput RunFingerprint(const FingerprintRequest& request);

}  // namespace keyward::cli
