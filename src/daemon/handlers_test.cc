// The handlers against a demo installation (directory accounts alice and
// bob), with codes and alerts written to a file the test reads.
#include "daemon/handlers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "ca/ca_signer.h"
#include "ca/ca_store.h"
#include "ca/issuance_log.h"
#include "daemon/background.h"
#include "daemon/demo.h"
#include "fs/read_file.h"
#include "fs/safe_file.h"
#include "key/fingerprint.h"
#include "krl/check.h"
#include "krl/parse.h"
#include "krl/publish.h"
#include "krl/revocation_list.h"

namespace keyward::daemon {
namespace {

using nlohmann::json;

constexpr const char* kKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPBQiEDhnaZ0/YvfV9RTndPIjtvoZOIuqpTEqJpi98Ev alice@laptop";

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-handlers-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto demo = SetUpDemo(dir_);
    ASSERT_TRUE(demo) << demo.error().message;
    config_ = demo->config;
    messages_ = dir_ + "/messages";
  }
  void TearDown() override {
    daemon_.reset();
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    fd_ = open(messages_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
    auto channels = MakeChannels(config_, fd_);
    ASSERT_TRUE(channels) << channels.error().message;
    auto d = Daemon::Create(config_, std::move(*channels), Clocks{[this] { return now_; }, [this] { return wall_; }});
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }

  json Ask(const std::string& line, Caller caller = {CallerKind::kWeb, 1000, 1}) {
    auto request = ParseRequest(line);
    EXPECT_TRUE(request) << line;
    if (!request) return json();
    Outcome out = daemon_->Handle(caller, *request);
    return json::parse(out.reply);
  }
  json Ask(const json& request) { return Ask(request.dump()); }

  std::string LastCode(const std::string& account) {
    WaitForBackgroundJobs(5);
    std::ifstream in(messages_);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    std::regex re("code for " + account + ": ([0-9]+)");
    std::string code;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
      code = (*it)[1];
    }
    return code;
  }

  std::string Session(const std::string& account) {
    json login = Ask({{"op", "login"}, {"user", account}});
    json v = Ask({{"op", "verify"}, {"login", login["login"]}, {"code", LastCode(account)}});
    EXPECT_EQ(v["ok"], true) << v.dump();
    return v.value("session", "");
  }

  std::string dir_, messages_;
  int fd_ = -1;
  config::Config config_;
  std::unique_ptr<Daemon> daemon_;
  std::int64_t now_ = 100000;
  std::int64_t wall_ = 1790000000;
};

TEST_F(HandlersTest, LoginRepliesAlikeForEveryone) {
  std::filesystem::remove(dir_ + "/accounts/bob/email");  // bob: no factor
  std::filesystem::create_directory(dir_ + "/accounts/carol");
  Start();
  json first;
  for (std::string user : {"alice", "bob", "mallory", "../root", "root/..", "~root", "ALICE", "carol", ""}) {
    json r = Ask({{"op", "login"}, {"user", user}, {"client", "192.0.2.1"}});
    ASSERT_EQ(r["ok"], true) << user << ": " << r.dump();
    ASSERT_TRUE(r["login"].is_string());
    EXPECT_EQ(r["login"].get<std::string>().size(), 64u);
    r.erase("login");
    if (first.is_null()) first = r;
    EXPECT_EQ(r, first) << user;
  }
  EXPECT_FALSE(LastCode("alice").empty());
  EXPECT_TRUE(LastCode("bob").empty());
}

