// The store commands' own logic: --expires parsing, where the store and
// authorized_keys are, the refusals made before anything is written, and
// `keys` for sshd. Works as any user; never uses --account (which would
// drop root's privileges for the rest of the test binary).
#include "cli/store_commands.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace keyward::cli {
namespace {

namespace stdfs = std::filesystem;

std::int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm));
}

constexpr std::int64_t kNow = 1795258800;  // 2026-11-21T11:00:00Z

TEST(ParseExpiry, Forms) {
  auto t = ParseExpiry("2026-12-01", kNow);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, static_cast<std::uint64_t>(Utc(2026, 12, 1)));
  EXPECT_EQ(ParseExpiry("20261201", kNow).value_or(0), static_cast<std::uint64_t>(Utc(2026, 12, 1)));
  EXPECT_EQ(ParseExpiry("202612011530", kNow).value_or(0), static_cast<std::uint64_t>(Utc(2026, 12, 1, 15, 30)));
  EXPECT_EQ(ParseExpiry("20261201153045", kNow).value_or(0),
            static_cast<std::uint64_t>(Utc(2026, 12, 1, 15, 30, 45)));
  EXPECT_EQ(ParseExpiry("2028-02-29", kNow).value_or(0), static_cast<std::uint64_t>(Utc(2028, 2, 29)));
  EXPECT_EQ(ParseExpiry("99991231235959", kNow).value_or(0), static_cast<std::uint64_t>(Utc(9999, 12, 31, 23, 59, 59)));
  // Later the same day is in the future.
  EXPECT_EQ(ParseExpiry("202611211101", kNow).value_or(0), static_cast<std::uint64_t>(kNow + 60));
}

TEST(ParseExpiry, RefusesWhatIsNotADate) {
  for (std::string bad : {"", "tomorrow", "2026", "2026-12", "2026-12-1", "2026-1-01", "2026/12/01", "2026.12.01",
                          "2026-12-01T00:00", "2026-12-01 00:00", "20261201Z", "2026120115", "2026120115301",
                          "202612011530459", "+20261201", "-20261201", "２０２６１２０１", "2026-13-01", "2026-00-10",
                          "2026-12-00", "2026-12-32", "2027-02-29", "2100-02-29", "2026-11-31", "202612012460",
                          "202612012400", "202612011260", "20261201235960", "2026-12-01-", "0x20261201"}) {
    auto r = ParseExpiry(bad, kNow);
    EXPECT_FALSE(r) << "accepted \"" << bad << "\" as " << r.value_or(0);
    if (!r) { EXPECT_EQ(r.error().code, "bad_expiry") << bad; }
  }
}

TEST(ParseExpiry, RefusesThePast) {
  for (std::string past : {"2026-11-21", "2026-11-20", "202611211100", "20261121110000", "1999-12-31",
                           "1970-01-01", "19700101000001"}) {
    auto r = ParseExpiry(past, kNow);
    EXPECT_FALSE(r) << "accepted past \"" << past << "\"";
    if (!r) { EXPECT_EQ(r.error().code, "bad_expiry"); }
  }
  auto r = ParseExpiry("2026-11-20", kNow);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("past"), std::string::npos) << r.error().message;
}

class StoreCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    struct passwd* pw = getpwuid(geteuid());
    ASSERT_NE(pw, nullptr);
    user_ = pw->pw_name;
    home_ = pw->pw_dir;
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Every path under dir_ with its content: what "nothing written" compares.
  std::vector<std::string> Snapshot() const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(dir_)) {
      std::string entry = e.path().string();
      if (e.is_regular_file()) {
        std::ifstream in(e.path(), std::ios::binary);
        entry += "=" + std::string(std::istreambuf_iterator<char>(in), {});
      }
      out.push_back(entry);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  StoreOptions Where() const {
    StoreOptions o;
    o.config_path = config_;
    o.store_dir = dir_ + "/store";
    o.now = kNow;
    return o;
  }

  std::string dir_, user_, home_;
  std::string config_;
};

constexpr const char* kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ alice@example.com\n";

TEST_F(StoreCommandsTest, ResolveWithStoreDir) {
  config_ = WriteFile("keyward.conf", "{}");
  StoreOptions o = Where();
  auto ctx = ResolveStoreContext(o);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(ctx->store_dir, dir_ + "/store");
  EXPECT_EQ(ctx->authorized_keys, dir_ + "/store/authorized_keys");
  EXPECT_EQ(ctx->account.uid, geteuid());
  EXPECT_EQ(ctx->account.name, user_);
  EXPECT_EQ(ctx->now, kNow);
  EXPECT_FALSE(ctx->actor.empty());

  o.store_dir = dir_ + "/store///";
  o.authorized_keys = dir_ + "/ak";
  ctx = ResolveStoreContext(o);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->store_dir, dir_ + "/store");
  EXPECT_EQ(ctx->authorized_keys, dir_ + "/ak");
}

