#include "factor/base32.h"

#include <cstdint>

namespace keyward::factor {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// -1: not a base32 digit.
int DigitValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '-' || c == '\n' || c == '\r'; }

}  // namespace

std::string Base32Encode(ByteView data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<Bytes> Base32Decode(std::string_view text) {
  Bytes out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t digits = 0;
  bool padding = false;
  for (char c : text) {
    if (IsBlank(c)) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int value = DigitValue(c);
    if (value < 0) return Fail("bad_base32", "the secret holds a character that is not base32 (A-Z, 2-7)");
    if (padding) return Fail("bad_base32", "the secret has '=' padding before its end");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    ++digits;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
    }
    buffer &= (1u << bits) - 1;  // keep only the bits not yet emitted
  }
  // 8 digits carry 5 bytes; 1, 3 or 6 digits past a full group carry no
  // whole byte, so no encoder writes them: a digit was lost or added.
  switch (digits % 8) {
    case 1:
    case 3:
    case 6:
      return Fail("bad_base32", "the secret's length is not a valid base32 length; a character is missing or extra");
    default:
      break;
  }
  if (buffer != 0) return Fail("bad_base32", "the secret's last character has stray bits; it was mistyped");
  return out;
}

}  // namespace keyward::factor