TEST_F(HandlersTest, TheWholeFlow) {
  Start();
  std::string session = Session("alice");
  ASSERT_EQ(session.size(), 64u);
  json list = Ask({{"op", "list_keys"}, {"session", session}});
  EXPECT_EQ(list["account"], "alice");
  EXPECT_TRUE(list["keys"].empty());

  json add = Ask({{"op", "add_key"}, {"session", session}, {"key", kKey}, {"owner", "alice@example.org"},
                  {"device", "laptop"}, {"days", 30}, {"client", "192.0.2.7"}});
  ASSERT_EQ(add["ok"], true) << add.dump();
  std::string file = add["file"];
  EXPECT_EQ(file.rfind("alice@example.org+laptop+", 0), 0u);
  EXPECT_EQ(add["fingerprint"].get<std::string>().rfind("SHA256:", 0), 0u);

  list = Ask({{"op", "list_keys"}, {"session", session}});
  ASSERT_EQ(list["keys"].size(), 1u);
  EXPECT_EQ(list["keys"][0]["state"], "active");
  EXPECT_EQ(list["keys"][0]["device"], "laptop");
  EXPECT_EQ(list["keys"][0]["type"], "ssh-ed25519");
  EXPECT_EQ(list["keys"][0]["bits"], 256);
  EXPECT_TRUE(list["keys"][0]["expiry"].is_string());

  json again = Ask({{"op", "add_key"}, {"session", session}, {"key", kKey}, {"owner", "alice@example.org"},
                    {"device", "desktop"}});
  EXPECT_EQ(again["error"]["code"], "duplicate_key");

  json revoke = Ask({{"op", "revoke_key"}, {"session", session}, {"file", file}, {"client", "192.0.2.7"}});
  ASSERT_EQ(revoke["ok"], true) << revoke.dump();
  list = Ask({{"op", "list_keys"}, {"session", session}});
  EXPECT_EQ(list["keys"][0]["state"], "revoked");
  json twice = Ask({{"op", "revoke_key"}, {"session", session}, {"file", file}});
  EXPECT_EQ(twice["error"]["code"], "no_match");

  // The alerts and the audit log.
  daemon_->Drain(5);
  std::ifstream in(messages_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("key added to alice"), std::string::npos);
  EXPECT_NE(text.find("key revoked from alice"), std::string::npos);
  EXPECT_NE(text.find("client: 192.0.2.7"), std::string::npos);
  std::ifstream audit(dir_ + "/audit.log");
  std::string line;
  int lines = 0;
  while (std::getline(audit, line)) {
    json record = json::parse(line);
    EXPECT_EQ(record["account"], "alice");
    ++lines;
  }
  EXPECT_EQ(lines, 2);

  EXPECT_EQ(Ask({{"op", "logout"}, {"session", session}})["ok"], true);
  EXPECT_EQ(Ask({{"op", "list_keys"}, {"session", session}})["error"]["code"], "no_session");
}

TEST_F(HandlersTest, ASessionActsOnItsOwnAccountOnly) {
  Start();
  std::string alice = Session("alice");
  json add = Ask({{"op", "add_key"}, {"session", alice}, {"key", kKey}, {"owner", "bob@example.org"},
                  {"device", "laptop"}});
  ASSERT_EQ(add["ok"], true) << add.dump();
  // The key landed in alice's store, whatever owner it names.
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/accounts/alice/users/" + add["file"].get<std::string>()));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/accounts/bob/users"));
  std::string bob = Session("bob");
  json list = Ask({{"op", "list_keys"}, {"session", bob}});
  EXPECT_EQ(list["account"], "bob");
  EXPECT_TRUE(list["keys"].empty());
  // bob cannot revoke alice's key by naming its file.
  EXPECT_EQ(Ask({{"op", "revoke_key"}, {"session", bob}, {"file", add["file"]}})["error"]["code"], "no_match");
}

TEST_F(HandlersTest, CodesAreSingleUseAndDieAfterFiveTries) {
  Start();
  json login = Ask({{"op", "login"}, {"user", "alice"}});
  std::string code = LastCode("alice");
  std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Ask({{"op", "verify"}, {"login", login["login"]}, {"code", wrong}})["error"]["code"], "bad_code");
  }
  EXPECT_EQ(Ask({{"op", "verify"}, {"login", login["login"]}, {"code", code}})["error"]["code"], "too_many_tries");

  login = Ask({{"op", "login"}, {"user", "alice"}});
  code = LastCode("alice");
  EXPECT_EQ(Ask({{"op", "verify"}, {"login", login["login"]}, {"code", code}})["ok"], true);
  EXPECT_EQ(Ask({{"op", "verify"}, {"login", login["login"]}, {"code", code}})["error"]["code"], "expired");

  login = Ask({{"op", "login"}, {"user", "alice"}});
  code = LastCode("alice");
  now_ += config_.token_ttl;
  EXPECT_EQ(Ask({{"op", "verify"}, {"login", login["login"]}, {"code", code}})["error"]["code"], "expired");
}

