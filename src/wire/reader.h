// A bounds-checked reader for the SSH wire encoding (RFC 4251 section 5).
// Every read checks its length against what is left before touching memory;
// nothing is allocated from a length that came from outside.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace keyward::wire {

// The largest mpint OpenSSH reads (SSHBUF_MAX_BIGNUM, 16384 bits).
inline constexpr std::size_t kMaxBignumBytes = 16384 / 8;

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  Result<std::uint8_t> U8();
  Result<std::uint32_t> U32();
  Result<std::uint64_t> U64();
  // A length-prefixed string, as a view into the input.
  Result<ByteView> String();
  // A string that must hold no NUL byte except, as OpenSSH's
  // sshbuf_get_cstring() allows, one as its last byte, which is not part of
  // the value returned.
  Result<std::string_view> CString();
  // A non-negative mpint; returns its magnitude without leading zeros.
  Result<ByteView> MPInt();

  bool empty() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t offset() const { return pos_; }

 private:
  Result<ByteView> Take(std::size_t n);

  ByteView data_;
  std::size_t pos_ = 0;
};

// Names the field in an error from a Reader: "truncated certificate (serial)".
Error FieldError(const Error& inner, std::string_view field);

}  // namespace keyward::wire
