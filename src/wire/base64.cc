#include "wire/base64.h"

#include <array>
#include <cstdint>

namespace keyward::wire {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t kSpace = 64;
constexpr std::uint8_t kPad = 65;
constexpr std::uint8_t kBad = 66;

constexpr std::array<std::uint8_t, 256> MakeDecodeTable() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  // isspace() in the C locale, which is what b64_pton() skips.
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) t[c] = kSpace;
  t['='] = kPad;
  return t;
}

constexpr std::array<std::uint8_t, 256> kDecode = MakeDecodeTable();

Error BadBase64(std::string what) {
  return Error{"bad_base64", "the key data is not valid base64: " + std::move(what) +
                                 "; copy the whole key line again"};
}

}  // namespace

Result<void> DecodeBase64(std::string_view text, Bytes& out) {
  out.reserve(out.size() + text.size() / 4 * 3 + 3);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  std::uint32_t acc = 0;
  int state = 0;  // sextets held in the current quantum

  // Fast path: whole quanta of four valid characters.
  while (end - p >= 4) {
    std::uint8_t a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]], d = kDecode[p[3]];
    if ((a | b | c | d) >= 64) break;
    std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
    p += 4;
  }

  for (; p < end; ++p) {
    std::uint8_t v = kDecode[*p];
    if (v == kSpace) continue;
    if (v == kBad) {
      return Fail(BadBase64("unexpected character at offset " +
                            std::to_string(p - reinterpret_cast<const unsigned char*>(text.data()))));
    }
    if (v == kPad) {
      // "xx==" or "xxx=": at least two sextets before the first '='.
      if (state < 2) return Fail(BadBase64("misplaced '=' padding"));
      int pads_needed = state == 2 ? 2 : 1;
      int pads = 0;
      for (; p < end; ++p) {
        std::uint8_t w = kDecode[*p];
        if (w == kSpace) continue;
        if (w == kPad && pads < pads_needed) {
          ++pads;
          continue;
        }
        return Fail(BadBase64("data after the '=' padding"));
      }
      if (pads != pads_needed) return Fail(BadBase64("incomplete '=' padding"));
      if (state == 2) {
        if (acc & 0x0f) return Fail(BadBase64("non-zero bits before the padding"));
        out.push_back(static_cast<std::uint8_t>(acc >> 4));
      } else {
        if (acc & 0x03) return Fail(BadBase64("non-zero bits before the padding"));
        out.push_back(static_cast<std::uint8_t>(acc >> 10));
        out.push_back(static_cast<std::uint8_t>(acc >> 2));
      }
      return {};
    }
    acc = (acc << 6) | v;
    if (++state == 4) {
      out.push_back(static_cast<std::uint8_t>(acc >> 16));
      out.push_back(static_cast<std::uint8_t>(acc >> 8));
      out.push_back(static_cast<std::uint8_t>(acc));
      acc = 0;
      state = 0;
    }
  }
  if (state != 0) return Fail(BadBase64("truncated (its length is not a multiple of four)"));
  return {};
}

namespace {

void EncodeInto(ByteView data, std::string& out, bool pad) {
  std::size_t i = 0;
  const std::size_t n = data.size();
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (n - i == 2) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
}

}  // namespace

std::string EncodeBase64(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  EncodeInto(data, out, true);
  return out;
}

void AppendBase64Unpadded(ByteView data, std::string& out) { EncodeInto(data, out, false); }

}  // namespace keyward::wire
