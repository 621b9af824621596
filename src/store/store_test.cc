// The per-key store end to end, in-process, in a temporary "home" folder:
// init, add, list, revoke, reinstate, render, check, import, prune and the
// AuthorizedKeysCommand lookup, with an injected clock. Runs as any user:
// the account is the current user, whose uid owns everything created here
// (root's folders are accepted by the ownership checks as well).
#include "store/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "key/fingerprint.h"
#include "key/policy.h"
#include "store/account.h"
#include "store/audit_log.h"
#include "store/keys_index.h"
#include "wire/base64.h"
#include "wire/writer.h"

namespace keyward::store {
namespace {

namespace stdfs = std::filesystem;

constexpr std::int64_t kNow = 1795258800;  // 2026-11-21T11:00:00Z
constexpr const char* kToday = "20261121";

constexpr const char* kRsa1024 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDm5D+pvzP0ApfdEEmnfuFwKHVOjEpwZTK0FgTNqFIEOUwjFkszN6IMslkVMkxwiDqm82cdJAbAAJ"
    "YMg7EIvsUBqmn3hdXXpuFRIbpuQTXVo52A3A+LCkeaUgAvbDZz83VzMrFsdZzAIMSSNQuml3Mz2tByZYYWSv5mDff6Epciew== "
    "rsa1024@example.com";
constexpr const char* kRsa2048 =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClolzzgUqv0u5yD2OwBbFQzLX4UWwk+G0eTRpXa78BDoMFy7tGw9boZ+AnHW/1h5bU6zSSUsuJ0t"
    "ppCjUZkwBZwGqKJciIZQQcnt242nCGDb4PwVOspZagdvDifm+Ftgc0sd7yis0N/ft+oe/PDHHKbo2XNRA0bTo2tEZYKZe5HiuMUI/ILp6ymGm43oF"
    "NudSme1Nc4/kUXTY9UnXSUtA6vXymx1LX40YUfgstUBkOR0HUcFJNLeyMgkwz4jUcnKutN6Z36NMdMRDcJiFNKP2wKPgU6C3XgECFtxGRwjfmRsPpT"
    "m38lcvNmUNfZgV9cGDVGd0ua7a/Zc5OjSg4wtYf rsa2048@example.com";
constexpr const char* kDsa =
    "ssh-dss AAAAB3NzaC1kc3MAAACBAKp7OP/5S95GeYAQMGa09z62qGZ+QdHlPMwj+adiVtccuME1cFFyfYJggJ+Pmsfp7ZuWOy/6rG7rDd6OP9Zu"
    "s78hfTpqBKoLSc4cjIBBZcgPrpgT8PzrGP8daGqwzRoTozWvJcJ1uLwmW4q4+LhS8p+QQFMQ+d+HY2bD2EAfdNZ1AAAAFQDPhemut9j3VspNQ3oC"
    "nawIzXmlaQAAAIEAlMF9tntsfwzlEgbvSakOTNTvEnGK3Pq6vhgaU2LJc5zu3l28OiduwJdYJ8ly+StV3XxNaffqy733ydTBEVV4eHqLFs4q9WAd"
    "mMM0sqKDbb5Sqm2oBwTlFrFOTJGeIdi9hZImbXI0MMf1WVp/cd1NHymfYrLhA8OhmnCJNoG2En8AAACAGtrOuUmQfWL7pKqvw0+rl3weJwCaJwqA"
    "4n+WmGI1smrLaUANqsx9Rj8svrFeuJaJoYUeaOJojsQQGpP/6gxSo1H6Q9DEL+yQfHIMQg1ph6Bm7bgOsvEV/1Xs5sjb0bttajpH1tIXHvUsl5nN"
    "ZaHxN9IYRD52nRbXXm6p7LrNlI0= dsa@example.com";
constexpr const char* kEcdsa =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAZ3TdU2HTdM2qFBO/FSYDBHYLi3G/o6F3/xcjmEH"
    "lF7Sis3SuCA02aO4/LpzW/DoGBlt7Nb887bdoH1L5GmWDE= ecdsa@example.com";
constexpr const char* kCert =
    "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgOtFRnMigkGl";

// Ed25519 keys: any 32 bytes make a key the parser accepts.
std::string Ed25519Base64(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::array<std::uint8_t, 32> raw{};
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  wire::Writer w;
  w.String(std::string_view("ssh-ed25519"));
  w.String(ByteView(raw));
  return wire::EncodeBase64(w.bytes());
}
std::string Ed25519(std::uint64_t seed, const std::string& comment = "") {
  std::string line = "ssh-ed25519 " + Ed25519Base64(seed);
  if (!comment.empty()) line += " " + comment;
  return line;
}
std::string FingerprintOf(const std::string& line) {
  auto parsed = authkeys::ParseAuthorizedKeysLine(line);
  EXPECT_TRUE(parsed && parsed->entry) << line;
  return key::Fingerprint(parsed->entry->key);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    struct passwd* pw = getpwuid(geteuid());
    ASSERT_NE(pw, nullptr);
    ctx_.account = Account{pw->pw_name, geteuid(), getegid(), home_};
    ctx_.store_dir = home_ + "/.ssh";
    ctx_.authorized_keys = home_ + "/.ssh/authorized_keys";
    ctx_.actor = "tester";
    ctx_.now = kNow;
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(home_, ec);
  }

  std::string S(const std::string& rel) const { return ctx_.store_dir + "/" + rel; }

  Store InitAndOpen() {
    auto report = Store::Init(ctx_);
    EXPECT_TRUE(report) << report.error().message;
    return OpenAt(kNow);
  }
  Store OpenAt(std::int64_t now) {
    StoreContext c = ctx_;
    c.now = now;
    auto st = Store::Open(c);
    EXPECT_TRUE(st) << st.error().message;
    if (!st) std::abort();
    return std::move(*st);
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const std::string& path, const std::string& content, mode_t mode = 0644) {
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
  }
  std::vector<std::string> Names(const std::string& rel) const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::directory_iterator(S(rel))) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Every path under the home folder with its content and mode.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(home_)) {
      struct stat st {};
      lstat(e.path().c_str(), &st);
      std::string v = std::to_string(st.st_mode) + ":";
      if (e.is_regular_file() && !e.is_symlink()) v += Read(e.path());
      out[e.path().string()] = v;
    }
    return out;
  }
  std::string Readme() const { return Read(S("!!README!!")); }

  AddRequest Req(const std::string& key_text, const std::string& owner = "alice@example.com",
                 const std::string& device = "laptop") {
    AddRequest r;
    r.owner = owner;
    r.device = device;
    r.key_text = key_text;
    return r;
  }

  std::vector<nlohmann::json> Audit() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(Read(S("audit.log")));
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::string home_;
  StoreContext ctx_;
};

