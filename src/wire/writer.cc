#include "wire/writer.h"

namespace keyward::wire {

void Writer::U32(std::uint32_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 24));
  out_.push_back(static_cast<std::uint8_t>(v >> 16));
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::U64(std::uint64_t v) {
  U32(static_cast<std::uint32_t>(v >> 32));
  U32(static_cast<std::uint32_t>(v));
}

void Writer::String(ByteView v) {
  U32(static_cast<std::uint32_t>(v.size()));
  Raw(v);
}

void Writer::MPInt(ByteView magnitude) {
  while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
  bool pad = !magnitude.empty() && (magnitude[0] & 0x80) != 0;
  U32(static_cast<std::uint32_t>(magnitude.size() + (pad ? 1 : 0)));
  if (pad) out_.push_back(0);
  Raw(magnitude);
}

}  // namespace keyward::wire
