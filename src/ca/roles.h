// Roles of the certificate authority (config "ca": {"roles": [...]}): what a
// certificate for the role says, and who may ask for it.
//
// A role's principals and force_command are templates: %u is the
// account's name, checked first against a strict pattern
// (ValidateAccountName), %% is a percent sign. Its certificate carries the role's force-command, source-address
// and verify-required critical options and exactly the extensions it lists
// (none by default), and is valid for at most max_validity seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "ca/certificate.h"
#include "ca/validity.h"
#include "config/config.h"
#include "key/public_key.h"

namespace keyward::ca {

inline constexpr std::size_t kMaxAccountNameBytes = 32;

// ^[a-z_][a-z0-9_.-]{0,31}$: a name that is safe in a principal, a key id
// and a log line. Error code "bad_account".
Result<void> ValidateAccountName(std::string_view account);

// Expands %u (the account, validated first) and %%; checks the result
// with CheckPrincipal.
Result<std::string> ExpandPrincipalTemplate(std::string_view principal_template, std::string_view account);

// The same expansion for a role's force_command ("/usr/sbin/adduser %u"):
// the account name can hold no shell metacharacter, so it is safe in the
// command sshd runs.
Result<std::string> ExpandForceCommand(std::string_view command_template, std::string_view account);

const config::RoleConfig* FindRole(const config::CaConfig& ca, std::string_view name);

// Whether `account` may ask for `role`: listed by name, "*" listed, or a
// member of one of the role's groups.
bool AccountMayUseRole(const config::RoleConfig& role, std::string_view account,
                       const std::vector<std::string>& groups);

// The roles `account` may ask for, in configuration order (for a page that
// offers them).
std::vector<const config::RoleConfig*> RolesForAccount(const config::CaConfig& ca, std::string_view account,
                                                       const std::vector<std::string>& groups);

struct RoleRequest {
  std::string account;
  std::vector<std::string> groups;   // the account's groups (GroupsOfAccount)
  std::optional<Validity> validity;  // none: from now - backdate for the role's max_validity
  std::int64_t now = 0;
  std::int64_t backdate = 300;       // ca.backdate
};

// The user certificate request for `subject` under `role`, serial 0 and key
// id empty (IssueCertificates assigns both). Refuses, with nothing changed:
// an account that fails the name pattern ("bad_account") or may not have
// the role ("role_not_allowed"), a certificate as subject
// ("certificate_as_subject"), and a validity that ends more than
// max_validity from now, never ends, or spans more than max_validity plus
// the backdate ("validity_too_long").
Result<CertificateRequest> RequestForRole(const config::RoleConfig& role, const RoleRequest& request,
                                          const key::PublicKey& subject);

// The groups of a system (passwd) account, by name; empty for an unknown
// account. Directory accounts have no groups.
std::vector<std::string> GroupsOfSystemAccount(std::string_view account);

}  // namespace keyward::ca