TEST_F(StoreTest, OpenBeforeInitSaysToInit) {
  auto st = Store::Open(ctx_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("keyward init"), std::string::npos) << st.error().message;
  EXPECT_FALSE(stdfs::exists(ctx_.store_dir)) << "Open created something";
  // A store folder without users/ is not initialised either.
  ASSERT_EQ(mkdir(ctx_.store_dir.c_str(), 0700), 0);
  auto half = Store::Open(ctx_);
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().message.find("keyward init"), std::string::npos) << half.error().message;
}

TEST_F(StoreTest, InitCreatesTheLayoutOnce) {
  auto report = Store::Init(ctx_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_NE(report->find("created"), std::string::npos);
  EXPECT_TRUE(stdfs::is_directory(S("users")));
  EXPECT_TRUE(stdfs::is_directory(S("revoked")));
  std::string readme = Readme();
  ASSERT_FALSE(readme.empty());
  std::istringstream lines(readme);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line[0], '#') << "README line: " << line;
  struct stat st {};
  ASSERT_EQ(stat(ctx_.store_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 022, 0u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_FALSE(stdfs::exists(ctx_.authorized_keys)) << "init must not write authorized_keys";

  auto before = Snapshot();
  auto again = Store::Init(ctx_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE(again->find("ready"), std::string::npos) << *again;
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, InitLeavesAnExistingAuthorizedKeysAndCountsItsKeys) {
  ASSERT_EQ(mkdir(ctx_.store_dir.c_str(), 0700), 0);
  std::string old = "# mine\n" + Ed25519(1, "a@example.com") + "\n" + Ed25519(2, "b") + "\nnot a key\n";
  Write(ctx_.authorized_keys, old, 0600);
  auto report = Store::Init(ctx_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_NE(report->find("holds 2 keys"), std::string::npos) << *report;
  EXPECT_NE(report->find("keyward import"), std::string::npos) << *report;
  EXPECT_EQ(Read(ctx_.authorized_keys), old);
}

TEST_F(StoreTest, AddWritesOneCanonicalFileRendersAndLogs) {
  Store st = InitAndOpen();
  std::string key = Ed25519(1, "alice@example.com");
  auto change = st.Add(Req(key + "\n"));
  ASSERT_TRUE(change) << change.error().message;
  std::string file = std::string("alice@example.com+laptop+") + kToday + "+01.pub";
  ASSERT_EQ(change->files, std::vector<std::string>{file});
  EXPECT_EQ(change->fingerprints, std::vector<std::string>{FingerprintOf(key)});
  EXPECT_EQ(Names("users"), std::vector<std::string>{file});
  EXPECT_EQ(Read(S("users/" + file)), key + "\n");
  EXPECT_TRUE(change->render.changed);
  EXPECT_EQ(change->render.keys, 1u);
  EXPECT_EQ(Read(ctx_.authorized_keys), Readme() + key + "\n");
  struct stat st_ak {};
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &st_ak), 0);
  EXPECT_EQ(st_ak.st_mode & 077, 0u) << "a new authorized_keys is private";

  auto audit = Audit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"], "add");
  EXPECT_EQ(audit[0]["file"], file);
  EXPECT_EQ(audit[0]["fingerprint"], FingerprintOf(key));
  EXPECT_EQ(audit[0]["who"], "tester");
  EXPECT_EQ(audit[0]["account"], ctx_.account.name);
  EXPECT_EQ(audit[0]["time"], "2026-11-21T11:00:00Z");
}

TEST_F(StoreTest, CanonicalContent) {
  Store st = InitAndOpen();
  // Blanks, tabs, CRLF, comment lines around the key, control characters in
  // the comment: the file holds one canonical line.
  std::string b64 = Ed25519Base64(7);
  auto change = st.Add(Req("# my laptop key\r\n\n  ssh-ed25519\t" + b64 + "   alice  \x01 laptop\t\r\n# end\n"));
  ASSERT_TRUE(change) << change.error().message;
  std::string stored = Read(S("users/" + change->files[0]));
  EXPECT_EQ(stored, "ssh-ed25519 " + b64 + " alice    laptop\n");
  EXPECT_EQ(stored.find('\r'), std::string::npos);
  EXPECT_EQ(stored.find('\x01'), std::string::npos);
}

TEST_F(StoreTest, OptionsSmuggledInACommentStayAComment) {
  Store st = InitAndOpen();
  std::string b64 = Ed25519Base64(8);
  auto change = st.Add(Req("ssh-ed25519 " + b64 + " x command=\"/bin/evil\",from=\"*\"\n"));
  ASSERT_TRUE(change) << change.error().message;
  std::string stored = Read(S("users/" + change->files[0]));
  EXPECT_EQ(stored, "ssh-ed25519 " + b64 + " x command=\"/bin/evil\",from=\"*\"\n");
  auto parsed = authkeys::ParseAuthorizedKeysLine(stored.substr(0, stored.size() - 1));
  ASSERT_TRUE(parsed && parsed->entry);
  EXPECT_EQ(parsed->entry->options, authkeys::Options{}) << "the comment became options";
  // The rendered line starts with the key type: no options at all.
  std::string ak = Read(ctx_.authorized_keys);
  EXPECT_NE(ak.find("\nssh-ed25519 " + b64 + " x command="), std::string::npos) << ak;
}

TEST_F(StoreTest, AddWithOptionsAndExpiry) {
  Store st = InitAndOpen();
  AddRequest r = Req(Ed25519(3, "bob@example.com"), "bob@example.com", "phone");
  r.options = {"restrict", "command=\"echo \\\"hi\\\"\"", "from=\"10.0.0.0/8\"", "permitopen=\"localhost:80\""};
  r.expires = static_cast<std::uint64_t>(kNow + 3600);
  auto change = st.Add(r);
  ASSERT_TRUE(change) << change.error().message;
  std::string stored = Read(S("users/" + change->files[0]));
  EXPECT_EQ(stored, "restrict,command=\"echo \\\"hi\\\"\",from=\"10.0.0.0/8\",permitopen=\"localhost:80\","
                    "expiry-time=\"20261121120000Z\" " +
                        Ed25519(3, "bob@example.com") + "\n");
  auto parsed = authkeys::ParseAuthorizedKeysLine(stored.substr(0, stored.size() - 1));
  ASSERT_TRUE(parsed && parsed->entry);
  EXPECT_TRUE(parsed->entry->options.restricted);
  EXPECT_EQ(parsed->entry->options.force_command, "echo \"hi\"");
  EXPECT_EQ(parsed->entry->options.expiry_time, static_cast<std::uint64_t>(kNow + 3600));

  // Options that do not parse, or with a blank outside quotes, are refused.
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"bogus"}, {"command=unquoted"}, {"restrict ssh-ed25519"}, {"command=\"a\nb\""}, {"from=\"x"}}) {
    AddRequest b = Req(Ed25519(4));
    b.options = bad;
    auto before = Snapshot();
    auto refused = st.Add(b);
    EXPECT_FALSE(refused) << bad[0];
    EXPECT_EQ(Snapshot(), before) << bad[0];
  }
}

