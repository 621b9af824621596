// A cursor over SSH wire data that fails exactly as OpenSSH's sshbuf
// getters do (which error, in which order), for the readers that must
// report what OpenSSH reports. Views point into the input: nothing is
// copied. Internal to src/krl.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/bytes.h"

namespace keyward::krl::internal {

// What OpenSSH's sshbuf getters report.
enum class ReadError { kNone, kIncomplete, kStringTooLarge, kNulInString, kBignumNegative, kBignumTooLarge };

inline const char* SshErrText(ReadError e) {
  switch (e) {
    case ReadError::kIncomplete:
      return "incomplete message";
    case ReadError::kStringTooLarge:
      return "string is too large";
    case ReadError::kNulInString:
      return "invalid format";
    case ReadError::kBignumNegative:
      return "bignum is negative";
    case ReadError::kBignumTooLarge:
      return "bignum is too large";
    case ReadError::kNone:
      break;
  }
  return "success";
}

// OpenSSH's largest buffer (SSHBUF_SIZE_MAX): a longer string length is
// "too large" before it is compared with what is left.
inline constexpr std::uint32_t kSshbufSizeMax = 0x8000000;
// SSHBUF_MAX_BIGNUM: 2048 bytes, plus a leading zero.
inline constexpr std::size_t kMaxBignumBytes = 2048;

// Walks the input in place; views point into it.
class Cursor {
 public:
  explicit Cursor(ByteView data, std::size_t start = 0) : data_(data), pos_(start) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  ReadError U8(std::uint8_t& v) {
    if (remaining() < 1) return ReadError::kIncomplete;
    v = data_[pos_++];
    return ReadError::kNone;
  }
  ReadError U32(std::uint32_t& v) {
    if (remaining() < 4) return ReadError::kIncomplete;
    const std::uint8_t* p = data_.data() + pos_;
    v = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    pos_ += 4;
    return ReadError::kNone;
  }
  ReadError U64(std::uint64_t& v) {
    std::uint32_t hi = 0, lo = 0;
    if (remaining() < 8) return ReadError::kIncomplete;
    U32(hi);
    U32(lo);
    v = (std::uint64_t{hi} << 32) | lo;
    return ReadError::kNone;
  }
  ReadError String(ByteView& v) {
    if (remaining() < 4) return ReadError::kIncomplete;
    const std::uint8_t* p = data_.data() + pos_;
    std::uint32_t len = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    if (len > kSshbufSizeMax - 4) return ReadError::kStringTooLarge;
    if (remaining() - 4 < len) return ReadError::kIncomplete;
    v = data_.subspan(pos_ + 4, len);
    pos_ += 4 + std::size_t{len};
    return ReadError::kNone;
  }
  // sshbuf_get_cstring(): one NUL allowed, as the last byte (dropped).
  ReadError CString(std::string_view& v) {
    std::size_t before = pos_;
    ByteView s;
    if (ReadError e = String(s); e != ReadError::kNone) return e;
    if (!s.empty()) {
      const void* nul = std::memchr(s.data(), 0, s.size());
      if (nul != nullptr && static_cast<const std::uint8_t*>(nul) < s.data() + s.size() - 1) {
        pos_ = before;
        return ReadError::kNulInString;
      }
      if (s.back() == 0) s = s.first(s.size() - 1);
    }
    v = AsText(s);
    return ReadError::kNone;
  }
  // sshbuf_get_bignum2_bytes_direct(): the magnitude, leading zeros gone.
  ReadError Bignum(ByteView& v) {
    std::size_t before = pos_;
    ByteView s;
    if (ReadError e = String(s); e != ReadError::kNone) return e;
    ReadError e = ReadError::kNone;
    if (!s.empty() && (s[0] & 0x80) != 0) e = ReadError::kBignumNegative;
    else if (s.size() > kMaxBignumBytes + 1 || (s.size() == kMaxBignumBytes + 1 && s[0] != 0))
      e = ReadError::kBignumTooLarge;
    if (e != ReadError::kNone) {
      pos_ = before;
      return e;
    }
    while (!s.empty() && s[0] == 0) s = s.subspan(1);
    v = s;
    return ReadError::kNone;
  }

 private:
  ByteView data_;
  std::size_t pos_;
};

}  // namespace keyward::krl::internal
