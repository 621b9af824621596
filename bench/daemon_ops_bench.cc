// Where the time of a keywardd add_key + revoke_key goes (issue 4), piece
// by piece, on a store of 1,000 keys in a folder on the real disk (fsync
// on, as always):
//
//   BM_StoreAddRevoke       the store work of one pair, in this process:
//                           AddKeyWork then RevokeKeyWork (lock, key file,
//                           render of authorized_keys, indexes, audit log).
//   BM_AsUserNoop           RunAsUser of nothing: the child that every
//                           store operation runs in (fork, drop, answer).
//   BM_AsUserAddRevoke      the pair as keywardd does it: each half in its
//                           own RunAsUser child.
//   BM_AlertCommand         one alert (Alerts::Report: keywardd's audit log,
//                           then the command channel in the background)
//                           with /bin/true as the command, waited for.
//
// Run as any user (the account is the current one):
//   build/daemon_ops_bench --benchmark_min_time=3
// The store lives under $BENCH_DIR (default /var/tmp), removed at the end.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "daemon/alerts.h"
#include "daemon/as_user.h"
#include "daemon/background.h"
#include "daemon/notifier.h"
#include "daemon/store_ops.h"
#include "store/store.h"
#include "wire/base64.h"

namespace {

using namespace keyward;
namespace stdfs = std::filesystem;

constexpr int kKeys = 1000;

std::string RandomEd25519(std::mt19937_64& rng, const std::string& comment) {
  std::string blob("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
  for (int i = 0; i < 32; ++i) blob.push_back(static_cast<char>(rng() & 0xff));
  return "ssh-ed25519 " + wire::EncodeBase64(AsBytes(blob)) + " " + comment;
}

struct Fixture {
  stdfs::path root;
  store::StoreContext context;
  std::mt19937_64 rng{42};
  int serial = 0;

  Fixture() {
    const char* base = std::getenv("BENCH_DIR");
    std::string templ = std::string(base ? base : "/var/tmp") + "/kw-daemon-bench.XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    root = templ;
    store::Account account;
    account.name = "bench";
    account.uid = geteuid();
    account.gid = getegid();
    account.home = root.string();
    context.account = account;
    context.store_dir = (root / "store").string();
    context.authorized_keys = (root / "authorized_keys").string();
    context.actor = "bench";
    context.now = time(nullptr);
    if (!store::Store::Init(context)) std::abort();
    char date[16];
    std::time_t now = context.now;
    std::strftime(date, sizeof date, "%Y%m%d", std::gmtime(&now));
    for (int i = 0; i < kKeys; ++i) {
      char name[96];
      std::snprintf(name, sizeof name, "bench%04d@example.org+dev%04d+%s+01.pub", i, i, date);
      std::ofstream(root / "store" / "users" / name) << RandomEd25519(rng, "bench") << "\n";
    }
    auto opened = store::Store::Open(context);
    if (!opened || !opened->Render()) std::abort();
  }
  ~Fixture() {
    std::error_code ec;
    stdfs::remove_all(root, ec);
  }

  store::AddRequest NextAdd() {
    store::AddRequest add;
    add.owner = "pair@example.org";
    add.device = "pair" + std::to_string(++serial);
    add.key_text = RandomEd25519(rng, "pair");
    return add;
  }
};

Fixture& Shared() {
  static Fixture f;
  return f;
}

void Check(bool ok, benchmark::State& state, const char* what) {
  if (!ok) state.SkipWithError(what);
}

void BM_StoreAddRevoke(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    auto added = daemon::AddKeyWork(f.context, f.NextAdd());
    Check(added.has_value(), state, "add");
    if (!added) break;
    auto revoked = daemon::RevokeKeyWork(f.context, added->value("file", ""), false);
    Check(revoked.has_value(), state, "revoke");
    if (!revoked) break;
  }
}
BENCHMARK(BM_StoreAddRevoke)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AsUserNoop(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    auto r = daemon::RunAsUser(f.context.account, [] { return keyward::Result<nlohmann::json>(nlohmann::json()); });
    Check(r.has_value(), state, "noop");
  }
}
BENCHMARK(BM_AsUserNoop)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_AsUserAddRevoke(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    store::AddRequest add = f.NextAdd();
    store::StoreContext context = f.context;
    auto added = daemon::RunAsUser(context.account, [&] { return daemon::AddKeyWork(context, add); });
    Check(added.has_value(), state, "add");
    if (!added) break;
    std::string file = added->value("file", "");
    auto revoked = daemon::RunAsUser(context.account, [&] { return daemon::RevokeKeyWork(context, file, false); });
    Check(revoked.has_value(), state, "revoke");
    if (!revoked) break;
  }
}
BENCHMARK(BM_AsUserAddRevoke)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AlertCommand(benchmark::State& state) {
  Fixture& f = Shared();
  auto notifier = daemon::MakeCommandNotifier({"/bin/true"});
  auto alerts = daemon::Alerts::Open((f.root / "keywardd-audit.log").string(), notifier.get(), "admin");
  if (!alerts) {
    state.SkipWithError("alerts");
    return;
  }
  for (auto _ : state) {
    alerts->Report({"add", "bench", "laptop", "f.pub", "SHA256:x", "192.0.2.1", f.context.now, 0, {}, {}});
    while (daemon::RunningBackgroundJobs() != 0) {
      daemon::ReapBackgroundJobs();
      usleep(50);
    }
  }
}
BENCHMARK(BM_AlertCommand)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