TEST_F(StoreTest, RefusalsWriteNothing) {
  Store st = InitAndOpen();
  ASSERT_TRUE(st.Add(Req(Ed25519(1, "a"))));
  const auto before = Snapshot();
  struct Case {
    AddRequest request;
    std::string code;
    std::string says;
  };
  std::vector<Case> cases = {
      {Req(Ed25519(1, "again")), "duplicate_key", "already on the account"},
      {Req(Ed25519(1, "again"), "other@example.com", "other"), "duplicate_key", "already"},
      {Req(kRsa1024), "weak_key", "2048"},
      {Req(kDsa), "weak_key", "DSA"},
      {Req(Ed25519(2) + "\n" + Ed25519(3) + "\n"), "several_keys", "holds 2 keys"},
      {Req(Ed25519(2) + "\r" + Ed25519(3)), "bad_key_file", "carriage return"},
      {Req(Ed25519(2) + " comment\rcommand=\"x\""), "bad_key_file", "carriage return"},
      {Req(Ed25519(2) + "\ncommand=\"x\""), "several_keys", "holds 2 keys"},
      {Req(std::string("ssh-ed25519 ") + Ed25519Base64(2) + std::string(" a\0b", 4)), "nul_byte", "NUL"},
      {Req("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"),
       "private_key", "private key"},
      {Req("command=\"/bin/sh\" " + Ed25519(2)), "options_in_key", "--restrict"},
      {Req("restrict " + Ed25519(2)), "options_in_key", "options"},
      {Req(""), "no_key", "no public key"},
      {Req("# only a comment\n\n"), "no_key", "no public key"},
      {Req("ssh-ed25519 AAAA"), "", ""},
      {Req("not a key at all"), "", ""},
      {Req(Ed25519(2), "alice", "laptop"), "bad_owner", "e-mail"},
      {Req(Ed25519(2), "alice@example.com", "lap/top"), "bad_device", "/"},
      {Req(Ed25519(2), "alice@example.com", ".."), "bad_device", ""},
      {Req(Ed25519(2), "alice@example.com", "../../etc"), "bad_device", ""},
      {Req(Ed25519(2), "alice@example.com", ""), "bad_device", ""},
      {Req(Ed25519(2), "alice@example.com+x", "laptop"), "bad_owner", ""},
  };
  for (const Case& c : cases) {
    auto r = st.Add(c.request);
    ASSERT_FALSE(r) << "accepted: " << c.request.key_text << " / " << c.request.owner << " / " << c.request.device;
    if (!c.code.empty()) {
      EXPECT_EQ(r.error().code, c.code) << r.error().message;
    }
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << "expected \"" << c.says << "\" in: " << r.error().message;
    EXPECT_EQ(Snapshot(), before) << "written despite: " << r.error().message;
  }
}

TEST_F(StoreTest, PolicyAcceptsStrongKeysAndFollowsTheConfiguration) {
  Store st = InitAndOpen();
  EXPECT_TRUE(st.Add(Req(kRsa2048, "a@example.com", "rsa")));
  EXPECT_TRUE(st.Add(Req(kEcdsa, "a@example.com", "ecdsa")));
  auto cert = st.Add(Req(kCert));
  EXPECT_FALSE(cert) << "a truncated certificate was accepted";

  // A policy that allows DSA and 1024-bit RSA lets them in.
  ctx_.policy.allowed.insert(key::Algorithm::kDsa);
  ctx_.policy.min_rsa_bits = 1024;
  Store lax = OpenAt(kNow);
  EXPECT_TRUE(lax.Add(Req(kDsa, "a@example.com", "old")));
  EXPECT_TRUE(lax.Add(Req(kRsa1024, "a@example.com", "older")));
  EXPECT_EQ(lax.Render()->keys, 4u);
  // A stricter policy later leaves them out of the render, with a reason.
  ctx_.policy = key::KeyPolicy{};
  Store strict = OpenAt(kNow);
  auto r = strict.Render();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->keys, 2u);
  EXPECT_EQ(r->skipped.size(), 2u);
  EXPECT_EQ(Read(ctx_.authorized_keys).find("ssh-dss"), std::string::npos);
  auto keys = strict.KeysForSshd("");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->find("ssh-dss"), std::string::npos);
}

TEST_F(StoreTest, SerialsAreUniqueAcrossUsersAndRevoked) {
  Store st = InitAndOpen();
  auto a = st.Add(Req(Ed25519(1)));
  auto b = st.Add(Req(Ed25519(2)));
  ASSERT_TRUE(a && b);
  std::string prefix = std::string("alice@example.com+laptop+") + kToday + "+";
  EXPECT_EQ(a->files[0], prefix + "01.pub");
  EXPECT_EQ(b->files[0], prefix + "02.pub");
  ASSERT_TRUE(st.Revoke({prefix + "01.pub", "", "", ""}));
  auto c = st.Add(Req(Ed25519(3)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->files[0], prefix + "03.pub") << "a serial still used in revoked/ was reused";
  // Another day starts again at 01.
  Store tomorrow = OpenAt(kNow + 86400);
  auto d = tomorrow.Add(Req(Ed25519(4)));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->files[0], "alice@example.com+laptop+20261122+01.pub");
}