TEST_F(HandlersTest, LoginsAreRateLimited) {
  config_.rate_limits.logins_per_account_per_hour = 2;
  config_.rate_limits.logins_per_client_per_hour = 3;
  Start();
  auto login = [&](const std::string& user, const std::string& client) {
    return Ask({{"op", "login"}, {"user", user}, {"client", client}});
  };
  EXPECT_EQ(login("alice", "192.0.2.1")["ok"], true);
  EXPECT_EQ(login("alice", "192.0.2.2")["ok"], true);
  EXPECT_EQ(login("alice", "192.0.2.3")["error"]["code"], "rate_limited");
  // Unknown names are limited the same way: the limit tells nothing.
  EXPECT_EQ(login("mallory", "192.0.2.4")["ok"], true);
  EXPECT_EQ(login("mallory", "192.0.2.4")["ok"], true);
  EXPECT_EQ(login("mallory", "192.0.2.4")["error"]["code"], "rate_limited");
  // Per client: 192.0.2.9 may ask 3 times in all.
  EXPECT_EQ(login("bob", "192.0.2.9")["ok"], true);
  EXPECT_EQ(login("x1", "192.0.2.9")["ok"], true);
  EXPECT_EQ(login("x2", "192.0.2.9")["ok"], true);
  EXPECT_EQ(login("x3", "192.0.2.9")["error"]["code"], "rate_limited");
  now_ += 3600;
  EXPECT_EQ(login("alice", "192.0.2.9")["ok"], true);
}

TEST_F(HandlersTest, KeyExpiryFollowsThePolicy) {
  config_.max_key_days = 30;
  Start();
  std::string s = Session("alice");
  json too_long = Ask({{"op", "add_key"}, {"session", s}, {"key", kKey}, {"owner", "alice@example.org"},
                       {"device", "laptop"}, {"days", 31}});
  EXPECT_EQ(too_long["error"]["code"], "bad_days");
  json forever = Ask({{"op", "add_key"}, {"session", s}, {"key", kKey}, {"owner", "alice@example.org"},
                      {"device", "laptop"}, {"days", 0}});
  ASSERT_EQ(forever["ok"], true) << forever.dump();
  json list = Ask({{"op", "list_keys"}, {"session", s}});
  EXPECT_TRUE(list["keys"][0]["expiry"].is_string()) << list.dump();
}

