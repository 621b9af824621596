// TOTP (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps, 6 digits,
// the secret in base32 (RFC 4648) as authenticator apps expect.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "factor/base32.h"  // Base32Encode, Base32Decode

namespace keyward::factor {

inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
inline constexpr std::int64_t kTotpStep = 30;
inline constexpr int kTotpDigits = 6;
inline constexpr int kMinHotpDigits = 6;  // RFC 4226 section 5.3
inline constexpr int kMaxHotpDigits = 8;

// kTotpSecretBytes from the kernel's CSPRNG (OpenSSL's RAND_priv_bytes,
// seeded by getrandom(2)).
Result<Bytes> NewTotpSecret();

// RFC 4226: HMAC-SHA1 over the big-endian counter, dynamic truncation,
// zero-padded to `digits` (kMinHotpDigits..kMaxHotpDigits; any other value
// gives "", which matches no code).
std::string Hotp(ByteView secret, std::uint64_t counter, int digits = kTotpDigits);

// RFC 6238 with T0 = 0: Hotp(secret, floor(unix_time / 30)). Before 1970
// there is no step: "".
std::string TotpAt(ByteView secret, std::int64_t unix_time, int digits = kTotpDigits);

// Checks a 6-digit `code` (spaces between digits allowed, as apps show
// "123 456") against the steps now-1 .. now+1 (30 s of clock skew either
// way). Every candidate is computed and compared with CRYPTO_memcmp, so the
// time taken says nothing about which digits were right.
//
// `last_step` (in/out, may be null) is the step of the last code accepted
// for this secret; steps at or before it are refused, so a code cannot be
// replayed within its window, nor an older one used after a newer. Start it
// at 0. On success it is set to the step that matched.
bool VerifyTotp(ByteView secret, std::string_view code, std::int64_t now, std::int64_t* last_step);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
// (Google's Key URI format). Issuer and account are percent-encoded
// (RFC 3986 unreserved characters stay as they are).
std::string OtpauthUri(std::string_view issuer, std::string_view account, ByteView secret);

}  // namespace keyward::factor