TEST_F(StoreTest, RevokeAndReinstate) {
  Store st = InitAndOpen();
  std::string k1 = Ed25519(1, "one"), k2 = Ed25519(2, "two"), k3 = Ed25519(3, "three");
  auto a = st.Add(Req(k1));
  auto b = st.Add(Req(k2, "alice@example.com", "phone"));
  auto c = st.Add(Req(k3, "bob@example.com", "laptop"));
  ASSERT_TRUE(a && b && c);

  // By file name.
  auto r1 = st.Revoke(*ParseSelector({a->files[0]}));
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(r1->files, a->files);
  EXPECT_TRUE(stdfs::exists(S("revoked/" + a->files[0])));
  EXPECT_FALSE(stdfs::exists(S("users/" + a->files[0])));
  EXPECT_EQ(Read(ctx_.authorized_keys).find(Ed25519Base64(1)), std::string::npos);
  // A revoked key cannot be added again; the message names reinstate.
  auto again = st.Add(Req(k1));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "key_revoked");
  EXPECT_NE(again.error().message.find("keyward reinstate " + a->files[0]), std::string::npos)
      << again.error().message;
  // Revoking it twice: nothing matches among the active keys.
  auto twice = st.Revoke(*ParseSelector({a->files[0]}));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, "no_match");
  EXPECT_NE(twice.error().message.find("no active key matches"), std::string::npos);

  // By fingerprint (SHA256 and MD5).
  auto r2 = st.Revoke(*ParseSelector({FingerprintOf(k2)}));
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->files, b->files);
  auto k3_parsed = authkeys::ParseAuthorizedKeysLine(k3);
  auto r3 = st.Revoke(*ParseSelector({key::Fingerprint(k3_parsed->entry->key, key::FingerprintHash::kMd5)}));
  ASSERT_TRUE(r3) << r3.error().message;
  EXPECT_EQ(r3->files, c->files);
  EXPECT_EQ(Read(ctx_.authorized_keys), Readme());
  EXPECT_EQ(Names("users"), std::vector<std::string>{});

  // Reinstate by owner and device.
  auto back = st.Reinstate(*ParseSelector({"bob@example.com", "laptop"}));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->files, c->files);
  EXPECT_EQ(Read(ctx_.authorized_keys), Readme() + k3 + "\n");
  auto unknown = st.Reinstate(*ParseSelector({"carol@example.com", "laptop"}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no revoked key matches"), std::string::npos);

  auto log = Audit();
  std::vector<std::string> actions;
  for (const auto& j : log) actions.push_back(j["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"add", "add", "add", "revoke", "revoke", "revoke", "reinstate"}));
}

// Changes read keys.index and revoked.index instead of every key file while
// those describe their folders; files added or removed behind keyward's back
// send a change the slow way. Either way the result is a full render's.
TEST_F(StoreTest, ChangesThroughTheIndexesAgreeWithAFullRender) {
  Store st = InitAndOpen();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(st.Add(Req(Ed25519(100 + static_cast<std::uint64_t>(i)), "alice@example.com", "d" + std::to_string(i))));
  }
  auto consistent = [&] {
    auto c = st.Check();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(c->matches) << c->diff;
  };
  consistent();
  ASSERT_TRUE(stdfs::exists(S("keys.index")));
  auto revoked = st.Revoke(*ParseSelector({"alice@example.com", "d3"}));
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_EQ(revoked->render.keys, 19u);
  consistent();
  ASSERT_TRUE(stdfs::exists(S("revoked.index")));
  EXPECT_NE(Read(S("revoked.index")).find(revoked->files[0]), std::string::npos);

  // Duplicates are found through the indexes, active and revoked.
  auto dup = st.Add(Req(Ed25519(101), "alice@example.com", "other"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "duplicate_key");
  auto again = st.Add(Req(Ed25519(103), "alice@example.com", "other"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "key_revoked");

  // A key file copied in by hand: users/ no longer matches keys.index; the
  // next change sees and renders it.
  Write(S("users/bob@example.com+hand+20261121+01.pub"), Ed25519(500) + "\n");
  auto added = st.Add(Req(Ed25519(501), "bob@example.com", "laptop"));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->render.keys, 21u);
  EXPECT_NE(Read(ctx_.authorized_keys).find(Ed25519Base64(500)), std::string::npos);
  consistent();
  // One copied in as a second file of an active key: the add of that key is
  // refused even though the index does not know the copy.
  Write(S("users/carol@example.com+copy+20261121+01.pub"), Ed25519(600) + "\n");
  auto copy = st.Add(Req(Ed25519(600), "carol@example.com", "laptop"));
  ASSERT_FALSE(copy);
  EXPECT_EQ(copy.error().code, "duplicate_key");

  // A key file removed by hand, and a revoked one: both noticed.
  ASSERT_TRUE(stdfs::remove(S("users/" + added->files[0])));
  ASSERT_TRUE(stdfs::remove(S("revoked/" + revoked->files[0])));
  auto readd = st.Add(Req(Ed25519(103), "alice@example.com", "back"));
  ASSERT_TRUE(readd) << readd.error().message;
  EXPECT_EQ(Read(ctx_.authorized_keys).find(Ed25519Base64(501)), std::string::npos);
  consistent();
  // A hand change in the same tick of the clock as keyward's last one leaves
  // users/ with the mtime the index recorded (made so here): the change
  // starts from the index, but its render lists users/ and goes the slow way.
  {
    struct stat before {};
    ASSERT_EQ(stat(S("users").c_str(), &before), 0);
    ASSERT_TRUE(stdfs::remove(S("users/" + readd->files[0])));
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, S("users").c_str(), times, 0), 0);
    auto next = st.Add(Req(Ed25519(502), "bob@example.com", "tablet"));
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(Read(ctx_.authorized_keys).find(Ed25519Base64(103)), std::string::npos)
        << "the key removed by hand is not rendered from the stale index";
    EXPECT_NE(Read(ctx_.authorized_keys).find(Ed25519Base64(502)), std::string::npos);
    consistent();
  }
  // The index records the policy its lines were checked against; under
  // another policy every line is checked again, and one that breaks it (here
  // in a forged record: the index is trusted only as far as the key files
  // are, being in the same store with the same owner) is not rendered.
  std::string index = Read(S("keys.index"));
  EXPECT_NE(index.find(" " + key::PolicyTag(ctx_.policy) + "\n"), std::string::npos) << "the tag is in the header";
  std::size_t at = index.find(Ed25519(110));
  ASSERT_NE(at, std::string::npos);
  index.replace(at, Ed25519(110).size(), std::string(kDsa).substr(0, Ed25519(110).size()));
  Write(S("keys.index"), index);
  StoreContext stricter = ctx_;
  stricter.policy.min_rsa_bits = 3072;
  auto reopened = Store::Open(stricter);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto after_forgery = reopened->Revoke(*ParseSelector({"alice@example.com", "d0"}));
  ASSERT_TRUE(after_forgery) << after_forgery.error().message;
  EXPECT_EQ(Read(ctx_.authorized_keys).find("ssh-dss"), std::string::npos);
  EXPECT_NE(Read(S("keys.index")).find(" " + key::PolicyTag(stricter.policy) + "\n"), std::string::npos)
      << "the next render may trust the lines again";
  auto c = reopened->Check();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->matches) << c->diff;
}

