#include "ca/roles.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace keyward::ca {
namespace {

std::string Seconds(std::int64_t s) {
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace

Result<void> ValidateAccountName(std::string_view account) {
  auto bad = [] {
    return Fail("bad_account", "an account name is 1 to 32 characters: a-z, 0-9, _ . -, starting with a letter or _");
  };
  if (account.empty() || account.size() > kMaxAccountNameBytes) return bad();
  if (!((account[0] >= 'a' && account[0] <= 'z') || account[0] == '_')) return bad();
  for (char c : account) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return bad();
  }
  return {};
}

namespace {

// %u: the account (validated first), %%: a percent sign.
Result<std::string> Expand(std::string_view text, std::string_view account, std::string_view what) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 >= text.size()) return Fail("bad_template", std::string(what) + " ends with %");
    char t = text[++i];
    if (t == '%') {
      out += '%';
    } else if (t == 'u') {
      if (auto ok = ValidateAccountName(account); !ok) return Fail(ok.error());
      out += account;
    } else {
      return Fail("bad_template", std::string(what) + " knows %u (the account) and %% only");
    }
  }
  return out;
}

}  // namespace

Result<std::string> ExpandPrincipalTemplate(std::string_view principal_template, std::string_view account) {
  auto out = Expand(principal_template, account, "a principal template");
  if (!out) return Fail(out.error());
  if (auto ok = CheckPrincipal(*out); !ok) return Fail(ok.error());
  return out;
}

Result<std::string> ExpandForceCommand(std::string_view command_template, std::string_view account) {
  return Expand(command_template, account, "a force_command");
}

const config::RoleConfig* FindRole(const config::CaConfig& ca, std::string_view name) {
  for (const auto& role : ca.roles) {
    if (role.name == name) return &role;
  }
  return nullptr;
}

bool AccountMayUseRole(const config::RoleConfig& role, std::string_view account,
                       const std::vector<std::string>& groups) {
  for (const auto& a : role.accounts) {
    if (a == "*" || a == account) return true;
  }
  for (const auto& g : role.groups) {
    if (std::find(groups.begin(), groups.end(), g) != groups.end()) return true;
  }
  return false;
}

std::vector<const config::RoleConfig*> RolesForAccount(const config::CaConfig& ca, std::string_view account,
                                                       const std::vector<std::string>& groups) {
  std::vector<const config::RoleConfig*> out;
  if (!ValidateAccountName(account)) return out;
  for (const auto& role : ca.roles) {
    if (AccountMayUseRole(role, account, groups)) out.push_back(&role);
  }
  return out;
}

Result<CertificateRequest> RequestForRole(const config::RoleConfig& role, const RoleRequest& request,
                                          const key::PublicKey& subject) {
  if (auto ok = ValidateAccountName(request.account); !ok) return Fail(ok.error());
  if (!AccountMayUseRole(role, request.account, request.groups)) {
    return Fail("role_not_allowed", "the account " + request.account + " may not ask for the role " + role.name);
  }
  if (subject.is_certificate()) {
    return Fail("certificate_as_subject", "that is already a certificate; sign the plain public key instead");
  }
  const std::int64_t max = role.max_validity;
  const std::int64_t backdate = std::max<std::int64_t>(request.backdate, 0);
  Validity v;
  if (request.validity) {
    v = *request.validity;
  } else {
    v.valid_after = static_cast<std::uint64_t>(std::max<std::int64_t>(request.now - backdate, 0));
    v.valid_before = static_cast<std::uint64_t>(request.now + max);
  }
  auto too_long = [&role, max] {
    return Fail("validity_too_long", "the role " + role.name + " gives certificates of at most " + Seconds(max) +
                                         " (max_validity); ask for less, e.g. -V +" + Seconds(max));
  };
  if (v.valid_before == kForever || v.valid_before > static_cast<std::uint64_t>(request.now + max)) return too_long();
  if (v.valid_after >= v.valid_before) {
    return Fail("bad_validity", "the certificate would never be valid: it must start before it ends");
  }
  if (v.valid_before - v.valid_after > static_cast<std::uint64_t>(max + backdate)) return too_long();

  CertificateRequest r;
  r.subject = subject;
  r.type = key::CertType::kUser;
  for (const auto& t : role.principals) {
    auto p = ExpandPrincipalTemplate(t, request.account);
    if (!p) return Fail(p.error());
    if (std::find(r.principals.begin(), r.principals.end(), *p) == r.principals.end()) r.principals.push_back(*p);
  }
  r.valid_after = v.valid_after;
  r.valid_before = v.valid_before;
  auto command = ExpandForceCommand(role.force_command, request.account);
  if (!command) return Fail(command.error());
  r.force_command = *command;
  for (const auto& cidr : role.source_address) {
    if (!r.source_address.empty()) r.source_address += ',';
    r.source_address += cidr;
  }
  r.verify_required = role.verify_required;
  r.extensions = role.extensions;
  // Serial 0 is assigned later; check the rest now.
  CertificateRequest checked = r;
  checked.serial = 1;
  if (auto ok = CheckCertificateRequest(checked); !ok) return Fail(ok.error());
  return r;
}

std::vector<std::string> GroupsOfSystemAccount(std::string_view account) {
  std::vector<std::string> out;
  if (!ValidateAccountName(account)) return out;
  const std::string name(account);
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return out;
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  if (getgrouplist(name.c_str(), pw.pw_gid, gids.data(), &count) < 0) {
    gids.resize(static_cast<std::size_t>(count));
    if (getgrouplist(name.c_str(), pw.pw_gid, gids.data(), &count) < 0) return out;
  }
  gids.resize(static_cast<std::size_t>(count));
  for (gid_t gid : gids) {
    struct group gr {};
    struct group* g = nullptr;
    std::vector<char> gbuf(65536);
    if (getgrgid_r(gid, &gr, gbuf.data(), gbuf.size(), &g) == 0 && g != nullptr) out.emplace_back(g->gr_name);
  }
  return out;
}

}  // namespace keyward::ca
