#include "authkeys/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace keyward::authkeys {

namespace {

constexpr std::string_view kCidrChars = "0123456789abcdefABCDEF.:/";

struct Address {
  int family = AF_UNSPEC;         // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};
  unsigned bits() const { return family == AF_INET ? 32 : 128; }
};

// addr.c addr_pton(): the address as getaddrinfo(AI_NUMERICHOST) reads it,
// so that keyward accepts what sshd on this system accepts. No name is
// looked up: AI_NUMERICHOST refuses anything but a literal address.
std::optional<Address> ReadAddress(const std::string& text) {
  struct addrinfo hints {};
  hints.ai_flags = AI_NUMERICHOST;
  struct addrinfo* found = nullptr;
  if (getaddrinfo(text.c_str(), nullptr, &hints, &found) != 0) return std::nullopt;
  std::optional<Address> out;
  if (found != nullptr && found->ai_addr != nullptr) {
    Address a;
    // memcpy out of the sockaddr: ai_addr is a generic, maybe unaligned view.
    if (found->ai_family == AF_INET && found->ai_addrlen >= sizeof(sockaddr_in)) {
      sockaddr_in sin;
      std::memcpy(&sin, found->ai_addr, sizeof sin);
      a.family = AF_INET;
      std::memcpy(a.bytes.data(), &sin.sin_addr, 4);
      out = a;
    } else if (found->ai_family == AF_INET6 && found->ai_addrlen >= sizeof(sockaddr_in6)) {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, found->ai_addr, sizeof sin6);
      a.family = AF_INET6;
      std::memcpy(a.bytes.data(), &sin6.sin6_addr, 16);
      out = a;
    }
  }
  freeaddrinfo(found);
  return out;
}

// The address with every bit beyond the first `prefix` cleared.
Address Network(Address a, unsigned prefix) {
  for (unsigned i = 0; i < a.bits() / 8; ++i) {
    unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;
    if (keep < 8) a.bytes[i] = static_cast<std::uint8_t>(a.bytes[i] & (0xff00u >> keep));
  }
  return a;
}

std::string Format(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(a.family, a.bytes.data(), buf, sizeof buf);
  return buf;
}

// The entry as a person can read it in a message: it may come from a
// certificate, so anything unprintable is shown as \xNN.
std::string Printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

tl::unexpected<Error> BadEntry(std::string_view entry, std::string_view why) {
  return Fail("bad_address_list", "source address entry \"" + Printable(entry) + "\" " + std::string(why));
}

// addr.c addr_pton_cidr(): "address[/prefix]".
Result<void> ValidateEntry(std::string_view entry) {
  if (entry.size() > kMaxCidrEntryBytes) {
    return BadEntry(entry.substr(0, kMaxCidrEntryBytes), "... is longer than " +
                                                             std::to_string(kMaxCidrEntryBytes) + " bytes");
  }
  if (entry.find_first_not_of(kCidrChars) != std::string_view::npos) {
    return BadEntry(entry, "holds a character other than hex digits, '.', ':' and '/'; host names, "
                           "wildcards and negation are not allowed in a certificate's source-address");
  }
  std::size_t slash = entry.find('/');
  unsigned prefix = 0;
  bool has_prefix = slash != std::string_view::npos;
  if (has_prefix) {
    // strtoul() after a digit check: digits only (the entry is short, so
    // the value cannot overflow), and at most 128 before the family is known.
    std::string_view digits = entry.substr(slash + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return BadEntry(entry, "has a prefix length that is not a decimal number");
    }
    for (char c : digits) prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    if (prefix > 128) return BadEntry(entry, "has a prefix length above 128");
  }
  auto address = ReadAddress(std::string(entry.substr(0, slash)));
  if (!address) return BadEntry(entry, "is not an IPv4 or IPv6 address with an optional /prefix length");
  if (!has_prefix) prefix = address->bits();
  if (prefix > address->bits()) return BadEntry(entry, "has a prefix length above 32 for an IPv4 address");
  Address network = Network(*address, prefix);
  if (network.bytes != address->bytes) {
    return BadEntry(entry, "has address bits set beyond its /" + std::to_string(prefix) + " prefix; write " +
                               Format(network) + "/" + std::to_string(prefix));
  }
  return {};
}

}  // namespace

Result<void> ValidateCidrList(std::string_view list) {
  if (list.empty()) {
    return Fail("bad_address_list", "the source address list is empty; give networks such as "
                                    "192.0.2.0/24,2001:db8::/32");
  }
  // strsep(",") semantics: "a," has an empty last entry, refused below.
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = list.find(',', start);
    std::string_view entry = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (entry.empty()) {
      return Fail("bad_address_list", "the source address list \"" + Printable(list.substr(0, 100)) +
                                          "\" has an empty entry (two commas, or a comma at an end)");
    }
    auto checked = ValidateEntry(entry);
    if (!checked) return checked;
    if (comma == std::string_view::npos) return {};
    start = comma + 1;
  }
}

}  // namespace keyward::authkeys
