// The configuration is read strictly: an unknown setting, a wrong type or a
// bad value is an error that names the setting.
#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace keyward::config {
namespace {

TEST(Config, EmptyObjectGivesDefaults) {
  auto c = ParseConfig("{}");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store_template, "%h/.ssh");
  EXPECT_EQ(c->authorized_keys_template, "%h/.ssh/authorized_keys");
  EXPECT_EQ(c->key_policy.min_rsa_bits, 2048u);
  EXPECT_EQ(c->key_policy.allowed.count(key::Algorithm::kDsa), 0u);
  EXPECT_EQ(c->key_policy.allowed.count(key::Algorithm::kEd25519), 1u);
}

TEST(Config, EverySetting) {
  auto c = ParseConfig(R"({
    // comments are allowed
    "store": "/var/lib/keyward/%u",
    "authorized_keys": "/var/lib/keyward/%u/authorized_keys",
    "key_policy": {"allowed": ["ed25519", "rsa"], "min_rsa_bits": 3072, "allow_certificates": false}
  })");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store_template, "/var/lib/keyward/%u");
  EXPECT_EQ(c->authorized_keys_template, "/var/lib/keyward/%u/authorized_keys");
  EXPECT_EQ(c->key_policy.allowed, (std::set<key::Algorithm>{key::Algorithm::kEd25519, key::Algorithm::kRsa}));
  EXPECT_EQ(c->key_policy.min_rsa_bits, 3072u);
  EXPECT_FALSE(c->key_policy.allow_certificates);

  auto percent = ParseConfig(R"({"store": "/srv/100%%/%h/%u"})");
  ASSERT_TRUE(percent) << percent.error().message;
  EXPECT_EQ(percent->store_template, "/srv/100%%/%h/%u");
}

// Each bad configuration must be refused with a message that names the
// setting at fault.
TEST(Config, RefusalsNameTheSetting) {
  struct Case {
    std::string json, names;
  };
  const std::vector<Case> cases = {
      {R"({"stor": "%h/.ssh"})", "\"stor\""},
      {R"({"authorised_keys": "%h/.ssh/authorized_keys"})", "\"authorised_keys\""},
      {R"({"store": "%h/.ssh", "extra": 1})", "\"extra\""},
      {R"({"store": 5})", "\"store\""},
      {R"({"store": null})", "\"store\""},
      {R"({"store": ["%h"]})", "\"store\""},
      {R"({"store": ""})", "\"store\""},
      {R"({"authorized_keys": true})", "\"authorized_keys\""},
      {R"({"authorized_keys": ""})", "\"authorized_keys\""},
      // Templates with bad % tokens.
      {R"({"store": "%x/.ssh"})", "\"store\""},
      {R"({"store": "/srv/%"})", "\"store\""},
      {R"({"store": "/srv/%U"})", "\"store\""},
      {R"({"store": "/srv/%d/%u"})", "\"store\""},
      {R"({"authorized_keys": "%h/.ssh/authorized_keys%"})", "\"authorized_keys\""},
      {R"({"authorized_keys": "%%%"})", "\"authorized_keys\""},
      {R"({"authorized_keys": "%h/%f"})", "\"authorized_keys\""},
      // The key policy.
      {R"({"key_policy": []})", "\"key_policy\""},
      {R"({"key_policy": "strict"})", "\"key_policy\""},
      {R"({"key_policy": {"alowed": ["ed25519"]}})", "\"key_policy.alowed\""},
      {R"({"key_policy": {"allowed": "ed25519"}})", "\"key_policy.allowed\""},
      {R"({"key_policy": {"allowed": [1]}})", "\"key_policy.allowed\""},
      {R"({"key_policy": {"allowed": []}})", "\"key_policy.allowed\""},
      {R"({"key_policy": {"allowed": ["ed25519", "rot13"]}})", "\"key_policy.allowed\""},
      {R"({"key_policy": {"allowed": ["ed25519,rsa"]}})", "\"key_policy.allowed\""},
      {R"({"key_policy": {"min_rsa_bits": "2048"}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"min_rsa_bits": 2048.5}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"min_rsa_bits": -2048}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"min_rsa_bits": 512}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"min_rsa_bits": 16385}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"min_rsa_bits": 4294969344}})", "\"key_policy.min_rsa_bits\""},
      {R"({"key_policy": {"allow_certificates": "yes"}})", "\"key_policy.allow_certificates\""},
      {R"({"key_policy": {"allow_certificates": 1}})", "\"key_policy.allow_certificates\""},
  };
  for (const Case& c : cases) {
    auto r = ParseConfig(c.json);
    EXPECT_FALSE(r) << "accepted " << c.json;
    if (r) continue;
    EXPECT_EQ(r.error().code, "bad_config") << c.json;
    EXPECT_NE(r.error().message.find(c.names), std::string::npos)
        << c.json << ": the message does not name " << c.names << ": " << r.error().message;
  }
}

