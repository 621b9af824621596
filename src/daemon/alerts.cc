#include "daemon/alerts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/background.h"
#include "daemon/log.h"
#include "store/audit_log.h"
#include "store/store.h"

namespace keyward::daemon {

Result<Alerts> Alerts::Open(const std::string& audit_log, Notifier* notifier, std::string to) {
  auto [dir, file] = store::SplitPath(audit_log);
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Fail("mkdir_failed", "cannot create the audit log's folder " + dir + ": " + std::strerror(errno));
  }
  auto fd = fs::OpenDirectory(dir, fs::Ownership{geteuid()}, "the audit log's folder");
  if (!fd) return Fail(fd.error());
  return Alerts(std::move(*fd), file, notifier, std::move(to));
}

Message Alerts::Compose(const Change& c, const std::string& to) {
  if (c.action == "sign_cert") {
    Message m;
    m.to = to;
    m.subject = "keyward: certificate signed for " + c.account;
    m.body = "keyward: certificate signed for the account " + c.account + "\n" +
             "account: " + c.account + "\n" +
             "role: " + c.device + "\n" +
             "key id: " + c.file + "\n" +
             "serial: " + std::to_string(c.serial) + "\n" +
             "principals: " + c.principals + "\n" +
             "valid: " + c.valid + "\n" +
             "fingerprint: " + c.fingerprint + "\n" +
             "client: " + (c.client.empty() ? "(not given)" : c.client) + "\n" +
             "time: " + store::FormatUtcTimestamp(c.time) + "\n";
    return m;
  }
  std::string what = c.action == "add" ? "key added to" : "key revoked from";
  Message m;
  m.to = to;
  m.subject = "keyward: " + what + " " + c.account;
  m.body = "keyward: " + what + " the account " + c.account + "\n" +
           "account: " + c.account + "\n" +
           "device: " + c.device + "\n" +
           "file: " + c.file + "\n" +
           "fingerprint: " + c.fingerprint + "\n" +
           "client: " + (c.client.empty() ? "(not given)" : c.client) + "\n" +
           "time: " + store::FormatUtcTimestamp(c.time) + "\n";
  return m;
}

void Alerts::Report(const Change& c) {
  store::AuditRecord r;
  r.time = c.time;
  r.who = "keywardd";
  r.account = c.account;
  r.action = c.action;
  r.file = c.file;
  r.fingerprint = c.fingerprint;
  r.client = c.client;
  if (auto ok = store::AppendAuditRecord(dir_.get(), file_, r); !ok) {
    Log("audit log: cannot append: " + ok.error().message);
  }
  Message m = Compose(c, to_);
  Notifier* notifier = notifier_;
  auto sent = RunInBackground("alert for " + c.action + " on " + c.account, [notifier, m] { return notifier->Send(m); });
  if (!sent) Log("alert: " + sent.error().message);
}

}  // namespace keyward::daemon
