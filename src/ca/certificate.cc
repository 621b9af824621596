#include "ca/certificate.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "authkeys/address.h"
#include "config/config.h"
#include "wire/base64.h"
#include "wire/writer.h"

namespace keyward::ca {
namespace {

bool IsPrintableAscii(char c) { return c > 0x20 && c < 0x7f; }

tl::unexpected<Error> BadPrincipal(std::string_view principal, std::string why) {
  std::string shown;
  for (char c : principal.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return Fail("bad_principal", "the principal \"" + shown + "\" " + std::move(why));
}

// One option: string name, string data. Flags have empty data; options
// with a value have a string holding a string.
void WriteOption(wire::Writer& w, std::string_view name, std::string_view value, bool has_value) {
  w.String(name);
  if (!has_value) {
    w.U32(0);
    return;
  }
  w.U32(static_cast<std::uint32_t>(4 + value.size()));
  w.String(value);
}

Bytes CriticalOptions(const CertificateRequest& r) {
  // Already in byte order: force-command < source-address < verify-required.
  wire::Writer w;
  if (!r.force_command.empty()) WriteOption(w, "force-command", r.force_command, true);
  if (!r.source_address.empty()) WriteOption(w, "source-address", r.source_address, true);
  if (r.verify_required) WriteOption(w, "verify-required", {}, false);
  return w.Take();
}

Bytes Extensions(const CertificateRequest& r) {
  std::vector<std::string_view> names(r.extensions.begin(), r.extensions.end());
  std::sort(names.begin(), names.end());  // byte order, as OpenSSH compares names
  names.erase(std::unique(names.begin(), names.end()), names.end());
  wire::Writer w;
  for (std::string_view name : names) WriteOption(w, name, {}, false);
  return w.Take();
}

}  // namespace

bool IsKnownExtension(std::string_view name) {
  for (const char* known : config::kCertificateExtensions) {
    if (name == known) return true;
  }
  return false;
}

Result<void> CheckPrincipal(std::string_view principal) {
  if (principal.empty()) return Fail("bad_principal", "a principal must not be empty");
  if (principal.size() > kMaxPrincipalBytes) {
    return BadPrincipal(principal, "is longer than " + std::to_string(kMaxPrincipalBytes) + " bytes");
  }
  for (char c : principal) {
    if (c == ',') return BadPrincipal(principal, "holds a comma, which OpenSSH reads as a list separator");
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return BadPrincipal(principal, "holds white space; principals are user or host names");
    }
    if (!IsPrintableAscii(c)) return BadPrincipal(principal, "holds a control or non-ASCII character");
  }
  return {};
}

Result<std::vector<std::string>> ParsePrincipalList(std::string_view list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return Fail("bad_principal", "the principal list has an empty name (two commas, or one at an end)");
    if (auto ok = CheckPrincipal(item); !ok) return Fail(ok.error());
    if (out.size() == kMaxPrincipals) {
      return Fail("bad_principal", "a certificate holds at most " + std::to_string(kMaxPrincipals) + " principals");
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<void> CheckCertificateRequest(const CertificateRequest& r) {
  if (r.subject.is_certificate()) {
    return Fail("certificate_as_subject", "that is already a certificate; sign the plain public key instead");
  }
  if (r.type != key::CertType::kUser && r.type != key::CertType::kHost) {
    return Fail("bad_certificate_type", "a certificate is for a user or a host");
  }
  if (r.serial == 0) {
    return Fail("bad_serial", "serial 0 marks an unnumbered certificate; keyward numbers every certificate");
  }
  if (r.key_id.size() > kMaxKeyIdBytes) {
    return Fail("bad_key_id", "the key id is longer than " + std::to_string(kMaxKeyIdBytes) + " bytes");
  }
  for (char c : r.key_id) {
    if (c < 0x20 || c >= 0x7f) return Fail("bad_key_id", "the key id must be printable ASCII (no control characters)");
  }
  if (r.principals.empty()) {
    return Fail("no_principals", "a certificate needs at least one principal (an OpenSSH certificate without "
                                 "principals is valid for every user or host)");
  }
  if (r.principals.size() > kMaxPrincipals) {
    return Fail("bad_principal", "a certificate holds at most " + std::to_string(kMaxPrincipals) + " principals");
  }
  for (const auto& p : r.principals) {
    if (auto ok = CheckPrincipal(p); !ok) return ok;
  }
  if (r.valid_after >= r.valid_before) {
    return Fail("bad_validity", "the certificate would never be valid: it must start before it ends");
  }
  bool has_options = !r.force_command.empty() || !r.source_address.empty() || r.verify_required ||
                     !r.extensions.empty();
  if (r.type == key::CertType::kHost && has_options) {
    return Fail("host_certificate_options", "host certificates carry no critical options or extensions");
  }
  if (r.force_command.size() > kMaxForceCommandBytes) {
    return Fail("bad_force_command", "the force-command is longer than " + std::to_string(kMaxForceCommandBytes) +
                                         " bytes");
  }
  for (char c : r.force_command) {
    if ((c >= 0 && c < 0x20 && c != '\t') || c == 0x7f) {
      return Fail("bad_force_command", "the force-command must not hold control characters");
    }
  }
  if (!r.source_address.empty()) {
    if (r.source_address.size() > kMaxSourceAddressBytes) {
      return Fail("bad_address_list", "the source-address list is longer than " +
                                          std::to_string(kMaxSourceAddressBytes) + " bytes");
    }
    if (auto ok = authkeys::ValidateCidrList(r.source_address); !ok) {
      return Fail("bad_address_list", "source-address: " + ok.error().message);
    }
  }
  for (const auto& e : r.extensions) {
    if (!IsKnownExtension(e)) {
      std::string known;
      for (const char* k : config::kCertificateExtensions) known += (known.empty() ? "" : ", ") + std::string(k);
      std::string shown;
      for (char c : std::string_view(e).substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
      return Fail("unknown_extension", "unknown extension \"" + shown + "\"; OpenSSH knows " + known);
    }
  }
  return {};
}

Result<Bytes> SignCertificate(const CaSigner& ca, const CertificateRequest& r) {
  if (auto ok = CheckCertificateRequest(r); !ok) return Fail(ok.error());

  std::array<std::uint8_t, kNonceBytes> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return Fail("random_failed", "OpenSSL could not produce random bytes for the certificate nonce");
  }
  const key::KeyTypeInfo& cert_type = key::CanonicalKeyType(r.subject.algorithm(), r.subject.curve(), true);
  if (!cert_type.certificate) {
    return Fail("unsupported_key_type", "OpenSSH has no certificate type for " +
                                            std::string(key::AlgorithmName(r.subject.algorithm())) + " keys");
  }

  // The subject's key fields: its plain blob without the leading type name.
  ByteView plain = r.subject.plain_blob();
  const std::size_t type_field = 4 + r.subject.type_name().size();
  if (plain.size() < type_field) return Fail("invalid_key", "the public key to sign is malformed");

  wire::Writer w;
  w.String(cert_type.name);
  w.String(ByteView(nonce));
  w.Raw(plain.subspan(type_field));
  w.U64(r.serial);
  w.U32(static_cast<std::uint32_t>(r.type));
  w.String(std::string_view(r.key_id));
  wire::Writer principals;
  for (const auto& p : r.principals) principals.String(std::string_view(p));
  w.String(ByteView(principals.bytes()));
  w.U64(r.valid_after);
  w.U64(r.valid_before);
  w.String(ByteView(CriticalOptions(r)));
  w.String(ByteView(Extensions(r)));
  w.String(ByteView());  // reserved
  w.String(ca.public_key().blob());
  Bytes blob = w.Take();
  // The signature covers everything before it, and is appended in place.
  const std::size_t signed_length = blob.size();
  if (auto ok = ca.AppendSignature(ByteView(blob.data(), signed_length), blob); !ok) return Fail(ok.error());
  return blob;
}

std::string CertificateLine(const key::PublicKey& subject, ByteView certificate_blob, std::string_view comment) {
  std::string line(key::CanonicalKeyType(subject.algorithm(), subject.curve(), true).name);
  line += ' ';
  line += wire::EncodeBase64(certificate_blob);
  std::string clean;
  for (char c : comment) {
    if (c >= 0x20 && c < 0x7f) clean += c;
  }
  std::size_t first = clean.find_first_not_of(' ');
  std::size_t last = clean.find_last_not_of(' ');
  if (first != std::string::npos) {
    line += ' ';
    line += clean.substr(first, last - first + 1);
  }
  line += '\n';
  return line;
}

}  // namespace keyward::ca
