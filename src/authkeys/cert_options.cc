#include "authkeys/cert_options.h"

#include <optional>
#include <string>
#include <string_view>

#include "authkeys/address.h"
#include "wire/reader.h"

namespace keyward::authkeys {

namespace {

// sshbuf_get_cstring(): a NUL is allowed only as the last byte, and is not
// part of the text. nullopt for a NUL anywhere else.
std::optional<std::string_view> AsCString(std::string_view s) {
  std::size_t nul = s.find('\0');
  if (nul == std::string_view::npos) return s;
  if (nul + 1 != s.size()) return std::nullopt;
  return s.substr(0, nul);
}

std::string Quoted(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(c < 0x20 || c >= 0x7f ? '?' : ch);
  }
  return out + "\"";
}

tl::unexpected<Error> Corrupt(std::string_view section, std::string_view name, std::string_view why) {
  return Fail("bad_certificate_option",
              "certificate " + std::string(section) + " " + Quoted(name) + " " + std::string(why) +
                  "; sshd refuses this certificate, so it must be issued again");
}

// The option's data must be empty when the option takes no value.
Result<void> ExpectNoData(std::string_view section, std::string_view name, const key::CertOption& opt) {
  if (!opt.data.empty()) return Corrupt(section, name, "is corrupt (extra data)");
  return {};
}

// Reads the single string that force-command and source-address carry.
Result<std::string> ReadStringData(std::string_view name, const key::CertOption& opt) {
  wire::Reader r(opt.data);
  auto s = r.String();
  if (!s) return Corrupt("critical option", name, "cannot be parsed: " + s.error().message);
  auto text = AsCString(AsText(*s));
  if (!text) return Corrupt("critical option", name, "cannot be parsed: its value holds a NUL byte");
  if (!r.empty()) return Corrupt("critical option", name, "is corrupt (extra data)");
  return std::string(*text);
}

Result<void> ApplyCritical(std::string_view name, const key::CertOption& opt, Options& out) {
  if (name == "verify-required") {
    out.verify_required = true;
    return ExpectNoData("critical option", name, opt);
  }
  if (name == "force-command") {
    auto command = ReadStringData(name, opt);
    if (!command) return Fail(command.error());
    if (out.force_command) return Corrupt("critical option", name, "appears more than once");
    out.force_command = std::move(*command);
    return {};
  }
  if (name == "source-address") {
    auto list = ReadStringData(name, opt);
    if (!list) return Fail(list.error());
    if (out.required_from_host_cert) return Corrupt("critical option", name, "appears more than once");
    auto valid = ValidateCidrList(*list);
    if (!valid) return Corrupt("critical option", name, "has invalid contents: " + valid.error().message);
    out.required_from_host_cert = std::move(*list);
    return {};
  }
  // A critical option is one the verifier must understand: sshd refuses a
  // certificate with any it does not know.
  return Fail("unsupported_critical_option",
              "unsupported critical option " + Quoted(name) +
                  ": sshd refuses this certificate; issue it again without that option");
}

struct Extension {
  std::string_view name;
  bool Options::*flag;
};

constexpr Extension kExtensions[] = {
    {"no-touch-required", &Options::no_touch_required},
    {"permit-X11-forwarding", &Options::permit_x11_forwarding},
    {"permit-agent-forwarding", &Options::permit_agent_forwarding},
    {"permit-port-forwarding", &Options::permit_port_forwarding},
    {"permit-pty", &Options::permit_pty},
    {"permit-user-rc", &Options::permit_user_rc},
};

Result<void> ApplyExtension(std::string_view name, const key::CertOption& opt, Options& out) {
  for (const Extension& e : kExtensions) {
    if (name == e.name) {
      out.*e.flag = true;
      return ExpectNoData("extension", name, opt);
    }
  }
  // Extensions are advisory: sshd ignores the ones it does not know.
  return {};
}

}  // namespace

Result<Options> OptionsFromCertificate(const key::Certificate& cert) {
  if (cert.type != key::CertType::kUser) {
    return Fail("not_user_certificate",
                "this is a host certificate; only user certificates grant authorized_keys options");
  }
  Options out = CertificateDefaults();
  // Critical options first, then extensions, as sshauthopt_from_cert() does.
  for (const key::CertOption& opt : cert.critical_options) {
    auto name = AsCString(opt.name);
    if (!name) return Corrupt("critical option", opt.name, "has a NUL byte in its name");
    auto applied = ApplyCritical(*name, opt, out);
    if (!applied) return Fail(applied.error());
  }
  for (const key::CertOption& opt : cert.extensions) {
    auto name = AsCString(opt.name);
    if (!name) return Corrupt("extension", opt.name, "has a NUL byte in its name");
    auto applied = ApplyExtension(*name, opt, out);
    if (!applied) return Fail(applied.error());
  }
  return out;
}

Result<Options> MergeOptions(const Options& primary, const Options& additional) {
  // From nothing: restricted, cert_authority and cert_principals stay unset.
  Options out = CertificateDefaults();

  out.required_from_host_cert =
      primary.required_from_host_cert ? primary.required_from_host_cert : additional.required_from_host_cert;
  out.required_from_host_keys =
      primary.required_from_host_keys ? primary.required_from_host_keys : additional.required_from_host_keys;
  out.tunnel = primary.tunnel ? primary.tunnel : additional.tunnel;
  out.environment = !primary.environment.empty() ? primary.environment : additional.environment;
  out.permitopen = !primary.permitopen.empty() ? primary.permitopen : additional.permitopen;
  out.permitlisten = !primary.permitlisten.empty() ? primary.permitlisten : additional.permitlisten;

  // Something is permitted only when both sides permit it.
  out.permit_port_forwarding = primary.permit_port_forwarding && additional.permit_port_forwarding;
  out.permit_agent_forwarding = primary.permit_agent_forwarding && additional.permit_agent_forwarding;
  out.permit_x11_forwarding = primary.permit_x11_forwarding && additional.permit_x11_forwarding;
  out.permit_pty = primary.permit_pty && additional.permit_pty;
  out.permit_user_rc = primary.permit_user_rc && additional.permit_user_rc;
  out.no_touch_required = primary.no_touch_required && additional.no_touch_required;
  out.verify_required = primary.verify_required || additional.verify_required;

  out.expiry_time = primary.expiry_time;
  if (additional.expiry_time != 0 && (out.expiry_time == 0 || additional.expiry_time < out.expiry_time)) {
    out.expiry_time = additional.expiry_time;
  }

  if (primary.force_command && additional.force_command && *primary.force_command != *additional.force_command) {
    return Fail("force_command_conflict",
                "forced command options do not match: the authorized_keys line forces " +
                    Quoted(std::string_view(*primary.force_command).substr(0, 100)) +
                    " and the certificate forces " +
                    Quoted(std::string_view(*additional.force_command).substr(0, 100)) +
                    "; sshd refuses the login, so make them agree");
  }
  out.force_command = primary.force_command ? primary.force_command : additional.force_command;
  return out;
}

}  // namespace keyward::authkeys
