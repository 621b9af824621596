#include "web/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace keyward::web {

namespace {

// Longest text inet_pton reads ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").
constexpr std::size_t kMaxAddressChars = INET6_ADDRSTRLEN;

struct Parsed {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
};

std::optional<Parsed> Parse(std::string_view text) {
  if (text.empty() || text.size() >= kMaxAddressChars) return std::nullopt;
  char buf[kMaxAddressChars];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Parsed p;
  if (inet_pton(AF_INET, buf, p.bytes.data()) == 1) return p;
  if (inet_pton(AF_INET6, buf, p.bytes.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(p.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(p.bytes.data(), p.bytes.data() + 12, 4);
    std::memset(p.bytes.data() + 4, 0, 12);
    return p;
  }
  p.v6 = true;
  return p;
}

std::string Format(const Parsed& p) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.bytes.data(), buf, sizeof buf) == nullptr) return {};
  return buf;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> CanonicalAddress(std::string_view text) {
  auto p = Parse(text);
  if (!p) return std::nullopt;
  return Format(*p);
}

Result<ProxyList> ProxyList::Parse(const std::vector<std::string>& entries) {
  ProxyList list;
  for (const std::string& entry : entries) {
    std::string_view text = entry;
    std::string_view length;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      length = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    auto address = web::Parse(text);
    if (!address) return Fail("bad_proxy", "trusted proxy \"" + entry + "\" is not an IP address or network");
    Net net;
    net.v6 = address->v6;
    net.bytes = address->bytes;
    unsigned max = net.v6 ? 128 : 32;
    net.prefix = max;
    if (entry.find('/') != std::string::npos) {
      auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), net.prefix);
      if (ec != std::errc() || end != length.data() + length.size() || length.empty() || net.prefix > max) {
        return Fail("bad_proxy", "trusted proxy \"" + entry + "\" has a bad prefix length");
      }
    }
    list.nets_.push_back(net);
  }
  return list;
}

bool ProxyList::Contains(std::string_view address) const {
  auto p = web::Parse(address);
  if (!p) return false;
  for (const Net& net : nets_) {
    if (net.v6 != p->v6) continue;
    unsigned full = net.prefix / 8, rest = net.prefix % 8;
    if (std::memcmp(net.bytes.data(), p->bytes.data(), full) != 0) continue;
    if (rest != 0) {
      auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((net.bytes[full] & mask) != (p->bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string ClientAddress(std::string_view peer, const std::vector<std::string_view>& forwarded_for,
                          const ProxyList& trusted) {
  std::string client = CanonicalAddress(peer).value_or(std::string(peer));
  if (!trusted.Contains(client)) return client;
  // Walk the hops right to left: the right-most header's right-most entry
  // was written by the proxy we are talking to.
  std::size_t hops = 0;
  for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
    std::string_view list = *header;
    while (true) {
      std::size_t comma = list.rfind(',');
      std::string_view entry = Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (++hops > kMaxForwardedHops) return client;
      auto address = CanonicalAddress(entry);
      // A hop that is not an address ends the walk: the proxy to its right
      // is the last one we can name.
      if (!address) return client;
      client = *address;
      if (!trusted.Contains(client)) return client;
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return client;
}

}  // namespace keyward::web
