// Signing OpenSSH certificates (PROTOCOL.certkeys).
//
// A CertificateRequest says everything a certificate will hold but its
// nonce (32 random bytes) and signature. SignCertificate() checks it,
// encodes it exactly as OpenSSH does (critical options and extensions
// sorted by name; an option without data has an empty data string, one
// with data has a string holding a string) and signs it with the CA.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "ca/ca_signer.h"
#include "key/public_key.h"

namespace keyward::ca {

// Named limits on what a certificate may carry.
inline constexpr std::size_t kMaxPrincipalBytes = 255;
inline constexpr std::size_t kMaxPrincipals = key::kMaxCertPrincipals;  // 256, as OpenSSH
inline constexpr std::size_t kMaxKeyIdBytes = 256;
inline constexpr std::size_t kMaxForceCommandBytes = 4096;
inline constexpr std::size_t kMaxSourceAddressBytes = 4096;
inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::uint64_t kForever = ~std::uint64_t{0};  // valid_before with no end

// One of the user-certificate extensions OpenSSH knows
// (config::kCertificateExtensions): no-touch-required, permit-X11-forwarding,
// permit-agent-forwarding, permit-port-forwarding, permit-pty, permit-user-rc.
bool IsKnownExtension(std::string_view name);

struct CertificateRequest {
  key::PublicKey subject;  // a plain public key of any type keyward reads; never a certificate
  key::CertType type = key::CertType::kUser;
  std::uint64_t serial = 0;  // never 0: keyward numbers every certificate (serial_counter.h)
  std::string key_id;        // printable ASCII, at most kMaxKeyIdBytes; may be empty
  std::vector<std::string> principals;  // never empty; each checked by CheckPrincipal
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;  // > valid_after; kForever for no end
  // Critical options (user certificates only).
  std::string force_command;   // empty: none
  std::string source_address;  // empty: none; else a CIDR list sshd reads
  bool verify_required = false;
  // Extensions (user certificates only), names from kKnownExtensions.
  std::vector<std::string> extensions;  // names for which IsKnownExtension() holds
};

// A principal: 1 to kMaxPrincipalBytes printable ASCII characters, no
// comma (OpenSSH's list separator), no white space, no control character.
Result<void> CheckPrincipal(std::string_view principal);

// Parses a comma-separated principal list as ssh-keygen -n takes it,
// checking each name.
Result<std::vector<std::string>> ParsePrincipalList(std::string_view list);

// Every check SignCertificate makes before it signs. Error codes:
// "certificate_as_subject", "bad_principal", "no_principals",
// "bad_key_id", "bad_validity", "bad_serial", "bad_force_command",
// "bad_address_list", "unknown_extension", "host_certificate_options".
Result<void> CheckCertificateRequest(const CertificateRequest& request);

// The certificate blob (type, nonce, key, fields, CA key, signature).
// Its signature verifies with key::ParsePublicKeyBlob.
Result<Bytes> SignCertificate(const CaSigner& ca, const CertificateRequest& request);

// "<cert type> <base64>[ <comment>]\n": what a -cert.pub file holds. The
// comment loses every character that is not printable ASCII.
std::string CertificateLine(const key::PublicKey& subject, ByteView certificate_blob, std::string_view comment);

}  // namespace keyward::ca
