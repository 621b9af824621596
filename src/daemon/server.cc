#include "daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>

#include "daemon/as_user.h"
#include "daemon/background.h"
#include "daemon/log.h"
#include "daemon/protocol.h"
#include "store/store.h"

namespace keyward::daemon {

namespace {

volatile sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }
void OnChild(int) {}  // only wakes ppoll; the loop reaps

std::int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

tl::unexpected<Error> Sys(const std::string& what) {
  return Fail("socket_failed", what + ": " + std::strerror(errno));
}

struct Connection {
  Connection() = default;
  Connection(Connection&&) noexcept = default;
  ~Connection() {
    if (fd.valid()) UnmarkPrivateFd(fd.get());
  }

  fs::UniqueFd fd;
  Caller caller;
  std::string in;
  std::string out;
  std::int64_t deadline_ms = 0;
  bool closing = false;  // no more requests: close once `out` is sent
  bool dead = false;     // close now
  std::string Who() const {
    return "peer uid " + std::to_string(caller.uid) + " pid " + std::to_string(caller.pid);
  }
};

// The socket's folder: created when missing (web_uid:group, 0700), or, when
// it exists, a real folder (no symlink) that only root, keywardd or the
// web user can write to.
Result<fs::UniqueFd> OpenSocketFolder(const std::string& dir, const ServerOptions& o) {
  bool created = false;
  if (mkdir(dir.c_str(), 0700) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    return Sys("cannot create the socket's folder " + dir);
  }
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Sys("cannot open the socket's folder " + dir + " (it must be a folder, not a symlink)");
  fs::UniqueFd folder(fd);
  if (created) {
    // On the descriptor: nothing can be swapped in between.
    if (fchown(fd, o.web_uid, o.group) != 0 && geteuid() == 0) return Sys("cannot chown " + dir);
    if (fchmod(fd, 0700) != 0) return Sys("cannot chmod " + dir);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return Sys("cannot stat " + dir);
  if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != o.web_uid) {
    return Fail("bad_owner", "the socket's folder " + dir + " is owned by uid " + std::to_string(st.st_uid) +
                                 "; it must belong to root or the web user");
  }
  if ((st.st_mode & 022) != 0) {
    return Fail("bad_mode", "the socket's folder " + dir + " is writable by group or others; make it 0700");
  }
  return folder;
}

// A socket left by a keywardd that died is removed; anything else in its
// place, or a socket someone still serves on, stops the start.
Result<void> RemoveStaleSocket(int dirfd, const std::string& path, const std::string& name) {
  struct stat st {};
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return Sys("cannot check " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Fail("exists", path + " exists and is not a socket; remove it or choose another \"socket\"");
  }
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    fs::UniqueFd p(probe);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (connect(probe, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0) {
      return Fail("in_use", "another keywardd is serving on " + path);
    }
  }
  if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) return Sys("cannot remove the stale " + path);
  Log("removed a stale socket " + path);
  return {};
}

void Queue(Connection& c, std::string_view reply) { c.out.append(reply); }

void Flush(Connection& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      c.dead = true;
      return;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
}

// A request the protocol refuses: the caller is told why, then dropped.
void Refuse(Connection& c, const Error& e) {
  Log(c.Who() + ": " + e.message + "; connection closed");
  Queue(c, FormatError(e));
  c.closing = true;
  c.in.clear();
}

void HandleLines(Connection& c, Daemon& daemon, int idle_seconds) {
  for (;;) {
    if (c.closing || c.dead) return;
    std::size_t nl = c.in.find('\n');
    if (nl == std::string::npos) break;
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    c.deadline_ms = NowMs() + idle_seconds * 1000;
    auto request = ParseRequest(line);
    if (!request) {
      Refuse(c, request.error());
      return;
    }
    Outcome outcome = daemon.Handle(c.caller, *request);
    Queue(c, outcome.reply);
    if (outcome.close) c.closing = true;
  }
  // No end of line within the limit: the line is too long, however much
  // more of it there would be.
  if (c.in.size() > kMaxRequestBytes) {
    Refuse(c, {"too_long", "the request line is longer than 64 KiB"});
  }
}

void ReadFrom(Connection& c, Daemon& daemon, int idle_seconds) {
  char buf[65536];
  ssize_t n = recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) c.dead = true;
    return;
  }
  if (n == 0) {
    // The peer has sent all it will; answer what came whole, then close.
    HandleLines(c, daemon, idle_seconds);
    c.closing = true;
    return;
  }
  c.in.append(buf, static_cast<std::size_t>(n));
  HandleLines(c, daemon, idle_seconds);
}

Result<Caller> PeerOf(int fd, const ServerOptions& o) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Sys("SO_PEERCRED");
  Caller caller;
  caller.uid = cred.uid;
  caller.pid = cred.pid;
  if (cred.uid == 0) {
    caller.kind = CallerKind::kRoot;
  } else if (cred.uid == o.web_uid) {
    caller.kind = CallerKind::kWeb;
  } else {
    return Fail("not_permitted", "refused peer uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid) +
                                     ": only root and web_user are served");
  }
  return caller;
}

}  // namespace

