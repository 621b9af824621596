// keyward-web: the self-service web pages. Runs as an unprivileged user,
// holds no secret that can change a key store, and asks keywardd (over its
// Unix socket) for every decision. See src/web/app.h for the routes and
// src/web/server.h for the HTTP limits.
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "fs/privilege.h"
#include "web/app.h"
#include "web/backend.h"
#include "web/server.h"

namespace {

using namespace keyward;

constexpr const char* kUsage =
    "usage: keyward-web [options]\n"
    "  --config PATH          keyward's JSON configuration: socket and max_key_days are\n"
    "                         read from it (the flags below win over it)\n"
    "  --socket PATH          keywardd's socket (default /run/keyward/keywardd.sock)\n"
    "  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; [::1]:8080 for IPv6;\n"
    "                         port 0 picks a free port, printed at start)\n"
    "  --trusted-proxy ADDR   a proxy whose X-Forwarded-For is believed: an address or\n"
    "                         a network (10.0.0.0/8); repeat for several\n"
    "  --secure-cookies       TLS is in front: cookies get Secure and the __Host- prefix\n"
    "  --max-key-days N       the key policy's longest expiry, for the form's hint\n"
    "  --threads N            worker threads, each serving one connection at a time (default 64)\n"
    "  --user NAME            drop to this user after binding (when started as root)\n"
    "  --allow-root           keep running as root (throwaway demos only)\n";

struct Flags {
  std::string config_path;
  std::optional<std::string> socket;
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> proxies;
  bool secure_cookies = false;
  std::optional<int> max_key_days;
  std::size_t threads = web::ServerOptions{}.threads;
  std::string user;
  bool allow_root = false;
};

Result<long> Number(std::string_view flag, std::string_view text, long min, long max) {
  long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < min || n > max) {
    return Fail("usage", std::string(flag) + " wants a number from " + std::to_string(min) + " to " +
                             std::to_string(max));
  }
  return n;
}

Result<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return Fail("usage", std::string(arg) + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") return Fail("help", kUsage);
    if (arg == "--secure-cookies") {
      f.secure_cookies = true;
      continue;
    }
    if (arg == "--allow-root") {
      f.allow_root = true;
      continue;
    }
    auto v = value();
    if (!v) return Fail(v.error());
    if (arg == "--config") {
      f.config_path = *v;
    } else if (arg == "--socket") {
      f.socket = *v;
    } else if (arg == "--listen") {
      f.listen = *v;
    } else if (arg == "--trusted-proxy") {
      f.proxies.push_back(*v);
    } else if (arg == "--user") {
      f.user = *v;
    } else if (arg == "--max-key-days") {
      auto n = Number(arg, *v, 0, 36500);
      if (!n) return Fail(n.error());
      f.max_key_days = static_cast<int>(*n);
    } else if (arg == "--threads") {
      auto n = Number(arg, *v, 1, 1024);
      if (!n) return Fail(n.error());
      f.threads = static_cast<std::size_t>(*n);
    } else {
      return Fail("usage", "unknown option " + std::string(arg) + "\n" + kUsage);
    }
  }
  return f;
}

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080".
Result<void> ParseListen(const std::string& text, web::ServerOptions& options) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Fail("usage", "--listen wants HOST:PORT, not " + text);
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = Number("--listen", std::string_view(text).substr(colon + 1), 0, 65535);
  if (!port || host.empty()) return Fail("usage", "--listen wants HOST:PORT, not " + text);
  options.host = host;
  options.port = static_cast<int>(*port);
  return {};
}

Result<void> DropTo(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return Fail("no_user", "--user " + name + ": no such user");
  }
  return fs::DropPrivileges(name, pw.pw_uid, pw.pw_gid);
}

int Run(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags) {
    bool help = flags.error().code == "help";
    std::fprintf(help ? stdout : stderr, "%s%s", help ? "" : "keyward-web: ", flags.error().message.c_str());
    if (!help) std::fputc('\n', stderr);
    return help ? 0 : 2;
  }
  // The configuration's defaults, then the file, then the flags.
  config::Config settings;
  if (!flags->config_path.empty()) {
    auto loaded = config::LoadConfig(flags->config_path, /*must_exist=*/true);
    if (!loaded) {
      std::fprintf(stderr, "keyward-web: %s\n", loaded.error().message.c_str());
      return 1;
    }
    settings = std::move(*loaded);
    if (!settings.twilio_token.empty()) {
      // keyward-web must hold no secret; the file should be root's alone
      // and keyward-web started with flags instead.
      std::fprintf(stderr,
                   "keyward-web: warning: %s holds twilio_token and this process can read it; make it "
                   "readable by root only and give keyward-web --socket and --max-key-days instead\n",
                   flags->config_path.c_str());
    }
  }
  std::string socket_path = flags->socket.value_or(settings.socket);
  int max_key_days = flags->max_key_days.value_or(static_cast<int>(std::min(settings.max_key_days, 36500u)));

  web::ServerOptions options;
  options.threads = flags->threads;
  if (auto ok = ParseListen(flags->listen, options); !ok) {
    std::fprintf(stderr, "keyward-web: %s\n", ok.error().message.c_str());
    return 2;
  }
  auto proxies = web::ProxyList::Parse(flags->proxies);
  if (!proxies) {
    std::fprintf(stderr, "keyward-web: %s\n", proxies.error().message.c_str());
    return 2;
  }
  options.trusted_proxies = std::move(*proxies);

  auto pages = web::Pages::Load(max_key_days);
  auto csrf = web::CsrfSigner::Create();
  if (!pages || !csrf) {
    std::fprintf(stderr, "keyward-web: %s\n", (!pages ? pages.error() : csrf.error()).message.c_str());
    return 1;
  }
  web::SocketBackend backend(socket_path);
  web::App app(std::move(*pages), *csrf, backend, web::AppOptions{flags->secure_cookies, max_key_days});

  auto server = web::WebServer::Bind(app, options);
  if (!server) {
    std::fprintf(stderr, "keyward-web: %s\n", server.error().message.c_str());
    return 1;
  }
  if (!flags->user.empty()) {
    if (auto ok = DropTo(flags->user); !ok) {
      std::fprintf(stderr, "keyward-web: %s\n", ok.error().message.c_str());
      return 1;
    }
  }
  if (geteuid() == 0 && !flags->allow_root) {
    std::fprintf(stderr,
                 "keyward-web: refusing to run as root; run it as the web user (systemd User=), or pass "
                 "--user NAME to drop to it after binding\n");
    return 1;
  }

  // SIGINT and SIGTERM arrive on a descriptor the accept loop polls, so no
  // code runs in a signal handler; SIGPIPE is ignored (writes use
  // MSG_NOSIGNAL anyway). Blocked before any thread starts, so every
  // thread inherits the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int stop_fd = signalfd(-1, &stop, SFD_CLOEXEC);
  if (stop_fd < 0) {
    std::fprintf(stderr, "keyward-web: signalfd: %s\n", std::strerror(errno));
    return 1;
  }

  std::string shown = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::printf("keyward-web: listening on http://%s:%d/ (keywardd at %s)\n", shown.c_str(), (*server)->port(),
              socket_path.c_str());
  std::fflush(stdout);
  auto ran = (*server)->Run(stop_fd);
  close(stop_fd);
  if (!ran) {
    std::fprintf(stderr, "keyward-web: %s\n", ran.error().message.c_str());
    return 1;
  }
  std::printf("keyward-web: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Project code does not throw; this catches what a library might
  // (std::bad_alloc, std::regex_error) and exits with its message.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward-web: %s\n", e.what());
    return 1;
  }
}
