// Every key added or revoked and every certificate signed through keywardd
// is told to the administrator (the alert channel) and appended to
// keywardd's audit log (JSON lines in store/audit_log.h's format; each store
// also keeps its own audit.log, and the CA its issued.log).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

// At most one message is being sent at a time. Changes that come while one
// is on its way are gathered and sent together, in one message, as soon as it
// has gone: a burst of changes costs the administrator (and an SMS account)
// a few messages instead of one each, every change is still in one, and
// the sender's cost follows how fast the channel is, not how fast changes
// come. A single change is sent at once, on its own.
inline constexpr std::size_t kMaxChangesPerAlert = 20;

class Alerts {
 public:
  // Opens (creating if missing, mode 0750) the audit log's folder.
  static Result<Alerts> Open(const std::string& audit_log, Notifier* notifier, std::string to);

  // The change is made already: failures here are logged, not returned.
  // The audit log line is written (and synced) before this returns; the
  // message is sent now, or with the next one when one is being sent.
  void Report(const Change& change);

  // Sends what was gathered once the message before it has gone; the
  // server's loop calls it after reaping its children.
  void Poll();

  // At stop: sends what is gathered, waiting at most `seconds` in all.
  void Drain(int seconds);

  std::size_t pending() const { return pending_.size(); }

  // The alert's text, for tests: one change, or several in one message.
  static Message Compose(const Change& change, const std::string& to);
  static Message Compose(const std::vector<Change>& changes, const std::string& to);

 private:
  Alerts(fs::UniqueFd dir, std::string file, Notifier* notifier, std::string to)
      : dir_(std::move(dir)), file_(std::move(file)), notifier_(notifier), to_(std::move(to)) {}

  fs::UniqueFd dir_;
  std::string file_;
  Notifier* notifier_;
  std::string to_;
  pid_t sending_ = 0;  // the background job sending the last message
  std::vector<Change> pending_;
};

}  // namespace keyward::daemon
