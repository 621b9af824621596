// The options field of an authorized_keys line, read exactly as OpenSSH 9's
// sshd reads it (auth-options.c sshauthopt_parse and its helpers in misc.c),
// and written back in one canonical form.
//
// What sshd accepts is accepted here, including its quirks, because a line
// that keyward calls valid must be a line sshd honours, and the reverse:
//   - option names are matched case-insensitively, and flags by PREFIX
//     ("ptyfoo" matches "pty", then fails because "foo" is not a separator);
//   - an empty option is skipped: ",pty" and "pty,,restrict" are accepted;
//   - parsing stops at the first space or tab outside double quotes, so " x"
//     is accepted as no options at all;
//   - a NUL byte ends the text, as it ends the C string sshd parses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::authkeys {

inline constexpr int kTunnelAny = 0x7fffffff;           // SSH_TUNID_ANY
inline constexpr int kTunnelMax = 0x7ffffffd;           // SSH_TUNID_MAX
inline constexpr std::size_t kMaxEnvironment = 1024;    // SSH_AUTHOPT_ENV_MAX (the check is "count > max" before adding)
inline constexpr std::size_t kMaxPermits = 4096;        // SSH_AUTHOPT_PERMIT_MAX (same check)
inline constexpr std::size_t kMaxPermitHostBytes = 1024;  // a host must be shorter than NI_MAXHOST (1025)

// Options text longer than this is refused before anything is read; so is
// text whose canonical form (SerializeOptions) would be longer, which keeps
// "what keyward writes, keyward reads back" true for every accepted input.
// sshd has no such limit; a real options field is a few hundred bytes. The
// limit is large enough for sshd's own count limits to be reached (4097
// permitopen="..." alone take 64 KiB), so that those are what refuses such
// a field, with sshd's reason.
inline constexpr std::size_t kMaxOptionsText = 256 * 1024;

// The latest expiry-time keyward accepts: 9999-12-31T23:59:59Z, the last
// second that "YYYYMMDDHHMMSSZ" can write. sshd also takes the few
// normalised or local times that fall after it; keyward refuses them so that
// every accepted value can be written back.
inline constexpr std::uint64_t kMaxExpiryTime = 253402300799;

struct Options {
  bool permit_port_forwarding = true, permit_agent_forwarding = true, permit_x11_forwarding = true,
       permit_pty = true, permit_user_rc = true;
  bool restricted = false, cert_authority = false;
  std::optional<std::string> cert_principals;           // principals="..." (verbatim, not split)
  std::optional<std::string> force_command;             // command="..." / cert force-command
  std::optional<std::string> required_from_host_keys;   // from="..." (verbatim)
  std::optional<std::string> required_from_host_cert;   // cert source-address (verbatim)
  std::vector<std::string> environment;   // "NAME=value", first NAME wins
  std::vector<std::string> permitopen, permitlisten;  // permitlisten="80" is kept as "*:80"
  std::optional<int> tunnel;              // unit number or kTunnelAny
  std::uint64_t expiry_time = 0;          // seconds since the epoch; 0 = none; earliest wins
  bool no_touch_required = false, verify_required = false;
  bool operator==(const Options&) const = default;
};

struct ParsedOptions {
  Options options;
  // Bytes of input consumed: parsing stops at the first unquoted ' ' or '\t'
  // (or a NUL, or the end). The key starts after the blanks that follow.
  std::size_t length = 0;
};

// Parses the options field at the start of `text` as sshauthopt_parse()
// does. Errors carry a stable code and a message naming OpenSSH's reason,
// the option and the byte offset:
//   options_too_long    the text, or its canonical form, exceeds kMaxOptionsText
//   unknown_option      "unknown key option" (also text left after a flag)
//   unexpected_end      "unexpected end-of-options" (a comma at the end)
//   bad_quoting         "missing start quote" / "missing end quote"
//   duplicate_option    'multiple "command" clauses' (also principals, from)
//   bad_option_value    invalid expiry time, environment, permission host or
//                       port, tunnel device
//   too_many_options    more environment= or permit*= entries than sshd keeps
//
// A port given by service name ("permitopen=\"host:ssh\"") is looked up in
// the system's services database (getservbyname_r), as sshd does, so the
// result can depend on /etc/services. An expiry-time without "Z"/"UTC" is
// local time (mktime, as sshd does), so it depends on TZ.
Result<ParsedOptions> ParseOptions(std::string_view text);

// Certificate options start from nothing permitted (sshauthopt_new()).
Options CertificateDefaults();

// The canonical text of `options`, "" for the authorized_keys defaults:
//   restrict[,<permitted flags>] | no-<flag>,...   cert-authority
//   command="..." from="..." principals="..." environment="..."...
//   permitopen="..."... permitlisten="..."... tunnel="N"|"any"
//   expiry-time="YYYYMMDDHHMMSSZ" no-touch-required verify-required
// A '"' inside a value is written \" (sshd's only escape). For every Options
// that ParseOptions returned, ParseOptions(SerializeOptions(o)) == o.
//
// Some Options have no authorized_keys form. required_from_host_cert (a
// certificate's source-address) is not written at all. A value that ends in
// a backslash or holds a NUL, a tunnel outside 0..kTunnelMax (other than
// kTunnelAny) and an expiry_time above kMaxExpiryTime are written as
// name=(unrepresentable), which sshd and ParseOptions refuse ("missing start
// quote"): the line fails closed instead of granting more than asked. Any
// other byte of a value is copied, CR and LF included: the line writer must
// refuse those.
std::string SerializeOptions(const Options& options);

}  // namespace keyward::authkeys
