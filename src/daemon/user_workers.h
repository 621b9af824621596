// The store work of an account, done by a child that stays for the next
// request.
//
// RunAsUser (as_user.h) forks a child per operation. For the requests that
// come again and again (list_keys, add_key, revoke_key) that fork, the
// child's page faults and its exit were a large part of each request's
// cost. A worker is the same child kept: forked, made non-dumpable and
// dropped to the account's uid, gid and groups before it reads anything, it
// answers one JSON request at a time, one line each way, on a socket pair
// only keywardd holds (every other child of keywardd closes it).
//
// A worker serves one account at one place (home, store, authorized_keys);
// a request for the same account at another place (passwd changed) stops it
// and starts another. Workers idle for kWorkerIdle stop; at most kMaxWorkers
// run, the least recently used stopping first. A worker that crashes, says
// too much, answers nonsense or outlives the timeout is killed and the
// request fails as "internal"; the next one starts a fresh worker. A
// request is sent again to a fresh worker only when the old one was gone
// before it could read it (so an add is never done twice).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "daemon/as_user.h"
#include "fs/safe_file.h"
#include "store/account.h"

namespace keyward::daemon {

inline constexpr std::chrono::seconds kWorkerIdle{30};
inline constexpr std::size_t kMaxWorkers = 32;
inline constexpr std::size_t kMaxWorkerRequestBytes = std::size_t{1} << 20;

// What a worker does with a request, in the worker, with the account's
// rights.
using WorkerServe = std::function<Result<nlohmann::json>(const nlohmann::json& request)>;

class UserWorkers {
 public:
  using Clock = std::chrono::steady_clock;

  UserWorkers() = default;
  UserWorkers(const UserWorkers&) = delete;
  UserWorkers& operator=(const UserWorkers&) = delete;
  ~UserWorkers() { StopAll(); }

  // Asks the worker of `place` (any string that names the account and where
  // its files are; a new one replaces a worker of the same account with
  // another place), starting one with `serve` when there is none.
  Result<nlohmann::json> Ask(const store::Account& account, const std::string& place, const WorkerServe& serve,
                             const nlohmann::json& request, std::chrono::milliseconds timeout = kAsUserTimeout);

  // Stops the workers idle for longer than kWorkerIdle (the server's loop).
  void StopIdle();
  void StopAll();

  std::size_t running() const { return workers_.size(); }
  // The worker's pid for `account_name`, or 0 (tests).
  pid_t pid_of(const std::string& account_name) const;

 private:
  struct Worker {
    pid_t pid = 0;
    fs::UniqueFd fd;
    std::string place;
    Clock::time_point last_used;
    std::string pending;  // bytes read after the last reply (none, normally)
  };

  Result<Worker*> Start(const store::Account& account, const std::string& place, const WorkerServe& serve);
  void Stop(const std::string& account_name);

  std::map<std::string, Worker> workers_;  // by account name
};

}  // namespace keyward::daemon
