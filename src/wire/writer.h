// Builds SSH wire encodings: canonical key blobs, certificates, KRLs.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace keyward::wire {

class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(v); }
  void U32(std::uint32_t v);
  void U64(std::uint64_t v);
  void String(ByteView v);
  void String(std::string_view v) { String(AsBytes(v)); }
  // Writes a non-negative number given as big-endian magnitude, in the
  // shortest form: leading zeros dropped, a zero byte added when the top bit
  // is set.
  void MPInt(ByteView magnitude);
  void Raw(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }

  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

}  // namespace keyward::wire