TEST_F(StoreCommandsTest, ResolveRelativeStoreDir) {
  config_ = WriteFile("keyward.conf", "{}");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  StoreOptions o = Where();
  o.store_dir = "rel/store";
  auto ctx = ResolveStoreContext(o);
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(ctx->store_dir, stdfs::canonical(dir_).string() + "/rel/store");
  EXPECT_EQ(ctx->authorized_keys, stdfs::canonical(dir_).string() + "/rel/store/authorized_keys");
}

TEST_F(StoreCommandsTest, ResolveFromTemplates) {
  config_ = WriteFile("keyward.conf", R"({"store": ")" + dir_ + R"(/%u/keys", "authorized_keys": "ak/%u%%"})");
  StoreOptions o;
  o.config_path = config_;
  auto ctx = ResolveStoreContext(o);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(ctx->store_dir, dir_ + "/" + user_ + "/keys");
  // A relative result is relative to the home folder, as in sshd.
  EXPECT_EQ(ctx->authorized_keys, home_ + (home_ == "/" ? "" : "/") + "ak/" + user_ + "%");

  config_ = WriteFile("default.conf", "{}");
  o.config_path = config_;
  ctx = ResolveStoreContext(o);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->store_dir, home_ + "/.ssh");
  EXPECT_EQ(ctx->authorized_keys, home_ + "/.ssh/authorized_keys");
}

TEST_F(StoreCommandsTest, ResolveRefusesABadOrMissingConfig) {
  StoreOptions o = Where();
  o.config_path = dir_ + "/missing.conf";
  EXPECT_FALSE(ResolveStoreContext(o)) << "an explicit --config that does not exist must be an error";
  o.config_path = WriteFile("bad.conf", R"({"stroe": "/x"})");
  auto r = ResolveStoreContext(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("stroe"), std::string::npos) << r.error().message;
  o.config_path = WriteFile("unknown.conf", "{}");
  o.account = "no-such-user-keyward";
  auto u = ResolveStoreContext(o);
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message.find("no-such-user-keyward"), std::string::npos) << u.error().message;
  o.account = "../root";
  EXPECT_FALSE(ResolveStoreContext(o));
}

