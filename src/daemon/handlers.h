// keywardd's request handlers, and the state they share. One handler per
// request, named as the request is ("add_key" -> HandleAddKey), and one
// dispatch table per kind of caller: the kernel says who the caller is
// (SO_PEERCRED), and a request that caller's table lacks drops it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "config/config.h"
#include "daemon/accounts.h"
#include "daemon/alerts.h"
#include "daemon/cert_authority.h"
#include "daemon/channels.h"
#include "daemon/krl_rebuilder.h"
#include "daemon/protocol.h"
#include "daemon/user_workers.h"
#include "factor/codes.h"
#include "factor/rate_limit.h"
#include "factor/sessions.h"

namespace keyward::daemon {

enum class CallerKind { kRoot, kWeb };

struct Caller {
  CallerKind kind = CallerKind::kWeb;
  uid_t uid = 0;
  pid_t pid = 0;
};

// Time as the handlers see it; tests move it.
struct Clocks {
  factor::Clock monotonic = factor::MonotonicSeconds;
  factor::Clock wall = factor::UnixSeconds;
};

class Daemon;

// One request in flight.
struct Call {
  const Request& request;
  const Caller& caller;
  std::string client;   // the request's "client", or "uid:N" when it gave none
  std::string account;  // set by the handler once known, for the log line
};

using Handler = Result<nlohmann::json> (*)(Daemon& daemon, Call& call);

Result<nlohmann::json> HandleLogin(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleVerify(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleListKeys(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleAddKey(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleRevokeKey(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleLogout(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleListRoles(Daemon& daemon, Call& call);
Result<nlohmann::json> HandleSignCert(Daemon& daemon, Call& call);

// The handler `kind` of caller may use for `op`; nullptr: not permitted.
Handler FindHandler(CallerKind kind, Op op);

struct Outcome {
  std::string reply;     // one line, '\n' included
  bool close = false;    // the request was not permitted: drop the caller
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Create(const config::Config& config, Channels channels,
                                                Clocks clocks = {});

  // Handles one parsed request and logs one line about it.
  Outcome Handle(const Caller& caller, const Request& request);

  // Work between requests: the server's loop calls it after reaping its
  // children (a queued KRL rebuild starts once the running one has ended).
  void Tick();
  // At stop (and in tests): the alerts still gathered are sent, and the
  // background jobs waited for, `seconds` at most each.
  void Drain(int seconds);

  const config::Config& config() const { return config_; }
  const Accounts& accounts() const { return accounts_; }
  Channels& channels() { return channels_; }
  factor::CodeBook& codes() { return codes_; }
  factor::Sessions& sessions() { return sessions_; }
  factor::RateLimiter& per_account() { return per_account_; }
  factor::RateLimiter& per_client() { return per_client_; }
  factor::RateLimiter& certificates() { return certificates_; }
  Alerts& alerts() { return alerts_; }
  CertAuthority& ca() { return ca_; }
  KrlRebuilder& krl() { return krl_; }
  UserWorkers& workers() { return workers_; }
  // A store request (store_ops.h) done by the account's worker.
  Result<nlohmann::json> StoreWork(const AccountPlace& place, const nlohmann::json& request);
  const Clocks& clocks() const { return clocks_; }

 private:
  Daemon(const config::Config& config, Channels channels, Clocks clocks, factor::CodeBook codes, Alerts alerts);

  config::Config config_;
  Clocks clocks_;
  Accounts accounts_;
  Channels channels_;
  factor::CodeBook codes_;
  factor::Sessions sessions_;
  factor::RateLimiter per_account_;
  factor::RateLimiter per_client_;
  factor::RateLimiter certificates_;  // sign_cert per account
  Alerts alerts_;
  CertAuthority ca_;
  KrlRebuilder krl_;
  UserWorkers workers_;
};

}  // namespace keyward::daemon