TEST_F(HandlersTest, BadInputGetsReadableErrors) {
  Start();
  std::string s = Session("alice");
  auto add = [&](const std::string& key, const std::string& owner, const std::string& device) {
    return Ask({{"op", "add_key"}, {"session", s}, {"key", key}, {"owner", owner}, {"device", device}});
  };
  EXPECT_EQ(add(kKey, "not-an-email", "laptop")["error"]["code"], "bad_owner");
  EXPECT_EQ(add(kKey, "alice@example.org", "lap top")["error"]["code"], "bad_device");
  EXPECT_EQ(add("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "alice@example.org", "laptop")["error"]["code"],
            "private_key");
  EXPECT_EQ(add(std::string("command=\"/bin/sh\" ") + kKey, "alice@example.org", "laptop")["error"]["code"],
            "options_in_key");
  EXPECT_EQ(add(std::string(kKey) + "\n" + kKey, "alice@example.org", "laptop")["error"]["code"], "several_keys");
  json revoke = Ask({{"op", "revoke_key"}, {"session", s}, {"file", "../../etc/passwd"}});
  EXPECT_EQ(revoke["error"]["code"], "bad_file");
  EXPECT_EQ(Ask({{"op", "list_keys"}, {"session", std::string(64, 'a')}})["error"]["code"], "no_session");
}

TEST_F(HandlersTest, AFreshAccountGetsItsStoreOnItsFirstKey) {
  const std::string carol = dir_ + "/accounts/carol";
  std::filesystem::create_directory(carol);
  std::filesystem::permissions(carol, std::filesystem::perms::owner_all);
  {
    std::ofstream(carol + "/email") << "carol@example.org\n";
  }
  std::filesystem::permissions(carol + "/email",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Start();
  std::string s = Session("carol");
  json list = Ask({{"op", "list_keys"}, {"session", s}});
  EXPECT_EQ(list["ok"], true) << list.dump();
  EXPECT_TRUE(list["keys"].empty());
  EXPECT_FALSE(std::filesystem::exists(carol + "/users"));  // a read creates nothing
  json add = Ask({{"op", "add_key"}, {"session", s}, {"key", kKey}, {"owner", "carol@example.org"},
                  {"device", "laptop"}});
  ASSERT_EQ(add["ok"], true) << add.dump();
  EXPECT_TRUE(std::filesystem::exists(carol + "/users/" + add["file"].get<std::string>()));
  EXPECT_TRUE(std::filesystem::exists(carol + "/authorized_keys"));
}

TEST_F(HandlersTest, KeysKeywardDoesNotManageAreNeverDroppedByAFirstAdd) {
  const std::string alice = dir_ + "/accounts/alice";
  const std::string hand_made =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2IYWKi9OLl7oeHvuJ8d11h+yRPS3+ZH4/E+HBoJyCH old@key\n";
  {
    std::ofstream(alice + "/authorized_keys", std::ios::trunc) << hand_made;
  }
  Start();
  std::string s = Session("alice");
  json add = Ask({{"op", "add_key"}, {"session", s}, {"key", kKey}, {"owner", "alice@example.org"},
                  {"device", "laptop"}});
  EXPECT_EQ(add["error"]["code"], "store_not_ready") << add.dump();
  std::ifstream in(alice + "/authorized_keys");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, hand_made);
}

// ------------------------------------------------------------ certificates

std::string FreshKey(const std::string& comment) {
  auto k = ca::CaSigner::Generate(ca::CaKeySpec{});
  EXPECT_TRUE(k);
  return k ? k->public_key().ToText() + " " + comment : std::string();
}

std::size_t IssuedCount(const std::string& ca_dir) {
  fs::UniqueFd dir(open(ca_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto log = ca::ReadIssuanceLog(dir.get());
  EXPECT_TRUE(log) << (log ? "" : log.error().message);
  return log ? log->records.size() : 0;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(HandlersTest, SignCertSignsTheRoleForTheSessionsAccount) {
  Start();
  std::string s = Session("alice");
  const std::string key = FreshKey("alice@laptop");
  json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}, {"client", "192.0.2.7"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["account"], "alice");
  EXPECT_EQ(r["role"], "login");
  EXPECT_EQ(r["principals"], json::array({"alice"}));
  const std::uint64_t serial = r["serial"];
  EXPECT_GE(serial, 1u);
  EXPECT_EQ(r["key_id"], "keyward:alice:login:" + std::to_string(serial));
  // A week from now, backdated by ca.backdate (300 s).
  EXPECT_EQ(r["valid_after"].get<std::uint64_t>(), static_cast<std::uint64_t>(wall_ - 300));
  EXPECT_EQ(r["valid_before"].get<std::uint64_t>(), static_cast<std::uint64_t>(wall_ + 7 * 86400));

  const std::string line = r["certificate"];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(line.ends_with(" alice@laptop")) << line;
  auto cert = key::ReadKeyText(line);
  ASSERT_TRUE(cert) << cert.error().message;
  ASSERT_TRUE(cert->key.is_certificate());
  const key::Certificate& c = *cert->key.certificate();
  EXPECT_EQ(c.serial, serial);
  EXPECT_EQ(c.principals, std::vector<std::string>{"alice"});
  EXPECT_EQ(c.type, key::CertType::kUser);
  std::vector<std::string> extensions;
  for (const auto& e : c.extensions) extensions.push_back(e.name);
  EXPECT_EQ(extensions, (std::vector<std::string>{"permit-agent-forwarding", "permit-port-forwarding", "permit-pty"}));
  EXPECT_TRUE(c.critical_options.empty());
  auto plain = key::ReadKeyText(key);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(cert->key.SamePublicKey(plain->key));
  EXPECT_EQ(r["fingerprint"], key::Fingerprint(plain->key));
  // Signed by the demo's CA.
  fs::UniqueFd ca_dir(open((dir_ + "/ca").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto ca_pub = ca::ReadCaPublicKey(ca_dir.get(), key::CertType::kUser);
  ASSERT_TRUE(ca_pub);
  EXPECT_TRUE(c.signature_key->SamePublicKey(*ca_pub));

  // Recorded, reported, logged.
  EXPECT_EQ(IssuedCount(dir_ + "/ca"), 1u);
  daemon_->Drain(5);
  std::string messages = ReadText(messages_);
  EXPECT_NE(messages.find("certificate signed for alice"), std::string::npos);
  EXPECT_NE(messages.find("key id: keyward:alice:login:" + std::to_string(serial)), std::string::npos);
  EXPECT_NE(messages.find("client: 192.0.2.7"), std::string::npos);
  json audit = json::parse(ReadText(dir_ + "/audit.log"));
  EXPECT_EQ(audit["action"], "sign_cert");
  EXPECT_EQ(audit["account"], "alice");
  EXPECT_EQ(audit["file"], "keyward:alice:login:" + std::to_string(serial));

  // The next one gets the next serial.
  json again = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}});
  ASSERT_EQ(again["ok"], true) << again.dump();
  EXPECT_EQ(again["serial"].get<std::uint64_t>(), serial + 1);
  EXPECT_EQ(IssuedCount(dir_ + "/ca"), 2u);
}

// A session cannot flood the issuance log and the administrator's alerts:
// past the hourly limit a request is refused before anything is signed.
TEST_F(HandlersTest, SignCertIsRateLimitedPerAccount) {
  config_.rate_limits.certificates_per_account_per_hour = 2;
  Start();
  std::string s = Session("alice");
  for (int i = 0; i < 2; ++i) {
    json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", FreshKey("a@" + std::to_string(i))}});
    ASSERT_EQ(r["ok"], true) << r.dump();
  }
  json third = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", FreshKey("a@3")}});
  EXPECT_EQ(third["error"]["code"], "rate_limited") << third.dump();
  EXPECT_EQ(IssuedCount(dir_ + "/ca"), 2u);
  // Another account has its own allowance.
  json bob = Ask({{"op", "sign_cert"}, {"session", Session("bob")}, {"role", "login"}, {"key", FreshKey("b@1")}});
  EXPECT_EQ(bob["ok"], true) << bob.dump();
  // An hour later alice may ask again.
  now_ += 3601;
  json later = Ask({{"op", "sign_cert"}, {"session", Session("alice")}, {"role", "login"}, {"key", FreshKey("a@4")}});
  EXPECT_EQ(later["ok"], true) << later.dump();
}

TEST_F(HandlersTest, SignCertFollowsTheRole) {
  Start();
  std::string s = Session("alice");
  const std::string key = FreshKey("deploy@ci");
  json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "deploy"}, {"key", key}, {"validity", "+30m"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["principals"], json::array({"deploy"}));
  EXPECT_EQ(r["valid_before"].get<std::uint64_t>(), static_cast<std::uint64_t>(wall_ + 1800));
  auto cert = key::ReadKeyText(r["certificate"].get<std::string>());
  ASSERT_TRUE(cert);
  std::map<std::string, std::string> options;
  for (const auto& o : cert->key.certificate()->critical_options) options[o.name] = std::string(AsText(o.data));
  ASSERT_EQ(options.size(), 2u);
  EXPECT_NE(options["force-command"].find("/usr/local/bin/deploy"), std::string::npos);
  EXPECT_NE(options["source-address"].find("127.0.0.0/8,::1/128"), std::string::npos);
  EXPECT_TRUE(cert->key.certificate()->extensions.empty());
}

TEST_F(HandlersTest, SignCertRefusesBadInputAndSignsNothing) {
  Start();
  std::string alice = Session("alice");
  std::string bob = Session("bob");
  const std::string key = FreshKey("k");
  json good = Ask({{"op", "sign_cert"}, {"session", alice}, {"role", "login"}, {"key", key}});
  ASSERT_EQ(good["ok"], true) << good.dump();
  const std::size_t issued = IssuedCount(dir_ + "/ca");
  auto sign = [&](const std::string& session, const std::string& role, const std::string& k,
                  const std::string& validity = "") {
    json req = {{"op", "sign_cert"}, {"session", session}, {"role", role}, {"key", k}};
    if (!validity.empty()) req["validity"] = validity;
    json r = Ask(req);
    EXPECT_EQ(r["ok"], false) << r.dump();
    EXPECT_FALSE(r["error"]["message"].get<std::string>().empty());
    return r["error"]["code"].get<std::string>();
  };
  EXPECT_EQ(sign(alice, "root", key), "unknown_role");
  EXPECT_EQ(sign(alice, "", key), "unknown_role");
  EXPECT_EQ(sign(bob, "deploy", key), "role_not_allowed");
  EXPECT_EQ(sign(alice, "login", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n"),
            "private_key");
  EXPECT_EQ(sign(alice, "login", good["certificate"]), "certificate");
  EXPECT_EQ(sign(alice, "login", "command=\"/bin/sh\" " + key), "options_in_key");
  EXPECT_EQ(sign(alice, "login", key + "\n" + FreshKey("other")), "several_keys");
  EXPECT_EQ(sign(alice, "login", ""), "no_key");
  EXPECT_EQ(sign(alice, "login", "ssh-ed25519 AAAAnotbase64!"), "bad_base64");
  EXPECT_EQ(sign(alice, "login", key, "+8d"), "bad_validity");
  EXPECT_EQ(sign(alice, "deploy", key, "+2h"), "bad_validity");
  EXPECT_EQ(sign(alice, "login", key, "forever"), "bad_validity");
  EXPECT_EQ(sign(alice, "login", key, "always:+1d"), "bad_validity");
  EXPECT_EQ(sign(alice, "login", key, "next tuesday"), "bad_validity");
  EXPECT_EQ(sign(std::string(64, 'a'), "login", key), "no_session");
  EXPECT_EQ(IssuedCount(dir_ + "/ca"), issued) << "nothing was signed";
}

TEST_F(HandlersTest, ListRolesOffersWhatTheAccountMayHave) {
  Start();
  json alice = Ask({{"op", "list_roles"}, {"session", Session("alice")}});
  ASSERT_EQ(alice["ok"], true) << alice.dump();
  EXPECT_EQ(alice["account"], "alice");
  EXPECT_EQ(alice["ca"], "ready");
  ASSERT_EQ(alice["roles"].size(), 2u);
  EXPECT_EQ(alice["roles"][0]["name"], "login");
  EXPECT_EQ(alice["roles"][0]["principals"], json::array({"alice"}));
  EXPECT_EQ(alice["roles"][0]["max_validity"], 7 * 86400);
  EXPECT_EQ(alice["roles"][0]["max_validity_text"], "1 week");
  EXPECT_EQ(alice["roles"][1]["name"], "deploy");
  EXPECT_EQ(alice["roles"][1]["force_command"], "/usr/local/bin/deploy");
  EXPECT_EQ(alice["roles"][1]["max_validity_text"], "1 hour");
  json bob = Ask({{"op", "list_roles"}, {"session", Session("bob")}});
  ASSERT_EQ(bob["roles"].size(), 1u);
  EXPECT_EQ(bob["roles"][0]["name"], "login");
  EXPECT_EQ(bob["roles"][0]["principals"], json::array({"bob"}));
  config_.ca.roles.clear();
  Start();
  json none = Ask({{"op", "list_roles"}, {"session", Session("alice")}});
  EXPECT_EQ(none["roles"], json::array());
  EXPECT_EQ(none["ca"], "");
}

TEST_F(HandlersTest, ACaThatAppearsLaterIsUsedAndOneThatGoesIsNot) {
  const std::string ca_dir = dir_ + "/ca";
  std::filesystem::rename(ca_dir + "/user_ca", dir_ + "/user_ca.kept");
  Start();
  std::string s = Session("alice");
  const std::string key = FreshKey("k");
  json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}});
  EXPECT_EQ(r["error"]["code"], "no_ca") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("keyward ca init"), std::string::npos);
  EXPECT_EQ(Ask({{"op", "list_roles"}, {"session", s}})["ca"], "missing");
  EXPECT_EQ(IssuedCount(ca_dir), 0u);
  // The administrator creates it: no restart needed.
  std::filesystem::rename(dir_ + "/user_ca.kept", ca_dir + "/user_ca");
  r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  // Replaced by another CA: the new one signs.
  std::filesystem::remove(ca_dir + "/user_ca");
  std::filesystem::remove(ca_dir + "/user_ca.pub");
  fs::UniqueFd dir(open(ca_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto created = ca::CreateCaKey(dir.get(), key::CertType::kUser, ca::CaKeySpec{}, nullptr, "second");
  ASSERT_TRUE(created) << created.error().message;
  r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  auto cert = key::ReadKeyText(r["certificate"].get<std::string>());
  ASSERT_TRUE(cert);
  EXPECT_EQ(key::Fingerprint(*cert->key.certificate()->signature_key), created->fingerprint);
  // Removed: signing stops.
  std::filesystem::remove(ca_dir + "/user_ca");
  EXPECT_EQ(Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}})["error"]["code"], "no_ca");
}