TEST(Config, NotJsonOrNotAnObject) {
  for (std::string bad : std::vector<std::string>{"", "{", "store = %h/.ssh", "[]", "\"store\"", "42", "null", "{\"store\": \"%h\",}",
                          std::string("{\"store\": \"%h\"}\0", 16)}) {
    auto r = ParseConfig(bad);
    EXPECT_FALSE(r) << "accepted \"" << bad << "\"";
    if (!r) { EXPECT_EQ(r.error().code, "bad_config"); }
  }
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/keyward.conf").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(ConfigFile, LoadsAFileAndNamesItInErrors) {
  std::string path = dir_ + "/keyward.conf";
  {
    std::ofstream(path) << R"({"store": "/srv/keys/%u"})";
  }
  auto c = LoadConfig(path, true);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store_template, "/srv/keys/%u");
  {
    std::ofstream(path) << R"({"store": "/srv/keys/%u", "colour": "blue"})";
  }
  auto bad = LoadConfig(path, false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(path), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("\"colour\""), std::string::npos) << bad.error().message;
}

TEST_F(ConfigFile, MissingFile) {
  std::string path = dir_ + "/nonexistent.conf";
  auto defaults = LoadConfig(path, false);
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->store_template, "%h/.ssh");
  auto required = LoadConfig(path, true);
  EXPECT_FALSE(required);
}

// keywardd's settings share the schema.
TEST(Config, DaemonDefaults) {
  auto c = ParseConfig("{}");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->socket, "/run/keyward/keywardd.sock");
  EXPECT_EQ(c->token_ttl, 300);
  EXPECT_EQ(c->session_idle, 600);
  EXPECT_EQ(c->session_max, 3600);
  EXPECT_EQ(c->max_key_days, 0u);
  EXPECT_EQ(c->audit_log, "/var/log/keyward/audit.log");
  EXPECT_EQ(c->state_dir, "/var/lib/keyward");
  EXPECT_EQ(c->twilio_base_url, "https://api.twilio.com");
  EXPECT_EQ(c->accounts.source, AccountSource::kPasswd);
  EXPECT_EQ(c->codes.channel, Channel::kTwilio);
  EXPECT_EQ(c->alerts.channel, Channel::kSendmail);
  EXPECT_EQ(c->rate_limits.verify_tries, 5u);
  EXPECT_TRUE(c->admin_user.empty());
  EXPECT_TRUE(c->web_user.empty());
}

