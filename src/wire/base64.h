// Base64 as OpenSSH reads and writes it.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::wire {

// Decodes `text` the way OpenSSH's b64_pton() does, appending to `out`:
// white space anywhere is skipped, the input must end on a whole quantum
// (padding is required), nothing but white space may follow the padding and
// the bits the padding leaves over must be zero. On error `out` is left with
// unspecified contents.
Result<void> DecodeBase64(std::string_view text, Bytes& out);

// Standard base64 with padding (authorized_keys, certificates).
std::string EncodeBase64(ByteView data);

// Base64 without the trailing '=' padding, as in "SHA256:..." fingerprints.
// Appends to `out` so that callers can build lines without temporaries.
void AppendBase64Unpadded(ByteView data, std::string& out);

}  // namespace keyward::wire
