// Who the end user is, for keywardd's rate limits, alerts and audit log.
// X-Forwarded-For is anyone's to write, so it is read only when the TCP peer
// is a proxy the administrator named, and then only as far as the proxies
// vouch for it: right to left, past the trusted proxies, up to the first
// address that is not one (the right-most untrusted hop). Anything a client
// put further left is ignored.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::web {

// X-Forwarded-For entries looked at, at most (a chain of proxies is short).
inline constexpr std::size_t kMaxForwardedHops = 32;

// An IPv4 or IPv6 address in inet_ntop's form; an IPv4-mapped IPv6 address
// ("::ffff:192.0.2.1", what a dual-stack socket reports) becomes IPv4.
// Nothing for anything else (host names, ports, zone ids, garbage).
std::optional<std::string> CanonicalAddress(std::string_view text);

// The trusted proxies: addresses and networks ("10.0.0.1", "10.0.0.0/8",
// "::1", "fd00::/8").
class ProxyList {
 public:
  static Result<ProxyList> Parse(const std::vector<std::string>& entries);
  bool Contains(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    unsigned prefix = 0;
  };
  std::vector<Net> nets_;
};

// The address to report for a request from TCP peer `peer` carrying the
// X-Forwarded-For headers `forwarded_for` (in the order received; each may
// hold a comma-separated list).
std::string ClientAddress(std::string_view peer, const std::vector<std::string_view>& forwarded_for,
                          const ProxyList& trusted);

}  // namespace keyward::web