TEST(Config, EveryDaemonSetting) {
  auto c = ParseConfig(R"({
    "admin_user": "root", "web_user": "keyward-web", "group": "www-data",
    "socket": "/run/kw/s.sock", "token_ttl": 120, "session_idle": 300, "session_max": 900,
    "max_key_days": 90, "sms_number": "+15005550006", "twilio_sid": "AC123", "twilio_token": "tok",
    "twilio_base_url": "http://127.0.0.1:8000",
    "accounts": {"source": "directory", "path": "/srv/shared", "store": "%h/keys", "authorized_keys": "%h/ak"},
    "codes": {"channel": "command", "command": ["/usr/local/bin/send-code", "--quiet"]},
    "alerts": {"channel": "sendmail", "to": "ops@example.org", "sendmail": "/usr/lib/sendmail", "from": "kw@example.org"},
    "rate_limits": {"logins_per_account_per_hour": 3, "logins_per_client_per_hour": 7, "verify_tries": 4},
    "audit_log": "/var/log/kw.log", "state_dir": "/var/lib/kw"
  })");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin_user, "root");
  EXPECT_EQ(c->web_user, "keyward-web");
  EXPECT_EQ(c->group, "www-data");
  EXPECT_EQ(c->socket, "/run/kw/s.sock");
  EXPECT_EQ(c->token_ttl, 120);
  EXPECT_EQ(c->session_idle, 300);
  EXPECT_EQ(c->session_max, 900);
  EXPECT_EQ(c->max_key_days, 90u);
  EXPECT_EQ(c->sms_number, "+15005550006");
  EXPECT_EQ(c->twilio_sid, "AC123");
  EXPECT_EQ(c->twilio_token, "tok");
  EXPECT_EQ(c->twilio_base_url, "http://127.0.0.1:8000");
  EXPECT_EQ(c->accounts.source, AccountSource::kDirectory);
  EXPECT_EQ(c->accounts.path, "/srv/shared");
  EXPECT_EQ(c->accounts.store_template, "%h/keys");
  EXPECT_EQ(c->accounts.authorized_keys_template, "%h/ak");
  EXPECT_EQ(c->codes.channel, Channel::kCommand);
  EXPECT_EQ(c->codes.command, (std::vector<std::string>{"/usr/local/bin/send-code", "--quiet"}));
  EXPECT_EQ(c->alerts.channel, Channel::kSendmail);
  EXPECT_EQ(c->alerts.to, "ops@example.org");
  EXPECT_EQ(c->alerts.sendmail, "/usr/lib/sendmail");
  EXPECT_EQ(c->alerts.from, "kw@example.org");
  EXPECT_EQ(c->rate_limits.logins_per_account_per_hour, 3u);
  EXPECT_EQ(c->rate_limits.logins_per_client_per_hour, 7u);
  EXPECT_EQ(c->rate_limits.verify_tries, 4u);
  EXPECT_EQ(c->audit_log, "/var/log/kw.log");
  EXPECT_EQ(c->state_dir, "/var/lib/kw");
  EXPECT_TRUE(CheckDaemonConfig(*c));
}

TEST(Config, DaemonRefusalsNameTheSetting) {
  struct Case {
    std::string json, names;
  };
  const std::vector<Case> cases = {
      {R"({"admin_user": ""})", "\"admin_user\""},
      {R"({"admin_user": "Root"})", "\"admin_user\""},
      {R"({"web_user": "../www"})", "\"web_user\""},
      {R"({"web_user": 33})", "\"web_user\""},
      {R"({"group": "a b"})", "\"group\""},
      {R"({"socket": "run/keyward.sock"})", "\"socket\""},
      {R"({"socket": ""})", "\"socket\""},
      {R"({"token_ttl": "300"})", "\"token_ttl\""},
      {R"({"token_ttl": 0})", "\"token_ttl\""},
      {R"({"token_ttl": 300.5})", "\"token_ttl\""},
      {R"({"token_ttl": 86401})", "\"token_ttl\""},
      {R"({"session_idle": -1})", "\"session_idle\""},
      {R"({"session_max": 18446744073709551615})", "\"session_max\""},
      {R"({"session_idle": 900, "session_max": 600})", "\"session_max\""},
      {R"({"max_key_days": 36501})", "\"max_key_days\""},
      {R"({"sms_number": 15005550006})", "\"sms_number\""},
      {R"({"twilio_base_url": "ftp://x"})", "\"twilio_base_url\""},
      {R"({"accounts": "passwd"})", "\"accounts\""},
      {R"({"accounts": {}})", "\"accounts.source\""},
      {R"({"accounts": {"source": "ldap"}})", "\"accounts.source\""},
      {R"({"accounts": {"source": "directory"}})", "\"accounts.path\""},
      {R"({"accounts": {"source": "directory", "path": "srv"}})", "\"accounts.path\""},
      {R"({"accounts": {"source": "directory", "path": "/srv", "store": "%x"}})", "\"accounts.store\""},
      {R"({"accounts": {"source": "passwd", "path": "/srv"}})", "\"accounts\""},
      {R"({"accounts": {"source": "passwd", "colour": 1}})", "\"accounts.colour\""},
      {R"({"codes": {"channel": "pigeon"}})", "\"codes.channel\""},
      {R"({"codes": {"channel": "command"}})", "\"codes.command\""},
      {R"({"codes": {"channel": "command", "command": "/bin/send"}})", "\"codes.command\""},
      {R"({"codes": {"channel": "command", "command": ["send"]}})", "\"codes.command\""},
      {R"({"codes": {"channel": "command", "command": ["/bin/send", 1]}})", "\"codes.command\""},
      {R"({"codes": {"to": "x"}})", "\"codes.to\""},
      {R"({"alerts": {"sendmail": "sendmail"}})", "\"alerts.sendmail\""},
      {R"({"alerts": {"from": ""}})", "\"alerts.from\""},
      {R"({"alerts": []})", "\"alerts\""},
      {R"({"rate_limits": {"verify_tries": 0}})", "\"rate_limits.verify_tries\""},
      {R"({"rate_limits": {"verify_tries": 11}})", "\"rate_limits.verify_tries\""},
      {R"({"rate_limits": {"logins_per_hour": 5}})", "\"rate_limits.logins_per_hour\""},
      {R"({"rate_limits": {"logins_per_account_per_hour": "5"}})", "\"rate_limits.logins_per_account_per_hour\""},
      {R"({"audit_log": "audit.log"})", "\"audit_log\""},
      {R"({"state_dir": "/var/lib/../../etc"})", "\"state_dir\""},
  };
  for (const Case& c : cases) {
    auto r = ParseConfig(c.json);
    EXPECT_FALSE(r) << "accepted " << c.json;
    if (r) continue;
    EXPECT_EQ(r.error().code, "bad_config") << c.json;
    EXPECT_NE(r.error().message.find(c.names), std::string::npos)
        << c.json << ": the message does not name " << c.names << ": " << r.error().message;
  }
}

TEST(Config, TheTokenIsNeverRepeated) {
  auto r = ParseConfig("{\"twilio_token\": \"s3cr3t\\u0001tok\"}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("s3cr3t"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("\"twilio_token\""), std::string::npos);
}

