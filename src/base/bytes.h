// Byte buffers. Wire data is bytes, not text: keep the two apart in types.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace keyward {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view AsText(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline bool Equal(ByteView a, ByteView b) {
  return AsText(a) == AsText(b);
}

}  // namespace keyward
