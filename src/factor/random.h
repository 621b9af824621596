// Secrets from the kernel's CSPRNG (getrandom(2)): one-time codes and
// tokens. Nothing here is derived from time or a process id.
#pragma once

#include <cstddef>
#include <string>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::factor {

inline constexpr std::size_t kTokenBytes = 32;  // 256 bits
inline constexpr int kMinCodeDigits = 6;
inline constexpr int kMaxCodeDigits = 12;

// `n` bytes from getrandom(2); fails only if the kernel cannot give them.
Result<Bytes> RandomBytes(std::size_t n);

// A decimal code of `digits` digits (kMinCodeDigits..kMaxCodeDigits), each
// digit uniform: bytes at or above 250 are drawn again, so no modulo bias.
Result<std::string> RandomDigits(int digits);

// kTokenBytes as 64 lower-case hex digits.
Result<std::string> RandomToken();

}  // namespace keyward::factor