TEST(Config, DaemonRequiredSettings) {
  struct Case {
    std::string json, names;
  };
  const std::vector<Case> cases = {
      {R"({"web_user": "w", "codes": {"channel": "console"}})", "\"admin_user\""},
      {R"({"admin_user": "root", "codes": {"channel": "console"}})", "\"web_user\""},
      {R"({"admin_user": "root", "web_user": "w"})", "\"twilio_sid\""},
      {R"({"admin_user": "root", "web_user": "w", "twilio_sid": "AC1"})", "\"twilio_token\""},
      {R"({"admin_user": "root", "web_user": "w", "twilio_sid": "AC1", "twilio_token": "t"})", "\"sms_number\""},
      {R"({"admin_user": "root", "web_user": "w", "codes": {"channel": "console"}, "alerts": {"channel": "twilio"},
           "twilio_sid": "AC1", "twilio_token": "t", "sms_number": "+15005550006"})", "\"alerts.to\""},
  };
  for (const Case& c : cases) {
    auto parsed = ParseConfig(c.json);
    ASSERT_TRUE(parsed) << c.json << ": " << parsed.error().message;
    auto r = CheckDaemonConfig(*parsed);
    EXPECT_FALSE(r) << "accepted " << c.json;
    if (!r) {
      EXPECT_NE(r.error().message.find(c.names), std::string::npos) << r.error().message;
    }
  }
  auto ok = ParseConfig(R"({"admin_user": "root", "web_user": "w", "codes": {"channel": "console"}})");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(CheckDaemonConfig(*ok));
}

TEST(Config, CaSection) {
  auto c = ParseConfig(R"({
    "ca": {
      "dir": "/srv/keyward/ca",
      "krl": "/etc/ssh/revoked.krl",
      "backdate": "2m",
      "roles": [
        {"name": "login", "principals": ["%u"], "max_validity": "7d",
         "extensions": ["permit-pty", "permit-agent-forwarding"], "accounts": ["*"]},
        {"name": "create-user", "principals": ["root"], "max_validity": 3600,
         "force_command": "/usr/local/sbin/create-user", "source_address": ["10.0.0.0/8", "2001:db8::/32"],
         "verify_required": true, "groups": ["admins"], "accounts": ["alice"]}
      ]
    }
  })");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca.dir, "/srv/keyward/ca");
  EXPECT_EQ(c->ca.krl, "/etc/ssh/revoked.krl");
  EXPECT_EQ(c->ca.backdate, 120);
  ASSERT_EQ(c->ca.roles.size(), 2u);
  const RoleConfig& login = c->ca.roles[0];
  EXPECT_EQ(login.name, "login");
  EXPECT_EQ(login.principals, std::vector<std::string>{"%u"});
  EXPECT_EQ(login.max_validity, 7 * 86400);
  EXPECT_EQ(login.extensions, (std::vector<std::string>{"permit-pty", "permit-agent-forwarding"}));
  EXPECT_EQ(login.accounts, std::vector<std::string>{"*"});
  EXPECT_TRUE(login.force_command.empty());
  const RoleConfig& create = c->ca.roles[1];
  EXPECT_EQ(create.name, "create-user");
  EXPECT_EQ(create.max_validity, 3600);
  EXPECT_EQ(create.force_command, "/usr/local/sbin/create-user");
  EXPECT_EQ(create.source_address, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_TRUE(create.verify_required);
  EXPECT_EQ(create.groups, std::vector<std::string>{"admins"});

  auto defaults = ParseConfig("{}");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->ca.dir, "/var/lib/keyward/ca");
  EXPECT_EQ(defaults->ca.backdate, 300);
  EXPECT_TRUE(defaults->ca.roles.empty());
  auto durations = ParseConfig(
      R"({"ca": {"roles": [{"name": "a", "principals": ["x"], "max_validity": "1w2d3h4m5s", "accounts": ["*"]}]}})");
  ASSERT_TRUE(durations) << durations.error().message;
  EXPECT_EQ(durations->ca.roles[0].max_validity, 9 * 86400 + 3 * 3600 + 4 * 60 + 5);
}