// The indexes are caches rewritten in place: a change makes no new inode
// for them (only authorized_keys, which sshd reads without a lock, is
// replaced by rename).
TEST_F(StoreTest, AChangeRewritesTheIndexesInPlace) {
  Store st = InitAndOpen();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(st.Add(Req(Ed25519(800 + static_cast<std::uint64_t>(i)), "erin@example.com", "d" + std::to_string(i))));
  }
  ASSERT_TRUE(st.Revoke(*ParseSelector({"erin@example.com", "d0"})));
  struct stat index_before {}, revoked_before {}, ak_before {};
  ASSERT_EQ(stat(S("keys.index").c_str(), &index_before), 0);
  ASSERT_EQ(stat(S("revoked.index").c_str(), &revoked_before), 0);
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &ak_before), 0);
  ASSERT_TRUE(st.Add(Req(Ed25519(810), "erin@example.com", "d10")));
  struct stat ak_after {};
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &ak_after), 0);
  // (The new file exists before the old one goes, so their numbers differ;
  // after two changes the first number may come back.)
  EXPECT_NE(ak_after.st_ino, ak_before.st_ino) << "authorized_keys is replaced";
  ASSERT_TRUE(st.Revoke(*ParseSelector({"erin@example.com", "d1"})));
  struct stat index_after {}, revoked_after {};
  ASSERT_EQ(stat(S("keys.index").c_str(), &index_after), 0);
  ASSERT_EQ(stat(S("revoked.index").c_str(), &revoked_after), 0);
  EXPECT_EQ(index_after.st_ino, index_before.st_ino);
  EXPECT_EQ(revoked_after.st_ino, revoked_before.st_ino);
  auto c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->matches) << c->diff;
  // A torn index (one byte of a record changed, as a crash in the middle of
  // a rewrite can leave) is not trusted: the next change goes the slow way
  // and renders from the key files.
  std::string index = Read(S("keys.index"));
  std::size_t at = index.find(Ed25519Base64(810));
  ASSERT_NE(at, std::string::npos);
  index[at + 20] = index[at + 20] == 'A' ? 'B' : 'A';
  Write(S("keys.index"), index);
  ASSERT_TRUE(st.Add(Req(Ed25519(811), "erin@example.com", "d11")));
  std::string ak = Read(ctx_.authorized_keys);
  EXPECT_NE(ak.find(Ed25519Base64(810)), std::string::npos) << "the file's key, not the torn record's";
  c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->matches) << c->diff;
}

TEST_F(StoreTest, RevokeByOwnerAndDeviceTakesEveryMatchingKey) {
  Store st = InitAndOpen();
  ASSERT_TRUE(st.Add(Req(Ed25519(1))));
  ASSERT_TRUE(st.Add(Req(Ed25519(2))));
  ASSERT_TRUE(st.Add(Req(Ed25519(3), "alice@example.com", "phone")));
  auto r = st.Revoke(*ParseSelector({"alice@example.com+laptop"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->files.size(), 2u);
  EXPECT_EQ(Names("users").size(), 1u);
  // Reinstating is one key at a time.
  auto both = st.Reinstate(*ParseSelector({"alice@example.com", "laptop"}));
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, "ambiguous");
  ASSERT_TRUE(st.Reinstate(*ParseSelector({r->files[1]})));
}

TEST_F(StoreTest, ReinstateRefusesAKeyThatIsActiveAgainOrNowTooWeak) {
  Store st = InitAndOpen();
  auto a = st.Add(Req(Ed25519(1)));
  ASSERT_TRUE(a);
  ASSERT_TRUE(st.Revoke(*ParseSelector({a->files[0]})));
  // The same key put back into users/ by hand under another name.
  std::string by_hand = std::string("alice@example.com+desk+") + kToday + "+01.pub";
  Write(S("users/" + by_hand), Ed25519(1) + "\n");
  auto dup = st.Reinstate(*ParseSelector({a->files[0]}));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "duplicate_key");
  EXPECT_TRUE(stdfs::exists(S("revoked/" + a->files[0])));

  // A revoked DSA key (from a laxer time) cannot come back.
  std::string dsa_file = std::string("old@example.com+box+") + kToday + "+01.pub";
  Write(S("revoked/" + dsa_file), std::string(kDsa) + "\n");
  auto weak = st.Reinstate(*ParseSelector({dsa_file}));
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, "weak_key");
  EXPECT_TRUE(stdfs::exists(S("revoked/" + dsa_file)));
}

TEST_F(StoreTest, RenderIsInByteOrderAndLeavesOutBadFiles) {
  Store st = InitAndOpen();
  // Written by hand, in an order that differs from byte order.
  std::map<std::string, std::string> files = {
      {std::string("bob@example.com+laptop+") + kToday + "+01.pub", Ed25519(1, "bob")},
      {std::string("Zed@example.com+laptop+") + kToday + "+01.pub", Ed25519(2, "zed")},
      {std::string("alice@example.com+laptop+") + kToday + "+01.pub", Ed25519(3, "alice")},
      {std::string("alice@example.com+Laptop+") + kToday + "+01.pub", Ed25519(4, "alice2")},
  };
  for (const auto& [name, line] : files) Write(S("users/" + name), line + "\n");
  // And files that must be left out.
  Write(S("users/notes.txt"), Ed25519(5, "stray name") + "\n");
  Write(S("users/") + "carol@example.com+laptop+" + kToday + "+01.pub", "garbage\n");
  Write(S("users/") + "dave@example.com+laptop+" + kToday + "+01.pub", Ed25519(1, "bob's key again") + "\n");
  Write(S("users/") + "erin@example.com+laptop+" + kToday + "+01.pub", Ed25519(6) + "\n" + Ed25519(7) + "\n");
  Write(S("users/") + "frank@example.com+laptop+" + kToday + "+01.pub", std::string(kDsa) + "\n");
  Write(S("users/") + "gina@example.com+laptop+" + kToday + "+01.pub", Ed25519(8) + "\n", 0666);
  Write(S("users/") + "hank@example.com+laptop+" + kToday + "+01.pub", "");
  ASSERT_EQ(symlink("/etc/passwd", S(std::string("users/ivan@example.com+laptop+") + kToday + "+01.pub").c_str()),
            0);
  ASSERT_EQ(mkfifo(S(std::string("users/jack@example.com+laptop+") + kToday + "+01.pub").c_str(), 0644), 0);
  Write(S("users/.alice@example.com+laptop+20261121+09.pub.keyward-0123456789abcdef"), Ed25519(9) + "\n");

  auto r = st.Render();
  ASSERT_TRUE(r) << r.error().message;
  std::string want = Readme();
  for (const auto& [name, line] : files) want += line + "\n";  // std::map: byte order
  EXPECT_EQ(Read(ctx_.authorized_keys), want);
  EXPECT_EQ(r->keys, 4u);
  std::set<std::string> skipped;
  for (const auto& s : r->skipped) {
    skipped.insert(s.file.substr(0, s.file.find('@')));
    EXPECT_FALSE(s.reason.empty()) << s.file;
  }
  EXPECT_EQ(skipped, (std::set<std::string>{"notes.txt", "carol", "dave", "erin", "frank", "gina", "hank", "ivan",
                                            "jack"}));
  // The rendered file is exactly what check expects.
  auto c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->matches) << c->diff;
}