Result<Server> Server::Listen(const ServerOptions& o) {
  auto [dir, name] = store::SplitPath(o.socket_path);
  struct sockaddr_un addr {};
  if (o.socket_path.empty() || o.socket_path.front() != '/' || o.socket_path.size() >= sizeof addr.sun_path) {
    return Fail("bad_config", "setting \"socket\": must be an absolute path shorter than " +
                                  std::to_string(sizeof addr.sun_path) + " bytes");
  }
  auto folder = OpenSocketFolder(dir, o);
  if (!folder) return Fail(folder.error());
  if (auto ok = RemoveStaleSocket(folder->get(), o.socket_path, name); !ok) return Fail(ok.error());

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Sys("socket");
  fs::UniqueFd listener(fd);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, o.socket_path.c_str(), o.socket_path.size());
  // The mode comes from the umask at bind(): a chmod by path afterwards
  // could be sent elsewhere by a symlink swapped in by the folder's owner.
  mode_t old_umask = umask(0117);
  int bound = bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  umask(old_umask);
  errno = bind_errno;
  if (bound != 0) return Sys("cannot bind " + o.socket_path);
  // AT_SYMLINK_NOFOLLOW: a symlink in the socket's place gets chowned
  // itself, never what it points to.
  if (fchownat(folder->get(), name.c_str(), o.web_uid, o.group, AT_SYMLINK_NOFOLLOW) != 0 && geteuid() == 0) {
    return Sys("cannot chown " + o.socket_path);
  }
  if (listen(fd, SOMAXCONN) != 0) return Sys("listen");
  MarkPrivateFd(fd);
  MarkPrivateFd(folder->get());
  return Server(o, std::move(*folder), name, std::move(listener));
}

Server::~Server() {
  if (dir_.valid()) UnmarkPrivateFd(dir_.get());
  if (!listener_.valid()) return;
  UnmarkPrivateFd(listener_.get());
  unlinkat(dir_.get(), name_.c_str(), 0);
}

Result<void> Server::Run(Daemon& daemon) {
  // The signals that matter are blocked except while the loop sleeps in
  // ppoll(), so none can slip in between a check of g_stop and the sleep.
  struct sigaction stop {};
  stop.sa_handler = OnStop;
  sigemptyset(&stop.sa_mask);
  struct sigaction child {};
  child.sa_handler = OnChild;
  sigemptyset(&child.sa_mask);
  sigaction(SIGTERM, &stop, nullptr);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGCHLD, &child, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);  // no reload: systemd restarts keywardd to read the configuration
  sigset_t blocked, original, waiting;
  sigemptyset(&blocked);
  for (int sig : {SIGTERM, SIGINT, SIGCHLD}) sigaddset(&blocked, sig);
  sigprocmask(SIG_BLOCK, &blocked, &original);
  waiting = original;
  for (int sig : {SIGTERM, SIGINT, SIGCHLD}) sigdelset(&waiting, sig);

  Log("serving on " + options_.socket_path + " for root and uid " + std::to_string(options_.web_uid));
  std::list<Connection> connections;
  std::vector<struct pollfd> fds;
  std::vector<Connection*> polled;
  while (g_stop == 0) {
    fds.clear();
    polled.clear();
    fds.push_back({listener_.get(), POLLIN, 0});
    std::int64_t now = NowMs();
    std::int64_t wake = now + 1000;  // at least once a second: reap background jobs
    for (Connection& c : connections) {
      short events = 0;
      if (!c.closing && c.out.size() < kMaxPendingOutput) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd.get(), events, 0});
      polled.push_back(&c);
      wake = std::min(wake, c.deadline_ms);
    }
    std::int64_t wait = std::max<std::int64_t>(0, wake - now);
    struct timespec ts {static_cast<time_t>(wait / 1000), static_cast<long>((wait % 1000) * 1000000)};
    int ready = ppoll(fds.data(), fds.size(), &ts, &waiting);
    if (ready < 0 && errno != EINTR) return Sys("ppoll");
    if (g_stop != 0) break;
    ReapBackgroundJobs();
    daemon.Tick();
    if (ready < 0) continue;

    for (std::size_t i = 1; i < fds.size(); ++i) {
      Connection& c = *polled[i - 1];
      short got = fds[i].revents;
      if ((got & (POLLIN | POLLHUP | POLLERR)) != 0 && !c.closing) ReadFrom(c, daemon, options_.idle_seconds);
      else if ((got & (POLLHUP | POLLERR)) != 0 && c.out.empty()) c.dead = true;
      if (!c.out.empty()) Flush(c);
    }
    // Closed connections go before new ones are counted against the limit.
    now = NowMs();
    for (auto it = connections.begin(); it != connections.end();) {
      bool idle = now >= it->deadline_ms;
      if (idle && !it->dead) Log(it->Who() + ": idle for " + std::to_string(options_.idle_seconds) + " s; closed");
      bool done = it->dead || idle || (it->closing && it->out.empty());
      it = done ? connections.erase(it) : std::next(it);
    }
    if ((fds[0].revents & POLLIN) != 0) {
      for (;;) {
        int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        fs::UniqueFd conn(fd);
        auto caller = PeerOf(fd, options_);
        if (!caller) {
          Log(caller.error().message);
          continue;  // closed before a byte is read
        }
        if (connections.size() >= options_.max_connections) {
          Log("refused peer uid " + std::to_string(caller->uid) + ": " + std::to_string(options_.max_connections) +
              " connections are open already");
          continue;
        }
        Connection c;
        MarkPrivateFd(fd);
        c.fd = std::move(conn);
        c.caller = *caller;
        c.deadline_ms = NowMs() + options_.idle_seconds * 1000;
        connections.push_back(std::move(c));
      }
    }
  }
  Log("stopping");
  connections.clear();
  struct stat st {};
  if (fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
    unlinkat(dir_.get(), name_.c_str(), 0);
  }
  UnmarkPrivateFd(listener_.get());
  listener_ = fs::UniqueFd();
  daemon.Drain(5);
  sigprocmask(SIG_SETMASK, &original, nullptr);
  return {};
}

}  // namespace keyward::daemon