// Each bad "ca" setting is refused with the setting named.
TEST(Config, CaRefusalsNameTheSetting) {
  auto role = [](const std::string& fields) {
    return R"({"ca": {"roles": [{"name": "login", "principals": ["%u"], "accounts": ["*"])" + fields + "}]}}";
  };
  struct Case {
    std::string json, names;
  };
  const std::vector<Case> cases = {
      {R"({"ca": []})", "\"ca\""},
      {R"({"ca": {"directory": "/x"}})", "\"ca.directory\""},
      {R"({"ca": {"dir": "relative"}})", "\"ca.dir\""},
      {R"({"ca": {"krl": ""}})", "\"ca.krl\""},
      {R"({"ca": {"backdate": -1}})", "\"ca.backdate\""},
      {R"({"ca": {"backdate": "2y"}})", "\"ca.backdate\""},
      {R"({"ca": {"roles": {}}})", "\"ca.roles\""},
      {R"({"ca": {"roles": [5]}})", "\"ca.roles[0]\""},
      {R"({"ca": {"roles": [{"principals": ["%u"], "accounts": ["*"]}]}})", "\"ca.roles[0].name\""},
      {R"({"ca": {"roles": [{"name": "Login", "principals": ["%u"], "accounts": ["*"]}]}})", "\"ca.roles[0].name\""},
      {R"({"ca": {"roles": [{"name": "a b", "principals": ["%u"], "accounts": ["*"]}]}})", "\"ca.roles[0].name\""},
      {R"({"ca": {"roles": [{"name": "login", "accounts": ["*"]}]}})", "\"ca.roles.login.principals\""},
      {R"({"ca": {"roles": [{"name": "login", "principals": ["%u"]}]}})", "\"ca.roles.login\""},
      {role(R"(, "colour": "red")"), "\"ca.roles.login.colour\""},
      {role(R"(, "principals": [])"), "\"ca.roles.login.principals\""},
      {role(R"(, "principals": ["a,b"])"), "\"ca.roles.login.principals\""},
      {role(R"(, "principals": ["a b"])"), "\"ca.roles.login.principals\""},
      {role(R"(, "principals": ["%h"])"), "\"ca.roles.login.principals\""},
      {role(R"(, "principals": ["x%"])"), "\"ca.roles.login.principals\""},
      {role(R"(, "principals": ["%u", "%u"])"), "\"ca.roles.login.principals\""},
      {role(R"(, "max_validity": 10)"), "\"ca.roles.login.max_validity\""},
      {role(R"(, "max_validity": "7x")"), "\"ca.roles.login.max_validity\""},
      {role(R"(, "max_validity": "11000d")"), "\"ca.roles.login.max_validity\""},
      {role(R"(, "max_validity": true)"), "\"ca.roles.login.max_validity\""},
      {role(R"(, "force_command": ["ls"])"), "\"ca.roles.login.force_command\""},
      {role(R"(, "force_command": "ls\nrm")"), "\"ca.roles.login.force_command\""},
      {role(R"(, "force_command": "date +%s")"), "\"ca.roles.login.force_command\""},
      {role(R"(, "force_command": "echo 100%")"), "\"ca.roles.login.force_command\""},
      {role(R"(, "source_address": ["example.com"])"), "\"ca.roles.login.source_address\""},
      {role(R"(, "source_address": ["10.1.2.3/8"])"), "\"ca.roles.login.source_address\""},
      {role(R"(, "source_address": "10.0.0.0/8")"), "\"ca.roles.login.source_address\""},
      {role(R"(, "verify_required": "yes")"), "\"ca.roles.login.verify_required\""},
      {role(R"(, "extensions": ["permit-everything"])"), "\"ca.roles.login.extensions\""},
      {role(R"(, "extensions": ["permit-pty", "permit-pty"])"), "\"ca.roles.login.extensions\""},
      {role(R"(, "accounts": ["Alice"])"), "\"ca.roles.login.accounts\""},
      {role(R"(, "groups": ["wheel group"])"), "\"ca.roles.login.groups\""},
      {R"({"ca": {"roles": [{"name": "a", "principals": ["x"], "accounts": ["*"]},
                            {"name": "a", "principals": ["y"], "accounts": ["*"]}]}})",
       "\"ca.roles.a\""},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_NE(r.error().message.find(c.names), std::string::npos) << c.json << " -> " << r.error().message;
  }
  for (const char* extension : kCertificateExtensions) {
    EXPECT_TRUE(ParseConfig(role(R"(, "extensions": [")" + std::string(extension) + "\"]")));
  }
}