TEST_F(StoreTest, RenderKeepsTheModeAndSkipsAnUnchangedFile) {
  Store st = InitAndOpen();
  ASSERT_TRUE(st.Add(Req(Ed25519(1))));
  ASSERT_EQ(chmod(ctx_.authorized_keys.c_str(), 0640), 0);
  struct stat before {};
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &before), 0);
  auto same = st.Render();
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->changed);
  struct stat unchanged {};
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &unchanged), 0);
  EXPECT_EQ(unchanged.st_ino, before.st_ino);
  ASSERT_TRUE(st.Add(Req(Ed25519(2))));
  struct stat after {};
  ASSERT_EQ(stat(ctx_.authorized_keys.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  for (const auto& n : Names("")) {
    EXPECT_EQ(n.find(".authorized_keys.keyward-"), std::string::npos) << "temporary file left: " << n;
  }
}

TEST_F(StoreTest, CheckShowsAHandEditAndRenderKeepsACopy) {
  Store st = InitAndOpen();
  std::string k1 = Ed25519(1, "one");
  ASSERT_TRUE(st.Add(Req(k1)));
  auto ok = st.Check();
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->matches);

  std::string rendered = Read(ctx_.authorized_keys);
  std::string edited = rendered + Ed25519(99, "intruder") + "\n";
  Write(ctx_.authorized_keys, edited, 0600);
  auto c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->matches);
  EXPECT_NE(c->diff.find("- "), std::string::npos) << c->diff;
  EXPECT_NE(c->diff.find("intruder"), std::string::npos) << c->diff;
  EXPECT_EQ(Read(ctx_.authorized_keys), edited) << "check wrote";

  // A removed line shows as "+".
  Write(ctx_.authorized_keys, Readme(), 0600);
  auto removed = st.Check();
  ASSERT_TRUE(removed);
  EXPECT_FALSE(removed->matches);
  EXPECT_NE(removed->diff.find("+ " + k1), std::string::npos) << removed->diff;

  Write(ctx_.authorized_keys, edited, 0600);
  auto r = st.Render();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->changed);
  ASSERT_FALSE(r->saved_copy.empty());
  EXPECT_EQ(Read(r->saved_copy), edited);
  struct stat copy_st {};
  ASSERT_EQ(stat(r->saved_copy.c_str(), &copy_st), 0);
  EXPECT_EQ(copy_st.st_mode & 077, 0u);
  EXPECT_EQ(Read(ctx_.authorized_keys), rendered);
  ASSERT_TRUE(st.Check()->matches);

  // A missing authorized_keys does not match either.
  ASSERT_EQ(unlink(ctx_.authorized_keys.c_str()), 0);
  auto missing = st.Check();
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->matches);
}

TEST_F(StoreTest, ACrashBetweenIndexAndRenameIsNotAHandEdit) {
  Store st = InitAndOpen();
  ASSERT_TRUE(st.Add(Req(Ed25519(1))));
  std::string v1 = Read(ctx_.authorized_keys);
  ASSERT_TRUE(st.Add(Req(Ed25519(2))));
  // As if the second render had been killed after writing keys.index but
  // before renaming its authorized_keys into place.
  Write(ctx_.authorized_keys, v1, 0600);
  auto r = st.Add(Req(Ed25519(3)));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->render.saved_copy.empty()) << "keyward's own file was saved as a hand edit";
  for (const auto& n : Names("")) EXPECT_EQ(n.find("keyward-saved"), std::string::npos) << n;
  // A real hand edit is still caught.
  Write(ctx_.authorized_keys, Read(ctx_.authorized_keys) + "# mine\n", 0600);
  auto edited = st.Add(Req(Ed25519(4)));
  ASSERT_TRUE(edited);
  EXPECT_FALSE(edited->render.saved_copy.empty());
}

TEST_F(StoreTest, ImportSplitsOwnersKeepsTheOriginalAndIsIdempotent) {
  ASSERT_EQ(mkdir(ctx_.store_dir.c_str(), 0700), 0);
  std::string original = "# old file\n" + Ed25519(1, "alice@example.com") + "\n" +
                         "from=\"10.0.0.0/8\" " + Ed25519(2, "bob@example.com") + "\r\n" +
                         Ed25519(3, "laptop of carol") + "\n" + Ed25519(1, "alice@example.com again") + "\n" +
                         std::string(kDsa) + "\n" + "garbage line\n" + Ed25519(4) + "\n";
  Write(ctx_.authorized_keys, original, 0600);
  Store st = InitAndOpen();
  EXPECT_EQ(Read(ctx_.authorized_keys), original) << "init changed authorized_keys";

  // Without --owner, keys without an e-mail comment are skipped.
  auto partial = st.Import(original, "");
  ASSERT_TRUE(partial) << partial.error().message;
  EXPECT_EQ(partial->added.size(), 2u);
  // And with it, the rest come in; nothing is added twice.
  auto full = st.Import(original, "admin@example.com");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->added.size(), 2u);
  std::vector<std::string> users = Names("users");
  std::vector<std::string> want = {std::string("admin@example.com+imported+") + kToday + "+01.pub",
                                   std::string("admin@example.com+imported+") + kToday + "+02.pub",
                                   std::string("alice@example.com+imported+") + kToday + "+01.pub",
                                   std::string("bob@example.com+imported+") + kToday + "+01.pub"};
  EXPECT_EQ(users, want);
  EXPECT_EQ(Read(S("users/" + want[3])), "from=\"10.0.0.0/8\" " + Ed25519(2, "bob@example.com") + "\n");
  // The original is kept in the store.
  ASSERT_FALSE(full->original_copy.empty());
  EXPECT_EQ(Read(full->original_copy), original);
  // Skipped lines say why: the DSA key, the garbage, the duplicate.
  std::string reasons;
  for (const auto& s : partial->skipped) reasons += s.file + ": " + s.reason + "\n";
  EXPECT_NE(reasons.find("DSA"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("--owner"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("line 5"), std::string::npos) << reasons;

  auto third = st.Import(original, "admin@example.com");
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->added.empty());
  EXPECT_EQ(Names("users"), want);
  auto c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->matches) << c->diff;
  // The import replaced authorized_keys, but the original is safe.
  EXPECT_EQ(Read(ctx_.authorized_keys).find("garbage"), std::string::npos);

  // A revoked key is not imported again.
  ASSERT_TRUE(st.Revoke(*ParseSelector({want[2]})));
  auto after_revoke = st.Import(original, "admin@example.com");
  ASSERT_TRUE(after_revoke);
  EXPECT_TRUE(after_revoke->added.empty());

  int imports = 0;
  for (const auto& j : Audit()) imports += j["action"] == "import";
  EXPECT_EQ(imports, 4);
}

