// keywardd: the privileged daemon. Runs in the foreground (systemd
// supervises it), reads the configuration, serves docs/protocol.md on a
// Unix socket. Exit status: 0 after SIGTERM/SIGINT, 1 when serving fails,
// 2 for a bad command line or configuration.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "config/config.h"
#include "daemon/background.h"
#include "daemon/channels.h"
#include "daemon/demo.h"
#include "daemon/handlers.h"
#include "daemon/server.h"
#include "store/account.h"

namespace {

using namespace keyward;

constexpr const char* kUsage =
    "usage: keywardd [--config PATH] [--foreground]\n"
    "       keywardd --write-config PATH\n"
    "       keywardd --demo DIR\n"
    "  --config PATH        the configuration (default /etc/keyward.conf)\n"
    "  --write-config PATH  write a sample with every setting and its default (- for standard output)\n"
    "  --demo DIR           a throwaway demo in DIR: no root needed, accounts alice and bob,\n"
    "                       codes and alerts printed on standard output\n"
    "  --foreground         the default: keywardd never forks into the background\n";

struct Flags {
  std::string config_path = config::kDefaultConfigPath;
  std::string write_config;
  std::string demo;
};

int Usage(const std::string& why) {
  std::fprintf(stderr, "keywardd: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int ConfigError(const std::string& why) {
  std::fprintf(stderr, "keywardd: %s\n", why.c_str());
  return 2;
}

int WriteSample(const std::string& path) {
  std::string sample = config::SampleConfig();
  if (path == "-") {
    std::fwrite(sample.data(), 1, sample.size(), stdout);
    return 0;
  }
  // 0600 and never over an existing file: the file will hold a credential.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ConfigError("cannot create " + path + ": " + std::strerror(errno));
  bool ok = write(fd, sample.data(), sample.size()) == static_cast<ssize_t>(sample.size());
  ok = fsync(fd) == 0 && ok;
  ok = close(fd) == 0 && ok;
  if (!ok) return ConfigError("cannot write " + path);
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

// The ids the server needs, from the names in the configuration.
Result<daemon::ServerOptions> ServerOptionsFor(const config::Config& c) {
  auto web = store::LookupAccount(c.web_user);
  if (!web) return Fail(web.error());
  if (!web->has_value()) return Fail("bad_config", "setting \"web_user\": there is no such user");
  auto admin = store::LookupAccount(c.admin_user);
  if (!admin) return Fail(admin.error());
  if (!admin->has_value()) return Fail("bad_config", "setting \"admin_user\": there is no such user");
  daemon::ServerOptions o;
  o.socket_path = c.socket;
  o.web_uid = (*web)->uid;
  o.group = (*web)->gid;
  if (!c.group.empty()) {
    struct group* gr = getgrnam(c.group.c_str());
    if (gr == nullptr) return Fail("bad_config", "setting \"group\": there is no such group");
    o.group = gr->gr_gid;
  }
  return o;
}

int Serve(const config::Config& config) {
  if (auto ok = config::CheckDaemonConfig(config); !ok) return ConfigError(ok.error().message);
  auto options = ServerOptionsFor(config);
  if (!options) return ConfigError(options.error().message);
  if (geteuid() == 0) {
    auto sender = store::LookupAccount(config.notify_user);
    if (!sender) return ConfigError(sender.error().message);
    if (!sender->has_value()) return ConfigError("setting \"notify_user\": there is no such user");
    if ((*sender)->uid == 0) return ConfigError("setting \"notify_user\": must not be root (it sends messages)");
    daemon::SetBackgroundIdentity({(*sender)->name, (*sender)->uid, (*sender)->gid, std::nullopt});
  }
  auto channels = daemon::MakeChannels(config, STDOUT_FILENO);
  if (!channels) return ConfigError(channels.error().message);
  if (geteuid() != 0) {
    std::fprintf(stderr, "keywardd: not running as root: only accounts of uid %u can be served\n",
                 static_cast<unsigned>(geteuid()));
  }
  // Nothing below depends on where keywardd was started.
  if (chdir("/") != 0) return ConfigError(std::string("cannot chdir to /: ") + std::strerror(errno));
  auto daemon = daemon::Daemon::Create(config, std::move(*channels));
  if (!daemon) return ConfigError(daemon.error().message);
  auto server = daemon::Server::Listen(*options);
  if (!server) {
    std::fprintf(stderr, "keywardd: %s\n", server.error().message.c_str());
    return 1;
  }
  std::fflush(stdout);  // before any fork: children must not write our buffers again
  auto ran = server->Run(**daemon);
  if (!ran) {
    std::fprintf(stderr, "keywardd: %s\n", ran.error().message.c_str());
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--foreground") {
      continue;
    } else if (arg == "--config") {
      if (!value(flags.config_path)) return Usage("--config needs a path");
    } else if (arg == "--write-config") {
      if (!value(flags.write_config)) return Usage("--write-config needs a path");
    } else if (arg == "--demo") {
      if (!value(flags.demo)) return Usage("--demo needs a folder");
    } else {
      return Usage("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (!flags.write_config.empty()) return WriteSample(flags.write_config);
  if (!flags.demo.empty()) {
    auto demo = daemon::SetUpDemo(flags.demo);
    if (!demo) return ConfigError(demo.error().message);
    std::fputs(demo->report.c_str(), stdout);
    std::fflush(stdout);
    return Serve(demo->config);
  }
  auto config = config::LoadConfig(flags.config_path, /*must_exist=*/true);
  if (!config) return ConfigError(config.error().message);
  return Serve(*config);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keywardd: %s\n", e.what());
    return 1;
  }
}