TEST_F(HandlersTest, ACaKeyOthersMayReadIsNotUsed) {
  const std::string key_file = dir_ + "/ca/user_ca";
  Start();
  std::string s = Session("alice");
  const std::string key = FreshKey("k");
  ASSERT_EQ(Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}})["ok"], true);
  const std::size_t issued = IssuedCount(dir_ + "/ca");
  // Loaded already, but made readable since: exposed, so no longer used.
  ASSERT_EQ(chmod(key_file.c_str(), 0644), 0);
  json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}});
  EXPECT_EQ(r["error"]["code"], "ca_unavailable") << r.dump();
  EXPECT_EQ(r["error"]["message"].get<std::string>().find(dir_), std::string::npos) << "no path for the web user";
  EXPECT_EQ(Ask({{"op", "list_roles"}, {"session", s}})["ca"], "unavailable");
  // A symlink in its place is not followed.
  std::filesystem::rename(key_file, dir_ + "/user_ca.real");
  ASSERT_EQ(chmod((dir_ + "/user_ca.real").c_str(), 0600), 0);
  std::filesystem::create_symlink(dir_ + "/user_ca.real", key_file);
  EXPECT_EQ(Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}})["error"]["code"],
            "ca_unavailable");
  EXPECT_EQ(IssuedCount(dir_ + "/ca"), issued);
  // Put right: used again.
  std::filesystem::remove(key_file);
  std::filesystem::rename(dir_ + "/user_ca.real", key_file);
  EXPECT_EQ(Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", key}})["ok"], true);
}

