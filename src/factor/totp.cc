#include "factor/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>

namespace keyward::factor {
namespace {

constexpr std::uint32_t kPowersOfTen[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Floor division: a step is the interval the time falls in, also for
// negative times (which then have no code).
std::int64_t StepOf(std::int64_t unix_time) {
  std::int64_t q = unix_time / kTotpStep;
  if (unix_time % kTotpStep != 0 && unix_time < 0) --q;
  return q;
}

// The 6 digits of `code`, or "" when it is not 6 digits (spaces allowed).
std::string NormalizeCode(std::string_view code) {
  std::string digits;
  for (char c : code) {
    if (c == ' ') continue;
    if (c < '0' || c > '9' || digits.size() == static_cast<std::size_t>(kTotpDigits)) return {};
    digits.push_back(c);
  }
  return digits.size() == static_cast<std::size_t>(kTotpDigits) ? digits : std::string();
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<Bytes> NewTotpSecret() {
  Bytes secret(kTotpSecretBytes);
  // RAND_priv_bytes: the generator OpenSSL keeps apart for long-term secrets.
  if (RAND_priv_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return Fail("random_failed", "the system's random number generator failed; try again");
  }
  return secret;
}

std::string Hotp(ByteView secret, std::uint64_t counter, int digits) {
  if (digits < kMinHotpDigits || digits > kMaxHotpDigits) return {};
  std::array<std::uint8_t, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // HMAC() accepts an empty key only through a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* key = secret.empty() ? &kEmpty : secret.data();
  if (HMAC(EVP_sha1(), key, static_cast<int>(secret.size()), message.data(), message.size(), mac.data(), &mac_len) ==
          nullptr ||
      mac_len != 20) {
    return {};
  }
  // RFC 4226 section 5.3, dynamic truncation.
  unsigned offset = mac[19] & 0x0f;
  std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                         (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                         (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint32_t value = binary % kPowersOfTen[digits];
  char text[16];
  std::snprintf(text, sizeof text, "%0*u", digits, value);
  OPENSSL_cleanse(mac.data(), mac.size());
  return text;
}

std::string TotpAt(ByteView secret, std::int64_t unix_time, int digits) {
  std::int64_t step = StepOf(unix_time);
  if (step < 0) return {};
  return Hotp(secret, static_cast<std::uint64_t>(step), digits);
}

bool VerifyTotp(ByteView secret, std::string_view code, std::int64_t now, std::int64_t* last_step) {
  std::string given = NormalizeCode(code);
  if (given.empty() || secret.empty()) return false;
  std::int64_t current = StepOf(now);
  std::int64_t matched = -1;
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    if (step < 0) continue;
    std::string expected = Hotp(secret, static_cast<std::uint64_t>(step), kTotpDigits);
    bool same = expected.size() == given.size() && CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
    OPENSSL_cleanse(expected.data(), expected.size());
    // No early exit: all three candidates cost the same whichever matched.
    // A later step wins, so that last_step moves as far as the code proves.
    if (same) matched = step;
  }
  if (matched < 0) return false;
  if (last_step != nullptr) {
    if (matched <= *last_step) return false;
    *last_step = matched;
  }
  return true;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, ByteView secret) {
  std::string out = "otpauth://totp/";
  out += PercentEncode(issuer);
  out += ':';
  out += PercentEncode(account);
  out += "?secret=" + Base32Encode(secret);
  out += "&issuer=" + PercentEncode(issuer);
  out += "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) + "&period=" + std::to_string(kTotpStep);
  return out;
}

}  // namespace keyward::factor
