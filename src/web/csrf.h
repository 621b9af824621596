// CSRF tokens for keyward-web's forms. A token is a random nonce and an
// HMAC-SHA256 over (scope, binding, nonce) under a key that lives only in
// this process's memory:
//   - before sign-in the binding is a random cookie the page sets (a signed
//     double-submit cookie), so the login page costs one HMAC per request;
//   - after sign-in it is the session token, so a token taken from one
//     session is worthless in another.
// A fresh nonce per page means no two pages carry the same token, which
// also keeps the token out of reach of compression side channels (BREACH).
// Restarting keyward-web makes open forms stale: they get the 403 page.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace keyward::web {

inline constexpr std::size_t kCsrfNonceBytes = 16;
inline constexpr std::size_t kCsrfMacBytes = 16;
inline constexpr std::size_t kCsrfTokenChars = 2 * (kCsrfNonceBytes + kCsrfMacBytes);
inline constexpr std::size_t kCsrfKeyBytes = 32;

enum class CsrfScope : std::uint8_t { kAnonymous = 1, kSession = 2 };

// `bytes` bytes from the kernel's CSPRNG (getrandom(2)), as lowercase hex.
Result<std::string> RandomHex(std::size_t bytes);

class CsrfSigner {
 public:
  using Key = std::array<std::uint8_t, kCsrfKeyBytes>;

  // A signer with a fresh random key.
  static Result<CsrfSigner> Create();
  explicit CsrfSigner(const Key& key) : key_(key) {}

  // A new token for a form of `scope`, bound to `binding` (the anonymous
  // cookie or the session token). Empty only if the CSPRNG failed.
  std::string Issue(CsrfScope scope, std::string_view binding) const;

  // True when `token` was issued by this signer for `scope` and `binding`.
  // An empty binding never verifies. Compares in constant time.
  bool Check(CsrfScope scope, std::string_view binding, std::string_view token) const;

 private:
  std::array<std::uint8_t, kCsrfMacBytes> Mac(CsrfScope scope, std::string_view binding,
                                             const std::uint8_t* nonce) const;
  Key key_;
};

}  // namespace keyward::web
