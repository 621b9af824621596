// The handlers against a demo installation (directory accounts alice and
// bob), with codes and alerts written to a file the test reads.
#include "daemon/handlers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "daemon/background.h"
#include "daemon/demo.h"

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
  WaitForBackgroundJobs(5);
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

TEST(DispatchTables, EveryCallerKindHasItsHandlers) {
  for (Op op : {Op::kLogin, Op::kVerify, Op::kListKeys, Op::kAddKey, Op::kRevokeKey, Op::kLogout}) {
    EXPECT_NE(FindHandler(CallerKind::kWeb, op), nullptr) << OpName(op);
    EXPECT_NE(FindHandler(CallerKind::kRoot, op), nullptr) << OpName(op);
  }
  EXPECT_EQ(FindHandler(CallerKind::kWeb, Op::kAddKey), HandleAddKey);
}

}  // namespace
}  // namespace keyward::daemon
