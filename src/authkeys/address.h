// Lists of IP networks, as a certificate's source-address critical option
// holds them: checked exactly as sshd checks them
// (addrmatch.c addr_match_cidr_list(NULL, list)).
#pragma once

#include <cstddef>
#include <string_view>

#include "base/error.h"

namespace keyward::authkeys {

// INET6_ADDRSTRLEN + 3: the longest entry sshd reads ("/128" included).
inline constexpr std::size_t kMaxCidrEntryBytes = 46 + 3;

// Checks "addr[/len],addr[/len],...". Each entry is at most
// kMaxCidrEntryBytes of "0123456789abcdefABCDEF.:/", an address that the
// system's getaddrinfo(AI_NUMERICHOST) reads (as sshd's addr_pton does), and
// an optional decimal prefix length: at most 32 for IPv4, 128 for IPv6, with
// no address bits set beyond it (10.1.2.3/8 is refused; 10.0.0.0/8 is not).
// Empty lists and empty entries are refused; there are no host names,
// wildcards or negations.
//
// Because the address goes through getaddrinfo as in sshd, glibc's
// inet_aton forms are accepted too: "127.1" is 127.0.0.1, and "010.0.0.1"
// is 8.0.0.1 (octal). Error code: "bad_address_list".
Result<void> ValidateCidrList(std::string_view list);

}  // namespace keyward::authkeys
