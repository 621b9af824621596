// keywardd's certificate authority: the user CA key (<ca.dir>/user_ca),
// loaded once and kept in keywardd's memory, for sign_cert.
//
// keywardd is root and reads the key itself; keyward-web never sees it, and
// it never appears in a log or a reply. It is loaded at start when it
// exists. Before every signature one stat(2) of the key file tells whether
// it is still the one loaded: a CA created after keywardd started is opened
// then, a replaced one is loaded again, a removed one stops signing, and one
// whose owner or mode changed is checked again (a key made readable to
// others is refused from then on: it must be considered exposed).
//
// A CA key protected by a passphrase cannot be used: keywardd has nobody to
// type it. keywardd says so at start and answers "ca_locked"; such a CA
// signs by hand only (keyward ca sign --passphrase-file).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "ca/ca_store.h"
#include "config/config.h"

namespace keyward::daemon {

class CertAuthority {
 public:
  explicit CertAuthority(config::CaConfig config) : config_(std::move(config)) {}

  // Loads the user CA if there is one; returns what keywardd logs at start
  // (never a secret).
  std::string Start();

  // The CA, current. Errors a web user may see: "no_ca" (no CA yet: the
  // administrator runs keyward ca init), "ca_locked" (passphrase), and
  // "ca_unavailable" (anything else; logged in full here).
  Result<const ca::OpenedCa*> Current();

  // "ready", "missing", "locked" or "unavailable", for list_roles; loads or
  // reloads as Current() does.
  std::string Status();

  const config::CaConfig& config() const { return config_; }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;  // a chmod or chown changes only this
    bool operator==(const Identity&) const = default;
  };
  std::optional<Identity> KeyFileIdentity() const;
  Result<void> Load();

  config::CaConfig config_;
  std::optional<ca::OpenedCa> loaded_;
  Identity loaded_identity_;
  // The last failure, so that a broken CA is logged once, not on every request.
  std::optional<Identity> failed_identity_;
  Error failure_;
};

// "7 days", "1 hour", "90 minutes", "45 seconds": a duration as a person
// reads it (whole units only).
std::string DurationText(std::int64_t seconds);

// The roles `account` may ask for (groups: its Unix groups; none for
// directory accounts), each as list_roles describes it, principals expanded.
nlohmann::json RolesJson(const config::CaConfig& ca, const std::string& account,
                         const std::vector<std::string>& groups);

}  // namespace keyward::daemon
