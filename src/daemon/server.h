// keywardd's socket server: one thread, one poll loop, a line buffer per
// connection.
//
// Why single-threaded: every request is short (a map lookup, or one forked
// child doing one store operation under the store's lock), the slow work
// (sending codes and alerts) runs in background children, and one thread
// means no locks around codes and sessions and safe fork()s. A child that
// hangs is killed at RunAsUser's timeout, so one bad home cannot stall the
// loop for long.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"
#include "daemon/handlers.h"
#include "fs/safe_file.h"

namespace keyward::daemon {

inline constexpr std::size_t kMaxConnections = 64;
inline constexpr int kIdleSeconds = 30;                          // between requests, or until the first
inline constexpr std::size_t kMaxPendingOutput = std::size_t{1} << 20;  // stop reading while more is unsent

struct ServerOptions {
  std::string socket_path;
  uid_t web_uid = 0;   // the only uid besides root that is served
  gid_t group = 0;     // the socket's group
  std::size_t max_connections = kMaxConnections;
  int idle_seconds = kIdleSeconds;
};

class Server {
 public:
  // Creates the socket's folder if missing (owned by web_uid:group, mode
  // 0700), removes a stale socket (only if it is a socket), binds and
  // listens (the socket web_uid:group, mode 0660).
  static Result<Server> Listen(const ServerOptions& options);

  // Serves until SIGTERM or SIGINT; then removes the socket.
  Result<void> Run(Daemon& daemon);

  Server(Server&&) noexcept = default;
  ~Server();

 private:
  Server(ServerOptions options, fs::UniqueFd dir, std::string name, fs::UniqueFd listener)
      : options_(std::move(options)), dir_(std::move(dir)), name_(std::move(name)), listener_(std::move(listener)) {}

  ServerOptions options_;
  fs::UniqueFd dir_;
  std::string name_;
  fs::UniqueFd listener_;
};

}  // namespace keyward::daemon
