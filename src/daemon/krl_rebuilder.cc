#include "daemon/krl_rebuilder.h"

#include <sys/stat.h>

#include "daemon/background.h"
#include "daemon/log.h"
#include "krl/publish.h"

namespace keyward::daemon {

namespace {

// In the child: the revocations, then the KRL.
Result<void> Rebuild(const config::Config& config, const std::vector<krl::Revocation>& records) {
  krl::PublishOptions options;
  options.config = config;
  Result<krl::PublishResult> result = krl::RevokeAndRebuild(options, records);
  if (!result && result.error().code == "no_ca") {
    // A KRL without a CA: the accounts' revoked/ folders are its source.
    result = krl::BuildAndWriteKrl(options);
  }
  if (!result) return Fail(result.error());
  for (const std::string& w : result->warnings) Log("KRL: " + w);
  Log("KRL " + result->path + " rebuilt: version " + std::to_string(result->version) + ", " +
      std::to_string(result->explicit_keys + result->sha256s + result->sha1s) + " keys, " +
      std::to_string(result->serials) + " serials, " + std::to_string(records.size()) + " new revocation(s)");
  return {};
}

}  // namespace

KrlRebuilder::~KrlRebuilder() {
  if (pending_) {
    Log("stopping before a queued KRL rebuild (" + std::to_string(queued_.size()) +
        " revocation(s)); the keys are in the accounts' revoked/ folders: run keyward krl build");
  }
}

bool KrlRebuilder::Published() const {
  struct stat st {};
  return !config_.ca.krl.empty() && lstat(config_.ca.krl.c_str(), &st) == 0;
}

bool KrlRebuilder::running() const { return running_ != 0 && BackgroundJobRunning(running_); }

void KrlRebuilder::Queue(std::vector<krl::Revocation> records) {
  for (auto& r : records) queued_.push_back(std::move(r));
  pending_ = true;
  Poll();
}

void KrlRebuilder::Poll() {
  if (!pending_ || running()) return;
  running_ = 0;
  std::vector<krl::Revocation> records = std::move(queued_);
  queued_.clear();
  const config::Config& config = config_;
  auto started = RunInBackground(
      "KRL rebuild", [&config, records] { return Rebuild(config, records); }, JobRights::kKeywardd);
  if (!started) {
    // Busy: the records wait for the next Poll.
    Log("KRL rebuild: " + started.error().message + "; it is retried");
    queued_ = std::move(records);
    return;
  }
  running_ = *started;
  pending_ = false;
  ++started_;
}

}  // namespace keyward::daemon
