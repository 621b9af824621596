#include "wire/reader.h"

#include <cstring>
#include <string>

namespace keyward::wire {

Result<ByteView> Reader::Take(std::size_t n) {
  if (n > remaining()) {
    return Fail("truncated", "the data ends early: " + std::to_string(n) + " bytes wanted, " +
                                 std::to_string(remaining()) + " left");
  }
  ByteView out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<std::uint8_t> Reader::U8() {
  auto b = Take(1);
  if (!b) return Fail(b.error());
  return (*b)[0];
}

Result<std::uint32_t> Reader::U32() {
  auto b = Take(4);
  if (!b) return Fail(b.error());
  const auto& v = *b;
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) | v[3];
}

Result<std::uint64_t> Reader::U64() {
  auto hi = U32();
  if (!hi) return Fail(hi.error());
  auto lo = U32();
  if (!lo) return Fail(lo.error());
  return (std::uint64_t{*hi} << 32) | *lo;
}

Result<ByteView> Reader::String() {
  auto len = U32();
  if (!len) return Fail(len.error());
  // The length is checked against what is left before it is used.
  return Take(*len);
}

Result<std::string_view> Reader::CString() {
  auto s = String();
  if (!s) return Fail(s.error());
  ByteView v = *s;
  // sshbuf_get_cstring() allows one NUL, as the last byte, and the value
  // then ends before it.
  if (!v.empty() && v.back() == 0) v = v.first(v.size() - 1);
  if (!v.empty() && std::memchr(v.data(), 0, v.size()) != nullptr) {
    return Fail("nul_in_string", "a text field holds a NUL byte");
  }
  return AsText(v);
}

Result<ByteView> Reader::MPInt() {
  auto s = String();
  if (!s) return Fail(s.error());
  ByteView v = *s;
  if (!v.empty() && (v[0] & 0x80) != 0) {
    return Fail("negative_bignum", "a number in the key is negative");
  }
  if (v.size() > kMaxBignumBytes + 1 || (v.size() == kMaxBignumBytes + 1 && v[0] != 0)) {
    return Fail("bignum_too_large", "a number in the key is larger than 16384 bits");
  }
  while (!v.empty() && v[0] == 0) v = v.subspan(1);
  return v;
}

Error FieldError(const Error& inner, std::string_view field) {
  return Error{inner.code, inner.message + " (in the " + std::string(field) + " field)"};
}

}  // namespace keyward::wire
