#include "ca/cert_text.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "ca/validity.h"
#include "key/fingerprint.h"
#include "wire/reader.h"

namespace keyward::ca {
namespace {

constexpr std::string_view kIndent = "        ";
constexpr std::string_view kItemIndent = "                ";

constexpr std::array<std::string_view, 6> kFlagExtensions = {
    "permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
    "permit-pty",            "permit-user-rc",          "no-touch-required",
};

tl::unexpected<Error> Corrupt() { return Fail("corrupt_option", "Option corrupt: extra data at end"); }

void AppendHex(ByteView data, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : data) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
}

Result<void> AppendOptions(const std::vector<key::CertOption>& options, bool critical, std::string& out) {
  for (const auto& option : options) {
    out += kItemIndent;
    out += option.name;
    const std::string_view name = option.name;
    const ByteView data(option.data);
    bool flag = critical ? name == "verify-required"
                         : std::find(kFlagExtensions.begin(), kFlagExtensions.end(), name) != kFlagExtensions.end();
    if (flag) {
      out += '\n';
      if (!data.empty()) return Corrupt();
    } else if (critical && (name == "force-command" || name == "source-address")) {
      wire::Reader r(data);
      auto value = r.CString();
      if (!value) return Fail("corrupt_option", "parse critical: " + value.error().message);
      out += ' ';
      out += *value;
      out += '\n';
      if (!r.empty()) return Corrupt();
    } else if (!data.empty()) {
      out += " UNKNOWN OPTION: ";
      AppendHex(data, out);
      out += " (len " + std::to_string(data.size()) + ")\n";
    } else {
      out += " UNKNOWN FLAG OPTION\n";
    }
  }
  return {};
}

}  // namespace

Result<void> AppendCertificateDetails(const key::PublicKey& key, std::string& out) {
  const key::Certificate* cert = key.certificate();
  if (cert == nullptr) return Fail("not_a_certificate", "not a certificate");
  const char* kind = cert->type == key::CertType::kUser ? "user" : cert->type == key::CertType::kHost ? "host" : "unknown";
  out += kIndent;
  out += "Type: ";
  out += key.type_name();
  out += ' ';
  out += kind;
  out += " certificate\n";
  out += kIndent;
  out += "Public key: ";
  out += key.type().short_name;
  out += ' ';
  out += key::Fingerprint(key);
  out += '\n';
  out += kIndent;
  out += "Signing CA: ";
  if (cert->signature_key) {
    out += cert->signature_key->type().short_name;
    out += ' ';
    out += key::Fingerprint(*cert->signature_key);
  }
  out += " (using ";
  out += cert->signature_algorithm;
  out += ")\n";
  out += kIndent;
  out += "Key ID: \"";
  out += cert->key_id;
  out += "\"\n";
  out += kIndent;
  out += "Serial: " + std::to_string(cert->serial) + "\n";
  out += kIndent;
  out += "Valid: " + FormatValidity(cert->valid_after, cert->valid_before) + "\n";
  out += kIndent;
  out += "Principals: ";
  if (cert->principals.empty()) {
    out += "(none)\n";
  } else {
    for (const auto& p : cert->principals) {
      out += '\n';
      out += kItemIndent;
      out += p;
    }
    out += '\n';
  }
  out += kIndent;
  out += "Critical Options: ";
  if (cert->critical_options.empty()) {
    out += "(none)\n";
  } else {
    out += '\n';
    if (auto ok = AppendOptions(cert->critical_options, true, out); !ok) return ok;
  }
  out += kIndent;
  out += "Extensions: ";
  if (cert->extensions.empty()) {
    out += "(none)\n";
  } else {
    out += '\n';
    if (auto ok = AppendOptions(cert->extensions, false, out); !ok) return ok;
  }
  return {};
}

}  // namespace keyward::ca
