// A certificate described exactly as `ssh-keygen -L` prints it (OpenSSH
// 9.2): type, key and CA fingerprints, key id, serial, validity in the
// local time zone, principals, critical options and extensions.
#pragma once

#include <string>

#include "base/error.h"
#include "key/public_key.h"

namespace keyward::ca {

// Appends the indented lines ssh-keygen -L prints under the "FILE:" line.
// Options are shown as ssh-keygen shows them: known flags by name,
// force-command and source-address with their value, anything else as
// "UNKNOWN OPTION: <hex> (len N)" or "UNKNOWN FLAG OPTION". Where ssh-keygen
// stops at a corrupt option (a known flag with data, a value with bytes after
// it) this stops too, after the same partial output, with error code
// "corrupt_option".
Result<void> AppendCertificateDetails(const key::PublicKey& certificate, std::string& out);

}  // namespace keyward::ca
