// The ca commands, run in process on a temporary CA: sign writes
// KEY-cert.pub and records it; every refusal leaves the CA untouched; inspect
// reads files as ssh-keygen -L does.
#include "cli/ca_commands.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "ca/ca_store.h"
#include "ca/ca_test_util.h"
#include "ca/issuance_log.h"
#include "ca/serial_counter.h"

namespace keyward::cli {
namespace {

using ca::testing::MakeKey;
using ca::testing::TempCaDir;

class CaCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_.Write("keyward.conf", R"({"ca": {"roles": [
      {"name": "login", "principals": ["%u"], "max_validity": "1d", "extensions": ["permit-pty"], "accounts": ["alice"]}
    ]}})");
    where_.config_path = tmp_.Path("keyward.conf");
    where_.ca_dir = tmp_.Path("ca");
    CaInitRequest init;
    init.where = where_;
    CommandOutput out = RunCaInit(init);
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_NE(out.out.find("TrustedUserCAKeys " + tmp_.Path("ca/user_ca.pub")), std::string::npos) << out.out;
    tmp_.Write("alice.pub", MakeKey(key::Algorithm::kEd25519).ToText() + " alice@laptop\n");
  }

  CaSignRequest Sign() const {
    CaSignRequest r;
    r.where = where_;
    r.key_files = {tmp_.Path("alice.pub")};
    r.requested_by = "test";
    r.client = "local";
    r.quiet = true;
    return r;
  }

  // The counter and the log: what a refusal must not change.
  std::pair<std::string, std::string> State() const {
    return {tmp_.Read("ca/serial"), tmp_.Exists("ca/issued.log") ? tmp_.Read("ca/issued.log") : ""};
  }

  TempCaDir tmp_;
  CaWhere where_;
};

TEST_F(CaCommandsTest, SignsWithAndWithoutARole) {
  CaSignRequest manual = Sign();
  manual.principals = "alice,root";
  manual.validity = "+1h";
  manual.options = {"force-command=uptime", "permit-pty"};
  manual.quiet = false;
  CommandOutput out = RunCaSign(manual);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.err.find("Signed user key " + tmp_.Path("alice-cert.pub") + ": id \"keyward:-:-:1\" serial 1 for "
                         "alice,root valid from "),
            std::string::npos)
      << out.err;
  std::string cert = tmp_.Read("alice-cert.pub");
  EXPECT_TRUE(cert.starts_with("ssh-ed25519-cert-v01@openssh.com AAAA")) << cert;
  EXPECT_TRUE(cert.ends_with(" alice@laptop\n")) << cert;

  CommandOutput shown = InspectCertificates(cert, "alice-cert.pub", false);
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_TRUE(shown.out.starts_with("alice-cert.pub:\n        Type: ssh-ed25519-cert-v01@openssh.com user certificate\n"));
  EXPECT_NE(shown.out.find("                force-command uptime\n"), std::string::npos) << shown.out;

  CaSignRequest role = Sign();
  role.role = "login";
  role.account = "alice";
  out = RunCaSign(role);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  shown = InspectCertificates(tmp_.Read("alice-cert.pub"), "x", true);
  EXPECT_NE(shown.out.find("Key ID: \"keyward:alice:login:2\""), std::string::npos) << shown.out;
  EXPECT_TRUE(shown.out.starts_with("(stdin):1:\n"));

  CaListRequest list;
  list.where = where_;
  CommandOutput listed = RunCaList(list);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("keyward:alice:login:2"), std::string::npos) << listed.out;
  list.json = true;
  list.account = "alice";
  listed = RunCaList(list);
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 3) << listed.out;  // [, one record, ]
}

TEST_F(CaCommandsTest, RefusalsChangeNothing) {
  tmp_.Write("private", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
  struct Case {
    std::string name;
    std::function<void(CaSignRequest&)> change;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"private key", [&](CaSignRequest& r) { r.key_files = {tmp_.Path("private")}; }, "private key"},
      {"no principals", [](CaSignRequest& r) { r.principals.clear(); }, "-n"},
      {"no validity", [](CaSignRequest& r) { r.validity.clear(); }, "-V"},
      {"space", [](CaSignRequest& r) { r.principals = "alice bob"; }, "white space"},
      {"bad cidr", [](CaSignRequest& r) { r.options = {"source-address=10.0.0.1/8"}; }, "source-address"},
      {"unknown option", [](CaSignRequest& r) { r.options = {"permit-all"}; }, "unknown certificate option"},
      {"unknown role",
       [](CaSignRequest& r) {
         r.principals.clear();
         r.role = "root";
       },
       "unknown role"},
      {"role not allowed",
       [](CaSignRequest& r) {
         r.principals.clear();
         r.role = "login";
         r.account = "bob";
       },
       "may not"},
      {"too long for the role",
       [](CaSignRequest& r) {
         r.principals.clear();
         r.role = "login";
         r.account = "alice";
         r.validity = "+2d";
       },
       "at most"},
      {"host with role",
       [](CaSignRequest& r) {
         r.principals.clear();
         r.role = "login";
         r.host = true;
       },
       "roles are for user certificates"},
  };
  const auto before = State();
  for (const auto& c : cases) {
    CaSignRequest r = Sign();
    r.principals = "alice";
    r.validity = "+1h";
    c.change(r);
    CommandOutput out = RunCaSign(r);
    EXPECT_NE(out.exit_code, 0) << c.name;
    EXPECT_NE(out.err.find(c.says), std::string::npos) << c.name << ": " << out.err;
    EXPECT_EQ(State(), before) << c.name;
    EXPECT_FALSE(tmp_.Exists("alice-cert.pub")) << c.name;
  }
}

TEST_F(CaCommandsTest, InitNeverReplaces) {
  const std::string key = tmp_.Read("ca/user_ca");
  CaInitRequest init;
  init.where = where_;
  init.type = "rsa";
  init.bits = 2048;
  CommandOutput out = RunCaInit(init);
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("never replaces"), std::string::npos) << out.err;
  EXPECT_EQ(tmp_.Read("ca/user_ca"), key);
  init.host = true;
  out = RunCaInit(init);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("@cert-authority * ssh-rsa AAAA"), std::string::npos) << out.out;
}

TEST(CaCommands, InspectLikeSshKeygen) {
  CommandOutput none = InspectCertificates("# only a comment\n", "f", false);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(none.out.empty());
  CommandOutput plain = InspectCertificates(MakeKey(key::Algorithm::kEd25519).ToText() + "\n\n", "f", false);
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_EQ(plain.err, "f:1 is not a certificate\nf:2: invalid key: invalid format\n");
  EXPECT_EQ(RunCaInspect("/nonexistent/keyward/cert").exit_code, 255);
}

TEST(CaCommands, CertificatePaths) {
  EXPECT_EQ(CertificatePathFor("id_ed25519.pub"), "id_ed25519-cert.pub");
  EXPECT_EQ(CertificatePathFor("/home/a/.ssh/id.pub"), "/home/a/.ssh/id-cert.pub");
  EXPECT_EQ(CertificatePathFor("key"), "key-cert.pub");
  EXPECT_EQ(CertificatePathFor("a.pub.pub"), "a.pub-cert.pub");
}

}  // namespace
}  // namespace keyward::cli