TEST_F(StoreCommandsTest, AddRefusalsWriteNothing) {
  config_ = WriteFile("keyward.conf", "{}");
  std::string key = WriteFile("k.pub", kEd25519);
  ASSERT_EQ(RunInit(Where()).exit_code, 0);
  const auto before = Snapshot();
  struct Case {
    AddOptions add;
    std::string says;
  };
  auto base = [&] {
    AddOptions a;
    a.owner = "alice@example.com";
    a.device = "laptop";
    a.key_file = key;
    return a;
  };
  std::vector<Case> cases;
  {
    auto a = base();
    a.expires = "2027-01-01";
    a.days = 3;
    cases.push_back({a, "either --expires or --days"});
  }
  {
    auto a = base();
    a.days = -1;
    cases.push_back({a, "--days"});
  }
  {
    auto a = base();
    a.days = 36501;
    cases.push_back({a, "--days"});
  }
  {
    auto a = base();
    a.expires = "2026-11-20";
    cases.push_back({a, "past"});
  }
  {
    auto a = base();
    a.expires = "next week";
    cases.push_back({a, "YYYY-MM-DD"});
  }
  {
    auto a = base();
    a.command = "echo hi\nssh-ed25519 AAAA evil";
    cases.push_back({a, "one line"});
  }
  {
    auto a = base();
    a.command = "echo hi\rx";
    cases.push_back({a, "one line"});
  }
  {
    auto a = base();
    a.from = "10.0.0.0/8\\";
    cases.push_back({a, "backslash"});
  }
  {
    auto a = base();
    a.options = {"no-such-option"};
    cases.push_back({a, "no-such-option"});
  }
  {
    auto a = base();
    a.options = {"restrict ssh-ed25519"};
    cases.push_back({a, "blank"});
  }
  {
    auto a = base();
    a.owner = "alice";
    cases.push_back({a, "e-mail"});
  }
  {
    auto a = base();
    a.device = "../../etc";
    cases.push_back({a, "device"});
  }
  {
    auto a = base();
    a.key_file = dir_ + "/missing.pub";
    cases.push_back({a, "missing.pub"});
  }
  for (const Case& c : cases) {
    auto out = RunAdd(Where(), c.add);
    EXPECT_NE(out.exit_code, 0) << c.says;
    EXPECT_TRUE(out.out.empty()) << out.out;
    EXPECT_NE(out.err.find(c.says), std::string::npos) << "expected \"" << c.says << "\" in: " << out.err;
    EXPECT_EQ(Snapshot(), before) << "something was written for: " << out.err;
  }
  // And the good one goes in.
  auto a = base();
  a.days = 7;
  a.restrict = true;
  a.command = "echo \"hi\"";
  a.from = "10.0.0.0/8,!10.1.0.0/16";
  auto out = RunAdd(Where(), a);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("added alice@example.com+laptop+20261121+01.pub SHA256:"), std::string::npos) << out.out;
  std::ifstream in(dir_ + "/store/users/alice@example.com+laptop+20261121+01.pub");
  std::string line((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(line,
            "restrict,command=\"echo \\\"hi\\\"\",from=\"10.0.0.0/8,!10.1.0.0/16\",expiry-time=\"20261128110000Z\" "
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ alice@example.com\n");
}

TEST_F(StoreCommandsTest, CommandsOnAStoreThatIsNotInitialised) {
  config_ = WriteFile("keyward.conf", "{}");
  std::string key = WriteFile("k.pub", kEd25519);
  const auto before = Snapshot();
  AddOptions a;
  a.owner = "alice@example.com";
  a.device = "laptop";
  a.key_file = key;
  std::vector<CommandOutput> outs = {RunAdd(Where(), a), RunList(Where(), true, false),
                                     RunRevoke(Where(), {"alice@example.com", "laptop"}, false),
                                     RunRender(Where()), RunCheck(Where()), RunPrune(Where()),
                                     RunImport(Where(), key, "")};
  for (const auto& out : outs) {
    EXPECT_NE(out.exit_code, 0);
    EXPECT_NE(out.err.find("keyward init"), std::string::npos) << out.err;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreCommandsTest, BadSelectorIsRefusedBeforeAnythingIsOpened) {
  config_ = WriteFile("keyward.conf", "{}");
  ASSERT_EQ(RunInit(Where()).exit_code, 0);
  const auto before = Snapshot();
  for (std::vector<std::string> words : std::vector<std::vector<std::string>>{
           {"nosuch"}, {"../x"}, {"a", "b", "c"}, {"alice@example.com", "../x"}}) {
    auto out = RunRevoke(Where(), words, false);
    EXPECT_NE(out.exit_code, 0);
    EXPECT_FALSE(out.err.empty());
    auto back = RunRevoke(Where(), words, true);
    EXPECT_NE(back.exit_code, 0);
  }
  auto none = RunRevoke(Where(), {"alice@example.com", "laptop"}, false);
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("no active key matches"), std::string::npos) << none.err;
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreCommandsTest, KeysForAnUnknownOrInvalidUserPrintsNothing) {
  config_ = WriteFile("keyward.conf", "{}");
  StoreOptions o;
  o.config_path = config_;
  for (std::string user : std::vector<std::string>{"no-such-user-keyward", "", "../root", "Root", "a b", "x\ny",
                           std::string(100, 'a')}) {
    auto out = RunKeys(o, user, "");
    EXPECT_EQ(out.exit_code, 0) << user;
    EXPECT_EQ(out.out, "") << user;
    EXPECT_EQ(out.err, "") << user;
  }
}

TEST_F(StoreCommandsTest, KeysThroughTheConfiguredTemplate) {
  config_ = WriteFile("keyward.conf", R"({"store": ")" + dir_ + R"(/%u", "authorized_keys": ")" + dir_ +
                                          R"(/%u/authorized_keys"})");
  StoreOptions o;
  o.config_path = config_;
  // No store yet: the account is not managed by keyward.
  auto none = RunKeys(o, user_, "");
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "");
  ASSERT_EQ(RunInit(o).exit_code, 0);
  AddOptions a;
  a.owner = "alice@example.com";
  a.device = "laptop";
  a.key_file = WriteFile("k.pub", kEd25519);
  auto added = RunAdd(o, a);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(stdfs::exists(dir_ + "/" + user_ + "/users/alice@example.com+laptop+" +
                            store::TodayUtc(std::time(nullptr)) + "+01.pub"));
  auto all = RunKeys(o, user_, "");
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, kEd25519);
  auto one = RunKeys(o, user_, "SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560");
  EXPECT_EQ(one.out, kEd25519);
  auto other = RunKeys(o, user_, "SHA256:l6itGumSMcRBBAFteCgmjQBIXqLK/jFGUH3viHX1RmE");
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_EQ(other.out, "");
}

}  // namespace
}  // namespace keyward::cli
