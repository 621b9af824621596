// Options that come from an OpenSSH user certificate, and how sshd combines
// them with the authorized_keys options of the CA line that accepted it
// (auth-options.c sshauthopt_from_cert, cert_option_list, sshauthopt_merge).
#pragma once

#include "authkeys/options.h"
#include "base/error.h"
#include "key/public_key.h"

namespace keyward::authkeys {

// The options a user certificate grants, starting from CertificateDefaults()
// (nothing permitted). Critical options, matched by exact name:
//   verify-required   no data
//   force-command     data: one string, the command (given at most once)
//   source-address    data: one string, a CIDR list (ValidateCidrList; once)
// Any other critical option refuses the certificate, as sshd does.
// Extensions no-touch-required, permit-X11-forwarding,
// permit-agent-forwarding, permit-port-forwarding, permit-pty and
// permit-user-rc set their flag (no data); others are ignored.
// A string in option data is read as sshd's sshbuf_get_cstring() reads it: a
// NUL is allowed only as its last byte, and is dropped.
//
// Error codes: "not_user_certificate", "unsupported_critical_option",
// "bad_certificate_option" (corrupt data, extra data, a repeat, a bad
// source-address list).
Result<Options> OptionsFromCertificate(const key::Certificate& cert);

// The options in force for a key that a certificate authorised through an
// authorized_keys "cert-authority" line: `primary` from that line,
// `additional` from the certificate. In the result:
//   - restricted, cert_authority and cert_principals are cleared;
//   - the five permit flags and no_touch_required are AND-ed; verify_required
//     is OR-ed;
//   - required_from_host_keys, required_from_host_cert, tunnel, environment,
//     permitopen and permitlisten are each primary's when set (non-empty),
//     else additional's;
//   - force_command is whichever is set; two different ones are an error
//     ("force_command_conflict"), as in sshd;
//   - expiry_time is the earliest non-zero one.
// (sshd's own merge keeps no expiry when the primary has none; it never
// meets that case, because certificate options carry no expiry.)
Result<Options> MergeOptions(const Options& primary, const Options& additional);

}  // namespace keyward::authkeys
