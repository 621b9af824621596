// Publishing a revoke_key in the KRL sshd reads (RevokedKeys).
//
// When a KRL is published (the file at ca.krl exists), every key revoked
// through keywardd is recorded in the CA's revocation list
// (<ca.dir>/revocations, root's) and the KRL is rebuilt
// (krl::RevokeAndRebuild; without a CA folder, krl::BuildAndWriteKrl, which
// still lists every account's revoked/ keys). The list makes the
// revocation stick: revoked/ belongs to the user, who could empty it, but
// the list is root's.
//
// A rebuild reads every account's revoked/ folder and can take seconds, so
// it never runs in the request: revoke_key only queues the key. Rebuilds run
// in a forked child that keeps keywardd's identity (root: the KRL and the
// CA folder are root's; background.h's messages drop to notify_user, this
// cannot). At most one runs at a time: revocations that come during a
// rebuild are queued and published by one more rebuild once it has ended.
//
// What is lost if keywardd stops with revocations queued is only their
// entry in the revocation list: the keys are in the accounts' revoked/
// folders, which the next rebuild (or `keyward krl build`) reads anyway.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "config/config.h"
#include "krl/revocation_list.h"

namespace keyward::daemon {

class KrlRebuilder {
 public:
  explicit KrlRebuilder(const config::Config& config) : config_(config) {}
  ~KrlRebuilder();

  // Whether a KRL is published: the file at ca.krl exists (one stat).
  bool Published() const;

  // Queues `records` (maybe none: the rebuild still reads revoked/) and
  // starts a rebuild unless one is running.
  void Queue(std::vector<krl::Revocation> records);

  // Starts the queued rebuild once the running one has ended; the server's
  // loop calls it after reaping its children.
  void Poll();

  bool running() const;
  std::size_t started() const { return started_; }        // rebuilds started since keywardd started
  std::size_t queued_records() const { return queued_.size(); }
  bool pending() const { return pending_; }

 private:
  const config::Config& config_;
  pid_t running_ = 0;
  bool pending_ = false;  // a rebuild is wanted once the running one ends
  std::vector<krl::Revocation> queued_;
  std::size_t started_ = 0;
};

}  // namespace keyward::daemon
