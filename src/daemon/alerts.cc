#include "daemon/alerts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "daemon/background.h"
#include "daemon/log.h"
#include "store/audit_log.h"
#include "store/store.h"

namespace keyward::daemon {

namespace {

// Changes waiting for a slow or stuck channel are not kept without end: the
// audit log has every one, and the log says what was not sent.
constexpr std::size_t kMaxPendingChanges = 10000;

}  // namespace

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

Message Alerts::Compose(const std::vector<Change>& changes, const std::string& to) {
  if (changes.size() == 1) return Compose(changes.front(), to);
  Message m;
  m.to = to;
  std::set<std::string> accounts;
  for (const Change& c : changes) accounts.insert(c.account);
  m.subject = "keyward: " + std::to_string(changes.size()) + " changes on " +
              (accounts.size() == 1 ? "the account " + *accounts.begin()
                                    : std::to_string(accounts.size()) + " accounts");
  // Each change as it would have been sent alone, one after the other.
  for (const Change& c : changes) {
    if (!m.body.empty()) m.body += "\n";
    m.body += Compose(c, to).body;
  }
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
  if (pending_.size() >= kMaxPendingChanges) {
    Log("alert for " + c.action + " on " + c.account + " not sent: " + std::to_string(pending_.size()) +
        " changes are waiting for the alert channel already (the audit log has it)");
    return;
  }
  pending_.push_back(c);
  Poll();
}

void Alerts::Poll() {
  if (sending_ != 0 && BackgroundJobRunning(sending_)) return;
  sending_ = 0;
  if (pending_.empty()) return;
  // As many waiting changes as one message of this channel carries (one
  // SMS holds a few), and always the first.
  std::vector<Change> batch{pending_.front()};
  Message m = Compose(batch, to_);
  const std::size_t limit = notifier_->max_message_bytes();
  while (batch.size() < std::min(pending_.size(), kMaxChangesPerAlert)) {
    batch.push_back(pending_[batch.size()]);
    Message more = Compose(batch, to_);
    if (more.subject.size() + more.body.size() > limit) {
      batch.pop_back();
      break;
    }
    m = std::move(more);
  }
  const std::size_t n = batch.size();
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  Notifier* notifier = notifier_;
  std::string what = n == 1 ? "alert for " + batch[0].action + " on " + batch[0].account
                            : "alert for " + std::to_string(n) + " changes";
  auto sent = RunInBackground(what, [notifier, m] { return notifier->Send(m); });
  if (!sent) {
    Log("alert: " + sent.error().message);
    return;
  }
  sending_ = *sent;
}

void Alerts::Drain(int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    ReapBackgroundJobs();
    Poll();
    if (pending_.empty() && (sending_ == 0 || !BackgroundJobRunning(sending_))) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!pending_.empty()) Log(std::to_string(pending_.size()) + " alerts not sent before stopping (the audit log has them)");
}

}  // namespace keyward::daemon
