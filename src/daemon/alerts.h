// Every key added or revoked and every certificate signed through keywardd
// is told to the administrator (the alert channel) and appended to
// keywardd's audit log (JSON lines in store/audit_log.h's format; each store
// also keeps its own audit.log, and the CA its issued.log).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "daemon/notifier.h"
#include "fs/safe_file.h"

namespace keyward::daemon {

struct Change {
  std::string action;  // "add", "revoke", "sign_cert"
  std::string account;
  std::string device;  // sign_cert: the role
  std::string file;    // sign_cert: the certificate's key id (the audit log's "file")
  std::string fingerprint;
  std::string client;
  std::int64_t time = 0;  // Unix seconds
  // sign_cert only.
  std::uint64_t serial = 0;
  std::string principals;  // comma-separated
  std::string valid;       // "2026-11-21T10:00:00Z to 2026-11-28T10:00:00Z"
};

class Alerts {
 public:
  // Opens (creating if missing, mode 0750) the audit log's folder.
  static Result<Alerts> Open(const std::string& audit_log, Notifier* notifier, std::string to);

  // The change is made already: failures here are logged, not returned.
  void Report(const Change& change);

  // The alert's text, for tests.
  static Message Compose(const Change& change, const std::string& to);

 private:
  Alerts(fs::UniqueFd dir, std::string file, Notifier* notifier, std::string to)
      : dir_(std::move(dir)), file_(std::move(file)), notifier_(notifier), to_(std::move(to)) {}

  fs::UniqueFd dir_;
  std::string file_;
  Notifier* notifier_;
  std::string to_;
};

}  // namespace keyward::daemon
