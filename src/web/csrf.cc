#include "web/csrf.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace keyward::web {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

Result<void> FillRandom(std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Fail("no_random", std::string("getrandom failed: ") + std::strerror(errno));
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return {};
}

void AppendHex(const std::uint8_t* data, std::size_t n, std::string& out) {
  for (std::size_t i = 0; i < n; ++i) {
    out += kHexDigits[data[i] >> 4];
    out += kHexDigits[data[i] & 0xf];
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is never issued, so it is refused
}

bool DecodeHex(std::string_view hex, std::uint8_t* out) {
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

Result<std::string> RandomHex(std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  if (auto ok = FillRandom(raw.data(), raw.size()); !ok) return Fail(ok.error());
  std::string out;
  out.reserve(2 * bytes);
  AppendHex(raw.data(), raw.size(), out);
  return out;
}

Result<CsrfSigner> CsrfSigner::Create() {
  Key key{};
  if (auto ok = FillRandom(key.data(), key.size()); !ok) return Fail(ok.error());
  return CsrfSigner(key);
}

std::array<std::uint8_t, kCsrfMacBytes> CsrfSigner::Mac(CsrfScope scope, std::string_view binding,
                                                        const std::uint8_t* nonce) const {
  // scope || nonce || binding: the scope and the fixed-size nonce come
  // first so that no two (scope, binding, nonce) give the same message.
  std::string message;
  message.reserve(1 + kCsrfNonceBytes + binding.size());
  message += static_cast<char>(scope);
  message.append(reinterpret_cast<const char*>(nonce), kCsrfNonceBytes);
  message += binding;
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int full_len = 0;
  std::array<std::uint8_t, kCsrfMacBytes> mac{};
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), full, &full_len) == nullptr ||
      full_len < kCsrfMacBytes) {
    // Cannot happen with a built-in digest; a zero MAC with a random key
    // simply never verifies.
    return mac;
  }
  std::memcpy(mac.data(), full, kCsrfMacBytes);
  return mac;
}

std::string CsrfSigner::Issue(CsrfScope scope, std::string_view binding) const {
  std::uint8_t nonce[kCsrfNonceBytes];
  if (!FillRandom(nonce, sizeof nonce)) return {};
  auto mac = Mac(scope, binding, nonce);
  std::string token;
  token.reserve(kCsrfTokenChars);
  AppendHex(nonce, sizeof nonce, token);
  AppendHex(mac.data(), mac.size(), token);
  return token;
}

bool CsrfSigner::Check(CsrfScope scope, std::string_view binding, std::string_view token) const {
  if (binding.empty() || token.size() != kCsrfTokenChars) return false;
  std::uint8_t raw[kCsrfNonceBytes + kCsrfMacBytes];
  if (!DecodeHex(token, raw)) return false;
  auto expected = Mac(scope, binding, raw);
  return CRYPTO_memcmp(expected.data(), raw + kCsrfNonceBytes, kCsrfMacBytes) == 0;
}

}  // namespace keyward::web
