#include "daemon/cert_authority.h"

#include <sys/stat.h>

#include <cerrno>

#include "ca/roles.h"
#include "daemon/log.h"
#include "fs/safe_file.h"
#include "key/fingerprint.h"

namespace keyward::daemon {

namespace {

tl::unexpected<Error> NoCa() {
  return Fail("no_ca", "Certificates cannot be signed yet: the administrator has not set up the certificate "
                       "authority (keyward ca init).");
}

tl::unexpected<Error> Locked() {
  return Fail("ca_locked", "Certificates cannot be signed here: the certificate authority's key is protected by a "
                           "passphrase, which keywardd cannot enter. Ask the administrator.");
}

tl::unexpected<Error> Unavailable() {
  return Fail("ca_unavailable", "The certificate authority cannot be used right now. The administrator has been "
                                "told; try again later.");
}

std::string KeyPath(const config::CaConfig& c) {
  std::string dir = c.dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + ca::kUserCaKeyFile;
}

}  // namespace

std::optional<CertAuthority::Identity> CertAuthority::KeyFileIdentity() const {
  // Only to notice a change: the key itself is read through OpenCa, which
  // refuses symlinks, foreign owners and open modes.
  struct stat st {};
  if (stat(KeyPath(config_).c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino, st.st_size, fs::MtimeNs(st),
                  static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

Result<void> CertAuthority::Load() {
  loaded_.reset();
  auto before = KeyFileIdentity();
  if (!before) return NoCa();
  auto opened = ca::OpenCa(config_.dir, key::CertType::kUser, nullptr);
  if (!opened) {
    const Error& e = opened.error();
    // Logged once per state of the key file, not on every request.
    if (failed_identity_ != before || failure_.code != e.code) {
      Log("certificate authority: cannot load the user CA key " + KeyPath(config_) + ": " + e.message);
    }
    failed_identity_ = before;
    failure_ = e;
    if (e.code == "ca_missing" || e.code == "missing") return NoCa();
    if (e.code == "passphrase_required") return Locked();
    return Unavailable();
  }
  loaded_ = std::move(*opened);
  loaded_identity_ = *before;
  if (failed_identity_) {
    Log("certificate authority: loaded the user CA " + key::Fingerprint(loaded_->signer.public_key()));
  }
  failed_identity_.reset();
  return {};
}

std::string CertAuthority::Start() {
  auto ok = Load();
  const std::string where = " (" + KeyPath(config_) + ")";
  if (ok) {
    return "certificate authority: user CA " + key::Fingerprint(loaded_->signer.public_key()) + where +
           " loaded; sign_cert is on";
  }
  // Start is the first load: a later success is worth a line too.
  failed_identity_ = KeyFileIdentity().value_or(Identity{});
  if (ok.error().code == "no_ca") {
    return "certificate authority: none yet" + where + "; sign_cert answers no_ca until `keyward ca init` creates it";
  }
  if (ok.error().code == "ca_locked") {
    return "certificate authority: the user CA key" + where +
           " is protected by a passphrase, which keywardd cannot enter: sign_cert answers ca_locked. Sign by hand "
           "(keyward ca sign --passphrase-file), or create a CA without a passphrase for keywardd";
  }
  return "certificate authority: the user CA key" + where + " cannot be used; sign_cert answers ca_unavailable";
}

Result<const ca::OpenedCa*> CertAuthority::Current() {
  auto now = KeyFileIdentity();
  if (loaded_ && now && *now == loaded_identity_) return &*loaded_;
  if (loaded_ && !now) {
    Log("certificate authority: the user CA key " + KeyPath(config_) + " is gone; sign_cert stops");
    loaded_.reset();
  }
  if (!now) return NoCa();
  if (!loaded_ && failed_identity_ == now) {
    // Still the file that failed: the same answer, without reading it again.
    if (failure_.code == "ca_missing" || failure_.code == "missing") return NoCa();
    if (failure_.code == "passphrase_required") return Locked();
    return Unavailable();
  }
  if (auto ok = Load(); !ok) return Fail(ok.error());
  return &*loaded_;
}

std::string CertAuthority::Status() {
  auto current = Current();
  if (current) return "ready";
  if (current.error().code == "no_ca") return "missing";
  if (current.error().code == "ca_locked") return "locked";
  return "unavailable";
}

std::string DurationText(std::int64_t seconds) {
  auto unit = [](std::int64_t n, const char* one) {
    return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
  };
  if (seconds > 0 && seconds % 604800 == 0 && seconds / 604800 < 4) return unit(seconds / 604800, "week");
  if (seconds > 0 && seconds % 86400 == 0) return unit(seconds / 86400, "day");
  if (seconds > 0 && seconds % 3600 == 0) return unit(seconds / 3600, "hour");
  if (seconds > 0 && seconds % 60 == 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

nlohmann::json RolesJson(const config::CaConfig& ca, const std::string& account,
                         const std::vector<std::string>& groups) {
  nlohmann::json roles = nlohmann::json::array();
  for (const config::RoleConfig* role : ca::RolesForAccount(ca, account, groups)) {
    nlohmann::json principals = nlohmann::json::array();
    bool ok = true;
    for (const auto& t : role->principals) {
      auto p = ca::ExpandPrincipalTemplate(t, account);
      if (!p) {
        ok = false;
        break;
      }
      principals.push_back(*p);
    }
    std::string command;
    if (ok && !role->force_command.empty()) {
      auto c = ca::ExpandForceCommand(role->force_command, account);
      if (c) command = *c;
      ok = c.has_value();
    }
    if (!ok) continue;  // a role that cannot be signed for this account is not offered
    roles.push_back({{"name", role->name},
                     {"principals", std::move(principals)},
                     {"max_validity", role->max_validity},
                     {"max_validity_text", DurationText(role->max_validity)},
                     {"force_command", command},
                     {"source_address", role->source_address},
                     {"verify_required", role->verify_required},
                     {"extensions", role->extensions}});
  }
  return roles;
}

}  // namespace keyward::daemon
