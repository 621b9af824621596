#include "daemon/demo.h"

#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "ca/ca_store.h"
#include "fs/safe_file.h"
#include "store/store.h"

namespace keyward::daemon {

namespace {

constexpr const char* kDemoAccounts[] = {"alice", "bob"};

Result<void> MakeFolder(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("mkdir_failed", "cannot create " + path + ": " + std::strerror(errno));
  }
  return {};
}

Result<std::string> SetUpAccount(const std::string& accounts, const std::string& name, const store::Account& me,
                                 std::int64_t now) {
  std::string folder = accounts + "/" + name;
  if (auto ok = MakeFolder(folder); !ok) return Fail(ok.error());
  auto fd = fs::OpenDirectory(folder, fs::Ownership{me.uid}, "the demo account's folder");
  if (!fd) return Fail(fd.error());
  auto email = fs::CreateFileAt(fd->get(), "email", name + "@example.org\n", 0600);
  if (!email && email.error().code != "exists") return Fail(email.error());
  store::StoreContext ctx;
  ctx.account = store::Account{name, me.uid, me.gid, folder};
  ctx.store_dir = folder;
  ctx.authorized_keys = folder + "/authorized_keys";
  ctx.actor = "keywardd --demo";
  ctx.now = now;
  auto init = store::Store::Init(ctx);
  if (!init) return Fail(init.error());
  return "  account " + name + ": " + folder + " (e-mail " + name + "@example.org)\n";
}

// A user CA in DIR/ca (Ed25519, no passphrase, so that keywardd can sign
// with it), made once and kept.
Result<std::string> SetUpCa(const std::string& ca_dir) {
  auto dir = ca::OpenCaDirectory(ca_dir, /*create=*/true);
  if (!dir) return Fail(dir.error());
  auto created = ca::CreateCaKey(dir->get(), key::CertType::kUser, ca::CaKeySpec{}, nullptr, "keyward-demo-user-ca");
  if (!created && created.error().code != "ca_exists") return Fail(created.error());
  return "  certificate authority: " + ca_dir + " (roles login for everyone, deploy for alice)\n";
}

// The roles the demo offers: "login" to every account (its own name as
// principal, a week at most), "deploy" to alice only (a fixed command, an
// hour at most), so that the page shows both kinds.
nlohmann::json DemoRoles() {
  return nlohmann::json::array({
      {{"name", "login"},
       {"principals", {"%u"}},
       {"max_validity", "7d"},
       {"extensions", {"permit-agent-forwarding", "permit-port-forwarding", "permit-pty"}},
       {"accounts", {"*"}}},
      {{"name", "deploy"},
       {"principals", {"deploy"}},
       {"max_validity", "1h"},
       {"force_command", "/usr/local/bin/deploy"},
       {"source_address", {"127.0.0.0/8", "::1/128"}},
       {"accounts", {"alice"}}},
  });
}

}  // namespace

Result<Demo> SetUpDemo(const std::string& dir_arg) {
  if (dir_arg.empty()) return Fail("usage", "--demo needs a folder");
  if (auto ok = MakeFolder(dir_arg); !ok) return Fail(ok.error());
  char resolved[PATH_MAX];
  if (realpath(dir_arg.c_str(), resolved) == nullptr) {
    return Fail("bad_path", "cannot resolve " + dir_arg + ": " + std::strerror(errno));
  }
  const std::string dir = resolved;
  auto me = store::CurrentAccount();
  if (!me) return Fail(me.error());
  // The same checks keywardd makes of any folder it keeps files in.
  auto top = fs::OpenDirectory(dir, fs::Ownership{me->uid}, "the demo folder");
  if (!top) return Fail(top.error());
  struct group* gr = getgrgid(me->gid);
  std::string group = gr != nullptr ? gr->gr_name : "";

  const std::string accounts = dir + "/accounts";
  if (auto ok = MakeFolder(accounts); !ok) return Fail(ok.error());
  Demo demo;
  demo.report = "keywardd demo in " + dir + "\n";
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const char* name : kDemoAccounts) {
    auto line = SetUpAccount(accounts, name, *me, now);
    if (!line) return Fail(line.error());
    demo.report += *line;
  }
  auto ca_line = SetUpCa(dir + "/ca");
  if (!ca_line) return Fail(ca_line.error());
  demo.report += *ca_line;

  nlohmann::json conf = {
      {"admin_user", me->name},
      {"web_user", me->name},
      {"group", group},
      {"socket", dir + "/keywardd.sock"},
      {"accounts", {{"source", "directory"}, {"path", accounts}}},
      {"codes", {{"channel", "console"}}},
      {"alerts", {{"channel", "console"}}},
      {"audit_log", dir + "/audit.log"},
      {"state_dir", dir + "/state"},
      // No KRL is published until one is built (keyward krl build --config
      // DIR/keyward.conf); from then on revoke_key rebuilds it.
      {"ca", {{"dir", dir + "/ca"}, {"krl", dir + "/keyward.krl"}, {"roles", DemoRoles()}}},
  };
  std::string text = conf.dump(2) + "\n";
  auto parsed = config::ParseConfig(text);
  if (!parsed) return Fail(parsed.error());
  fs::FileMode mode;
  mode.mode = 0600;
  if (auto ok = fs::AtomicReplaceAt(top->get(), "keyward.conf", text, mode); !ok) return Fail(ok.error());
  demo.config = std::move(*parsed);
  demo.config_path = dir + "/keyward.conf";
  demo.report += "  configuration: " + demo.config_path + "\n" +
                 "  socket: " + demo.config.socket + " (served to root and " + me->name + ")\n" +
                 "  codes and alerts are printed here (console channel)\n" +
                 "  audit log: " + demo.config.audit_log + "\n";
  return demo;
}

}  // namespace keyward::daemon
