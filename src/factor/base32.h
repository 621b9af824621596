// Base32 (RFC 4648, section 6), the alphabet authenticator apps use for
// TOTP secrets.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::factor {

// Upper case, no '=' padding: otpauth URIs carry secrets unpadded.
std::string Base32Encode(ByteView data);

// Lenient where people are (lower case; spaces, tabs, hyphens and line
// breaks anywhere; trailing '=' padding) and strict where a typo would
// hide: any other character, '=' before the end, a length no encoder
// produces, or stray non-zero bits in the last character are refused.
Result<Bytes> Base32Decode(std::string_view text);

}  // namespace keyward::factor
