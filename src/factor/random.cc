#include "factor/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace keyward::factor {

Result<Bytes> RandomBytes(std::size_t n) {
  Bytes out(n);
  std::size_t got = 0;
  while (got < n) {
    // Blocks only before the pool is first initialised, never afterwards.
    ssize_t r = getrandom(out.data() + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Fail("random_failed", std::string("the kernel gave no random bytes: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(r);
  }
  return out;
}

Result<std::string> RandomDigits(int digits) {
  if (digits < kMinCodeDigits || digits > kMaxCodeDigits) {
    return Fail("bad_digits", "a code has " + std::to_string(kMinCodeDigits) + " to " +
                                  std::to_string(kMaxCodeDigits) + " digits");
  }
  std::string code;
  while (code.size() < static_cast<std::size_t>(digits)) {
    auto bytes = RandomBytes(static_cast<std::size_t>(digits) * 2);
    if (!bytes) return Fail(bytes.error());
    for (std::uint8_t b : *bytes) {
      // 250 = 25 * 10: the bytes below it fall evenly on the ten digits.
      if (b >= 250) continue;
      code.push_back(static_cast<char>('0' + b % 10));
      if (code.size() == static_cast<std::size_t>(digits)) break;
    }
  }
  return code;
}

Result<std::string> RandomToken() {
  auto bytes = RandomBytes(kTokenBytes);
  if (!bytes) return Fail(bytes.error());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kTokenBytes * 2);
  for (std::uint8_t b : *bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace keyward::factor