TEST_F(HandlersTest, APassphraseProtectedCaCannotSign) {
  const std::string ca_dir = dir_ + "/ca";
  std::filesystem::remove(ca_dir + "/user_ca");
  std::filesystem::remove(ca_dir + "/user_ca.pub");
  fs::UniqueFd dir(open(ca_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ca::Secret passphrase(std::string("correct horse battery staple"));
  auto spec = ca::ParseCaKeySpec("ecdsa", 0);
  ASSERT_TRUE(spec);
  auto created = ca::CreateCaKey(dir.get(), key::CertType::kUser, *spec, &passphrase, "locked");
  ASSERT_TRUE(created) << created.error().message;
  Start();
  std::string s = Session("alice");
  json r = Ask({{"op", "sign_cert"}, {"session", s}, {"role", "login"}, {"key", FreshKey("k")}});
  EXPECT_EQ(r["error"]["code"], "ca_locked") << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("passphrase"), std::string::npos);
  EXPECT_EQ(Ask({{"op", "list_roles"}, {"session", s}})["ca"], "locked");
  EXPECT_EQ(IssuedCount(ca_dir), 0u);
}

// ------------------------------------------------------------------ the KRL

// Holds an flock on `path` in a child process until it goes out of scope.
// Not in this process: the rebuild children are forked from it and would
// inherit the lock's open file description, and so hold it themselves.
class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    int ready[2], release[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      char c = (fd >= 0 && flock(fd, LOCK_EX) == 0) ? 'y' : 'n';
      if (write(ready[1], &c, 1) != 1) _exit(1);
      // Until the parent writes (closing is not enough: its children hold
      // copies of this pipe's write end).
      if (read(release[0], &c, 1) < 0) _exit(1);
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    char c = 'n';
    held_ = pid_ > 0 && read(ready[0], &c, 1) == 1 && c == 'y';
    close(ready[0]);
  }
  ~LockHolder() {
    if (release_ >= 0) {
      char c = 'x';
      if (write(release_, &c, 1) != 1) ADD_FAILURE() << "cannot release the lock holder";
      close(release_);
    }
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  bool held() const { return held_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool held_ = false;
};

class KrlRebuildTest : public HandlersTest {
 protected:
  // Runs the loop's work until no rebuild runs or is queued.
  void Settle() {
    for (int i = 0; i < 500; ++i) {
      ReapBackgroundJobs();
      daemon_->Tick();
      if (!daemon_->krl().running() && !daemon_->krl().pending()) return;
      usleep(20000);
    }
    ADD_FAILURE() << "the KRL rebuilds did not end";
  }
  std::string AddKey(const std::string& session, const std::string& key, const std::string& device) {
    json add = Ask({{"op", "add_key"}, {"session", session}, {"key", key}, {"owner", "alice@example.org"},
                    {"device", device}});
    EXPECT_EQ(add["ok"], true) << add.dump();
    return add.value("file", "");
  }
  krl::Krl ReadKrl() {
    auto text = fs::ReadFileOrStdin(config_.ca.krl);
    EXPECT_TRUE(text);
    auto parsed = krl::ParseKrl(AsBytes(text ? *text : std::string()));
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
    return parsed ? std::move(*parsed) : krl::Krl{};
  }
};

TEST_F(KrlRebuildTest, WithoutAKrlARevokeRebuildsNothing) {
  Start();
  std::string s = Session("alice");
  std::string file = AddKey(s, FreshKey("k"), "laptop");
  ASSERT_EQ(Ask({{"op", "revoke_key"}, {"session", s}, {"file", file}})["ok"], true);
  EXPECT_EQ(daemon_->krl().started(), 0u);
  EXPECT_FALSE(std::filesystem::exists(config_.ca.krl));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ca/revocations"));
}

TEST_F(KrlRebuildTest, RevokedKeysGoIntoThePublishedKrlOneRebuildAtATime) {
  krl::PublishOptions options;
  options.config = config_;
  auto built = krl::BuildAndWriteKrl(options);
  ASSERT_TRUE(built) << built.error().message;
  const std::uint64_t first_version = built->version;
  Start();
  std::string s = Session("alice");
  std::vector<std::string> keys, files;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(FreshKey("k" + std::to_string(i)));
    files.push_back(AddKey(s, keys.back(), "device" + std::to_string(i)));
  }
  {
    // A rebuild waits for the revocations lock (as `keyward krl build`
    // running at the same time would make it): the revokes meanwhile queue.
    LockHolder lock(dir_ + "/ca/" + krl::kRevocationsLock);
    ASSERT_TRUE(lock.held());
    for (const auto& file : files) {
      json r = Ask({{"op", "revoke_key"}, {"session", s}, {"file", file}});
      ASSERT_EQ(r["ok"], true) << r.dump();
      daemon_->Tick();
    }
    EXPECT_EQ(daemon_->krl().started(), 1u) << "one rebuild runs; the others wait for it";
    EXPECT_TRUE(daemon_->krl().running());
    EXPECT_TRUE(daemon_->krl().pending());
    EXPECT_EQ(daemon_->krl().queued_records(), 2u);
  }
  Settle();
  EXPECT_EQ(daemon_->krl().started(), 2u) << "the two queued revocations made one more rebuild";
  krl::Krl published = ReadKrl();
  EXPECT_EQ(published.version, first_version + 2);
  for (const auto& k : keys) {
    auto parsed = key::ReadKeyText(k);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(krl::IsRevoked(published, parsed->key)) << k;
  }
  // Each key is in the CA's revocation list too, where the user cannot
  // take it out.
  fs::UniqueFd ca_dir(open((dir_ + "/ca").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto list = krl::ReadRevocationList(ca_dir.get());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->records.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(list->records[i].kind, krl::Revocation::Kind::kKey);
    EXPECT_EQ(list->records[i].who, "keywardd:alice");
    EXPECT_EQ(list->records[i].key + " k" + std::to_string(i), keys[i]);
  }
  // Emptying revoked/ does not take them out of the next KRL.
  for (const auto& f : files) std::filesystem::remove(dir_ + "/accounts/alice/revoked/" + f);
  std::string more = AddKey(s, FreshKey("k3"), "device3");
  ASSERT_EQ(Ask({{"op", "revoke_key"}, {"session", s}, {"file", more}})["ok"], true);
  Settle();
  published = ReadKrl();
  for (const auto& k : keys) EXPECT_TRUE(krl::IsRevoked(published, key::ReadKeyText(k)->key)) << k;
}

TEST(DispatchTables, EveryCallerKindHasItsHandlers) {
  for (Op op : {Op::kLogin, Op::kVerify, Op::kListKeys, Op::kAddKey, Op::kRevokeKey, Op::kLogout, Op::kListRoles,
                Op::kSignCert}) {
    EXPECT_NE(FindHandler(CallerKind::kWeb, op), nullptr) << OpName(op);
    EXPECT_NE(FindHandler(CallerKind::kRoot, op), nullptr) << OpName(op);
  }
  EXPECT_EQ(FindHandler(CallerKind::kWeb, Op::kAddKey), HandleAddKey);
}

}  // namespace
}  // namespace keyward::daemon