// keywardd --write-config: the sample parses, holds every setting, and
// gives exactly the defaults (but for the two required names).
TEST(Config, SampleHasEverySettingWithItsDefault) {
  std::string sample = SampleConfig();
  auto c = ParseConfig(sample);
  ASSERT_TRUE(c) << c.error().message << "\n" << sample;
  for (const char* name :
       {"\"store\"", "\"authorized_keys\"", "\"key_policy\"", "\"allowed\"", "\"min_rsa_bits\"",
        "\"allow_certificates\"", "\"admin_user\"", "\"web_user\"", "\"group\"", "\"socket\"", "\"token_ttl\"",
        "\"session_idle\"", "\"session_max\"", "\"max_key_days\"", "\"sms_number\"", "\"twilio_sid\"",
        "\"twilio_token\"", "\"twilio_base_url\"", "\"accounts\"", "\"source\"", "\"codes\"", "\"alerts\"",
        "\"channel\"", "\"command\"", "\"sendmail\"", "\"from\"", "\"to\"", "\"rate_limits\"",
        "\"logins_per_account_per_hour\"", "\"logins_per_client_per_hour\"", "\"verify_tries\"", "\"audit_log\"",
        "\"state_dir\"", "\"ca\"", "\"dir\"", "\"krl\"", "\"backdate\"", "\"roles\"", "\"principals\"",
        "\"max_validity\"", "\"force_command\"", "\"source_address\"", "\"verify_required\"",
        "\"extensions\"", "\"accounts\"", "\"groups\""}) {
    EXPECT_NE(sample.find(name), std::string::npos) << name;
  }
  const Config d;
  EXPECT_EQ(c->store_template, d.store_template);
  EXPECT_EQ(c->authorized_keys_template, d.authorized_keys_template);
  EXPECT_EQ(c->key_policy.allowed, d.key_policy.allowed);
  EXPECT_EQ(c->key_policy.min_rsa_bits, d.key_policy.min_rsa_bits);
  EXPECT_EQ(c->socket, d.socket);
  EXPECT_EQ(c->token_ttl, d.token_ttl);
  EXPECT_EQ(c->session_idle, d.session_idle);
  EXPECT_EQ(c->session_max, d.session_max);
  EXPECT_EQ(c->codes.channel, d.codes.channel);
  EXPECT_EQ(c->codes.sendmail, d.codes.sendmail);
  EXPECT_EQ(c->alerts.channel, d.alerts.channel);
  EXPECT_EQ(c->alerts.from, d.alerts.from);
  EXPECT_EQ(c->rate_limits.logins_per_client_per_hour, d.rate_limits.logins_per_client_per_hour);
  EXPECT_EQ(c->audit_log, d.audit_log);
  EXPECT_EQ(c->state_dir, d.state_dir);
  EXPECT_EQ(c->twilio_base_url, d.twilio_base_url);
  EXPECT_EQ(c->ca.dir, d.ca.dir);
  EXPECT_EQ(c->ca.krl, d.ca.krl);
  EXPECT_EQ(c->ca.backdate, d.ca.backdate);
  EXPECT_TRUE(c->ca.roles.empty());
  EXPECT_EQ(c->admin_user, "root");
  EXPECT_EQ(c->web_user, "keyward-web");
}

}  // namespace
}  // namespace keyward::config