TEST_F(StoreTest, ImportOfManyKeysWithoutAddressesComesInWhole) {
  Store st = InitAndOpen();
  std::string content;
  for (int i = 0; i < 150; ++i) content += Ed25519(500 + i, "host" + std::to_string(i)) + "\n";
  // A CR inside a quoted option value would make a two-line key file.
  content += "command=\"a\rb\" " + Ed25519(9000, "cr@example.com") + "\n";
  auto r = st.Import(content, "admin@example.com");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->added.size(), 150u);
  auto names = Names("users");
  ASSERT_EQ(names.size(), 150u);
  EXPECT_EQ(names.front(), std::string("admin@example.com+imported+") + kToday + "+01.pub");
  EXPECT_EQ(names.back(), std::string("admin@example.com+imported-2+") + kToday + "+51.pub");
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].file, "line 151");
  EXPECT_NE(r->skipped[0].reason.find("one line"), std::string::npos) << r->skipped[0].reason;
  auto c = st.Check();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->matches) << c->diff;
  EXPECT_EQ(r->render.keys, 150u);
  auto again = st.Import(content, "admin@example.com");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->added.empty());
  EXPECT_EQ(Names("users").size(), 150u);
}

TEST_F(StoreTest, ImportRefusesABadDefaultOwner) {
  Store st = InitAndOpen();
  auto before = Snapshot();
  auto r = st.Import(Ed25519(1) + "\n", "not-an-address");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_owner");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, ExpiryListPruneAndKeysForSshd) {
  Store st = InitAndOpen();
  AddRequest soon = Req(Ed25519(1, "soon"), "alice@example.com", "temp");
  soon.expires = static_cast<std::uint64_t>(kNow + 3600);
  auto a = st.Add(soon);
  auto b = st.Add(Req(Ed25519(2, "forever"), "alice@example.com", "laptop"));
  ASSERT_TRUE(a && b);

  auto list_now = st.List(false);
  ASSERT_TRUE(list_now);
  for (const auto& e : *list_now) EXPECT_EQ(e.state, KeyState::kActive) << e.file;
  ASSERT_TRUE(st.KeysForSshd(""));
  EXPECT_EQ(*st.KeysForSshd(""), Read(ctx_.authorized_keys).substr(Readme().size()));

  // Two hours later: the key is expired, though still in users/.
  Store later = OpenAt(kNow + 7200);
  auto list_later = later.List(true);
  ASSERT_TRUE(list_later);
  std::map<std::string, KeyState> states;
  for (const auto& e : *list_later) states[e.file] = e.state;
  EXPECT_EQ(states[a->files[0]], KeyState::kExpired);
  EXPECT_EQ(states[b->files[0]], KeyState::kActive);
  EXPECT_STREQ(KeyStateName(KeyState::kExpired), "expired");
  auto keys = later.KeysForSshd("");
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, Ed25519(2, "forever") + "\n");
  // The fast path (keys.index) and the fallback agree.
  auto one = later.KeysForSshd(a->fingerprints[0]);
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, "") << "an expired key was offered to sshd";
  ASSERT_EQ(unlink(S("keys.index").c_str()), 0);
  auto slow = later.KeysForSshd(a->fingerprints[0]);
  ASSERT_TRUE(slow);
  EXPECT_EQ(*slow, "");

  auto pruned = later.Prune();
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(pruned->files, a->files);
  EXPECT_TRUE(stdfs::exists(S("revoked/" + a->files[0])));
  EXPECT_EQ(Read(ctx_.authorized_keys), Readme() + Ed25519(2, "forever") + "\n");
  auto nothing = later.Prune();
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->files.empty());
  EXPECT_EQ(Audit().back()["action"], "prune");
}

TEST_F(StoreTest, KeysForSshdWithAndWithoutAFingerprint) {
  Store st = InitAndOpen();
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) {
    keys.push_back(Ed25519(100 + i, "user" + std::to_string(i) + "@example.com"));
    ASSERT_TRUE(st.Add(Req(keys.back(), "user" + std::to_string(i) + "@example.com", "laptop")));
  }
  AddRequest ca = Req(Ed25519(1000, "the CA"), "ca@example.com", "ca");
  ca.options = {"cert-authority", "principals=\"alice\""};
  ASSERT_TRUE(st.Add(ca));
  std::string ca_line = "cert-authority,principals=\"alice\" " + Ed25519(1000, "the CA") + "\n";

  auto all = st.KeysForSshd("");
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, Read(ctx_.authorized_keys).substr(Readme().size()));

  auto check_lookups = [&](const char* how) {
    for (std::size_t i = 0; i < keys.size(); i += 7) {
      auto one = st.KeysForSshd(FingerprintOf(keys[i]));
      ASSERT_TRUE(one) << how;
      EXPECT_EQ(*one, ca_line + keys[i] + "\n") << how << " " << i;
    }
    auto md5 = st.KeysForSshd(
        key::Fingerprint(authkeys::ParseAuthorizedKeysLine(keys[3])->entry->key, key::FingerprintHash::kMd5));
    ASSERT_TRUE(md5);
    EXPECT_EQ(*md5, ca_line + keys[3] + "\n") << how;
    auto unknown = st.KeysForSshd(FingerprintOf(Ed25519(9999)));
    ASSERT_TRUE(unknown);
    EXPECT_EQ(*unknown, ca_line) << how;
  };
  check_lookups("with keys.index");
  ASSERT_TRUE(stdfs::exists(S("keys.index")));
  ASSERT_EQ(unlink(S("keys.index").c_str()), 0);
  check_lookups("without keys.index");
  ASSERT_TRUE(st.Render());
  Write(S("keys.index"), "keyward-index 1 garbage\n", 0644);
  check_lookups("with a corrupt keys.index");
  ASSERT_TRUE(st.Render());
  std::string index = Read(S("keys.index"));
  Write(S("keys.index"), index.substr(0, index.size() / 2), 0644);
  check_lookups("with a truncated keys.index");
}

