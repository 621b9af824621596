// A public key pasted into a form (or uploaded as a .pub file) for keywardd
// to sign: exactly one key line, never a private key, options in front of
// the key or a certificate, and a key the key policy lets in. The errors are
// for the person who pasted it (docs/protocol.md, sign_cert).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "key/policy.h"
#include "key/public_key.h"

namespace keyward::daemon {

struct PastedKey {
  key::PublicKey key;
  std::string comment;  // cleaned: printable, trimmed (authkeys::CleanComment)
};

// Error codes: "private_key", "no_key", "several_keys", "options_in_key",
// "certificate", the key parser's codes ("invalid_key", "bad_base64", ...)
// and the policy's ("weak_key", "type_refused", "insecure_key").
Result<PastedKey> ParsePastedKey(std::string_view text, const key::KeyPolicy& policy);

}  // namespace keyward::daemon