TEST_F(StoreTest, KeysForSshdDoesNotTrustAStaleIndex) {
  Store st = InitAndOpen();
  std::string k1 = Ed25519(1, "one");
  auto a = st.Add(Req(k1));
  ASSERT_TRUE(a);
  // A key file edited in place behind keyward's back: the index must not
  // answer with the old line.
  std::string replaced = Ed25519(2, "one");  // same length
  Write(S("users/" + a->files[0]), replaced + "\n");
  auto old_fp = st.KeysForSshd(FingerprintOf(k1));
  ASSERT_TRUE(old_fp);
  EXPECT_EQ(*old_fp, "") << "the index answered for a key that is no longer in users/";
  // The new key may be missed until the next render (a miss in the index
  // cannot be checked without reading users/; sshd then refuses, which
  // fails closed), but it is never answered with another key's line.
  auto new_fp = st.KeysForSshd(FingerprintOf(replaced));
  ASSERT_TRUE(new_fp);
  EXPECT_TRUE(*new_fp == "" || *new_fp == replaced + "\n") << *new_fp;
  EXPECT_EQ(*st.KeysForSshd(""), replaced + "\n");
  ASSERT_TRUE(st.Render());
  EXPECT_EQ(*st.KeysForSshd(FingerprintOf(replaced)), replaced + "\n");
  EXPECT_EQ(*st.KeysForSshd(FingerprintOf(k1)), "");
  // A key file added by hand is found, as is a removal.
  std::string by_hand = std::string("bob@example.com+desk+") + kToday + "+01.pub";
  Write(S("users/" + by_hand), Ed25519(3, "bob") + "\n");
  EXPECT_EQ(*st.KeysForSshd(FingerprintOf(Ed25519(3))), Ed25519(3, "bob") + "\n");
  ASSERT_EQ(rename(S("users/" + by_hand).c_str(), S("revoked/" + by_hand).c_str()), 0);
  EXPECT_EQ(*st.KeysForSshd(FingerprintOf(Ed25519(3))), "");
  // KeysForSshd never writes.
  auto before_keys = Snapshot();
  ASSERT_TRUE(st.KeysForSshd(""));
  ASSERT_TRUE(st.KeysForSshd(FingerprintOf(Ed25519(2))));
  ASSERT_TRUE(st.KeysForSshd("SHA256:nothing"));
  EXPECT_EQ(Snapshot(), before_keys);
}

TEST_F(StoreTest, HostileLayoutsAreRefused) {
  Store st = InitAndOpen();
  ASSERT_TRUE(st.Add(Req(Ed25519(1))));
  const std::string outside = home_ + "/outside";
  ASSERT_EQ(mkdir(outside.c_str(), 0700), 0);
  Write(outside + "/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0644);
  const std::string target_content = Read(outside + "/passwd");

  // authorized_keys a symlink: render refuses and the target is untouched.
  std::string ak = ctx_.authorized_keys;
  ASSERT_EQ(rename(ak.c_str(), (ak + ".real").c_str()), 0);
  ASSERT_EQ(symlink((outside + "/passwd").c_str(), ak.c_str()), 0);
  auto r = st.Render();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_EQ(Read(outside + "/passwd"), target_content);
  auto before_add = Snapshot();
  auto add = st.Add(Req(Ed25519(2), "alice@example.com", "phone"));
  EXPECT_FALSE(add) << "add succeeded although authorized_keys cannot be written";
  EXPECT_EQ(Snapshot(), before_add) << "a failed add changed the store";
  EXPECT_EQ(Read(outside + "/passwd"), target_content);
  ASSERT_EQ(unlink(ak.c_str()), 0);
  // A hard link.
  ASSERT_EQ(link((ak + ".real").c_str(), ak.c_str()), 0);
  auto hl = st.Render();
  ASSERT_FALSE(hl);
  EXPECT_EQ(hl.error().code, "hard_link");
  ASSERT_EQ(unlink((ak + ".real").c_str()), 0);
  // Group-writable.
  ASSERT_EQ(chmod(ak.c_str(), 0620), 0);
  auto gw = st.Render();
  ASSERT_FALSE(gw);
  EXPECT_EQ(gw.error().code, "bad_mode");
  ASSERT_EQ(chmod(ak.c_str(), 0600), 0);
  EXPECT_TRUE(st.Render());

  // users/ a symlink to a folder elsewhere.
  ASSERT_EQ(rename(S("users").c_str(), S("users.real").c_str()), 0);
  ASSERT_EQ(symlink(outside.c_str(), S("users").c_str()), 0);
  auto users = Store::Open(ctx_);
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, "symlink");
  ASSERT_EQ(unlink(S("users").c_str()), 0);
  ASSERT_EQ(rename(S("users.real").c_str(), S("users").c_str()), 0);
  // revoked/ world-writable.
  ASSERT_EQ(chmod(S("revoked").c_str(), 0777), 0);
  auto revoked = Store::Open(ctx_);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, "bad_mode");
  ASSERT_EQ(chmod(S("revoked").c_str(), 0755), 0);
  // The store itself a symlink.
  ASSERT_EQ(rename(ctx_.store_dir.c_str(), (home_ + "/real-ssh").c_str()), 0);
  ASSERT_EQ(symlink((home_ + "/real-ssh").c_str(), ctx_.store_dir.c_str()), 0);
  auto store = Store::Open(ctx_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "symlink");
  EXPECT_FALSE(Store::Init(ctx_));
  EXPECT_EQ(Read(outside + "/passwd"), target_content);
  EXPECT_EQ(stdfs::directory_iterator(outside)->path().filename(), "passwd");
}

TEST(AccountTemplate, Expands) {
  Account a{"alice", 1000, 1000, "/home/alice"};
  EXPECT_EQ(*ExpandPathTemplate("%h/.ssh", a), "/home/alice/.ssh");
  EXPECT_EQ(*ExpandPathTemplate("/var/lib/keyward/%u", a), "/var/lib/keyward/alice");
  EXPECT_EQ(*ExpandPathTemplate(".ssh/authorized_keys", a), "/home/alice/.ssh/authorized_keys");
  EXPECT_EQ(*ExpandPathTemplate("/srv/100%%/%u/", a), "/srv/100%/alice");
  for (std::string bad : {"", "%", "%x", "/a/%", "%H"}) EXPECT_FALSE(ExpandPathTemplate(bad, a)) << bad;
}

TEST(AccountName, Validation) {
  for (std::string ok : {"alice", "_svc", "a.b-c_d", "machine$", "u1"}) EXPECT_TRUE(ValidateUserName(ok)) << ok;
  for (std::string bad : std::vector<std::string>{"", "Alice", "1abc", "-x", ".x", "a..b", "a/b", "a b", "a$b", "a\n",
                          std::string(33, 'a')}) {
    EXPECT_FALSE(ValidateUserName(bad)) << bad;
  }
}

TEST(AuditLog, OneJsonObjectPerLine) {
  AuditRecord r;
  r.time = kNow;
  r.who = "root (sudo by \"x\"\n)";
  r.account = "alice";
  r.action = "add";
  r.file = "a@b.co+d+20261121+01.pub";
  r.fingerprint = "SHA256:x";
  std::string line = FormatAuditRecord(r);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a record spans lines";
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["who"], r.who);
  EXPECT_EQ(j["time"], "2026-11-21T11:00:00Z");
  EXPECT_FALSE(j.contains("client"));
  r.client = "192.0.2.1";
  EXPECT_EQ(nlohmann::json::parse(FormatAuditRecord(r))["client"], "192.0.2.1");
}

}  // namespace
}  // namespace keyward::store
