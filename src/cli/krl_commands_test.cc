// The KRL commands: check prints what ssh-keygen -Q prints, build and
// ca revoke write the KRL with an increasing version from the revocation
// list, the accounts' revoked/ keys and spec files.
#include "cli/krl_commands.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs/read_file.h"
#include "krl/check.h"
#include "krl/encode.h"
#include "krl/krl_test_keys.h"
#include "krl/parse.h"

namespace keyward::cli {
namespace {

using krl::testing::MakeCert;
using krl::testing::RandomKey;
using krl::testing::TestSigner;

class KrlCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/keyward-krlcli-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    chmod(dir_.c_str(), 0755);
    mkdir((dir_ + "/accounts").c_str(), 0755);
    mkdir((dir_ + "/ca").c_str(), 0700);
    mkdir((dir_ + "/out").c_str(), 0755);
    mkdir((dir_ + "/log").c_str(), 0700);
    Write("keyward.conf", "{\"accounts\": {\"source\": \"directory\", \"path\": \"" + dir_ +
                              "/accounts\"}, \"audit_log\": \"" + dir_ + "/log/audit.log\"}\n");
    Write("ca/user_ca.pub", user_ca_.PublicKey().ToText() + " user-ca\n");
    Write("ca/host_ca.pub", host_ca_.PublicKey().ToText() + " host-ca\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), 0644);
    return path;
  }
  std::string Read(const std::string& name) {
    auto text = fs::ReadFileOrStdin(dir_ + "/" + name);
    return text ? *text : std::string();
  }
  krl::Krl ReadKrl() {
    auto krl = krl::ParseKrl(AsBytes(Read("out/revoked.krl")));
    EXPECT_TRUE(krl.has_value()) << krl.error().message;
    return krl ? *krl : krl::Krl{};
  }
  KrlBuildRequest Build() {
    KrlBuildRequest r;
    r.config_path = dir_ + "/keyward.conf";
    r.ca_dir = dir_ + "/ca";
    r.out = dir_ + "/out/revoked.krl";
    return r;
  }
  CaRevokeRequest Revoke() {
    CaRevokeRequest r;
    r.config_path = dir_ + "/keyward.conf";
    r.ca_dir = dir_ + "/ca";
    r.out = dir_ + "/out/revoked.krl";
    return r;
  }
  std::string WriteKrl(const std::string& name, const krl::Krl& krl) {
    auto bytes = krl::EncodeKrl(krl);
    EXPECT_TRUE(bytes.has_value());
    return Write(name, std::string(AsText(*bytes)));
  }

  std::string dir_;
  TestSigner user_ca_, host_ca_;
};

TEST_F(KrlCommandsTest, CheckPrintsLikeSshKeygenQ) {
  auto revoked = RandomKey(), fine = RandomKey();
  krl::KrlBuilder b;
  b.RevokeKeyExplicit(revoked);
  std::string krl = WriteKrl("k.krl", std::move(b).Finish());
  std::string with_comment = Write("a.pub", revoked.ToText() + " alice@example\n");
  std::string without = Write("b.pub", fine.ToText() + "\n");
  KrlCheckRequest r{krl, {with_comment, without}, 0};
  CommandOutput out = RunKrlCheck(r);
  EXPECT_EQ(out.out, with_comment + " (alice@example): REVOKED\n" + without + " (" + without + "): ok\n");
  EXPECT_EQ(out.err, "");
  EXPECT_EQ(out.exit_code, 1);

  r.keys = {without};
  EXPECT_EQ(RunKrlCheck(r).exit_code, 0);
  r.keys = {};
  EXPECT_EQ(RunKrlCheck(r).out, "");
  EXPECT_EQ(RunKrlCheck(r).exit_code, 0);
}

TEST_F(KrlCommandsTest, CheckFindsTheDotPubBesideAPrivateKey) {
  auto k = RandomKey();
  krl::KrlBuilder b;
  std::string krl = WriteKrl("k.krl", std::move(b).Finish());
  Write("id", "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n");
  Write("id.pub", k.ToText() + "\n");
  CommandOutput out = RunKrlCheck({krl, {dir_ + "/id"}, 0});
  EXPECT_EQ(out.out, dir_ + "/id (" + dir_ + "/id.pub): ok\n");
}

TEST_F(KrlCommandsTest, CheckDiesOnAKeyItCannotLoadAndLosesWhatStdioHadNotFlushed) {
  krl::KrlBuilder b;
  std::string krl = WriteKrl("k.krl", std::move(b).Finish());
  std::string key = Write("a.pub", RandomKey().ToText() + " c\n");
  std::string missing = dir_ + "/missing.pub";
  CommandOutput terminal = RunKrlCheck({krl, {key, missing, key}, 0});
  EXPECT_EQ(terminal.exit_code, 255);
  EXPECT_EQ(terminal.out, key + " (c): ok\n");
  EXPECT_EQ(terminal.err, "Cannot load public key " + missing + ": No such file or directory\r\n");
  CommandOutput piped = RunKrlCheck({krl, {key, missing}, 4096});
  EXPECT_EQ(piped.out, "");
  EXPECT_EQ(piped.exit_code, 255);
}

TEST_F(KrlCommandsTest, CheckRefusesABrokenKrlAsSshKeygenDoes) {
  std::string key = Write("a.pub", RandomKey().ToText() + "\n");
  CommandOutput missing = RunKrlCheck({dir_ + "/none.krl", {key}, 0});
  EXPECT_EQ(missing.err, "Unable to load KRL " + dir_ + "/none.krl: No such file or directory\r\n");
  EXPECT_EQ(missing.exit_code, 255);
  std::string bad = Write("bad.krl", std::string("SSHKRL\n\0", 8) + std::string("\0\0\0\1", 4));
  CommandOutput torn = RunKrlCheck({bad, {key}, 0});
  EXPECT_EQ(torn.err, "Invalid KRL file " + bad + ": incomplete message\r\n");
  EXPECT_EQ(torn.out, "");
  EXPECT_EQ(torn.exit_code, 255);
  std::string odd = Write("odd.krl", std::string("SSHKRL\n\0", 8) + std::string("\0\0\0\1", 4) + std::string(24, '\0') +
                                         std::string(8, '\0') + "\x42" + std::string(4, '\0'));
  CommandOutput unknown = RunKrlCheck({odd, {key}, 0});
  EXPECT_EQ(unknown.err, "Unsupported KRL section 66\r\nInvalid KRL file " + odd + ": invalid format\r\n");
}

TEST_F(KrlCommandsTest, ShowListsEverySection) {
  auto ca = user_ca_.PublicKey();
  krl::KrlBuilder b;
  ASSERT_TRUE(b.RevokeSerials(&ca, 5, 9));
  ASSERT_TRUE(b.RevokeSerials(&ca, 42, 42));
  ASSERT_TRUE(b.RevokeKeyId(nullptr, "evil\nid"));
  auto k = RandomKey();
  b.RevokeKeyExplicit(k);
  b.RevokeBlob(Bytes{1, 2, 3});
  b.RevokeKeySha256(k);
  b.RevokeKeySha1(k);
  krl::Krl krl = std::move(b).Finish();
  krl.version = 7;
  krl.generated_date = 1763712000;
  std::string text = FormatKrlListing(krl);
  for (const std::string& want :
       {std::string("# KRL version 7\n"), std::string("# Generated at 2025-11-21T08:00:00Z\n"),
        "# CA key ssh-ed25519 " + key::Fingerprint(ca) + "\nserial: 5-9\nserial: 42\n",
        std::string("# Certificates of any CA\nid: evil\\012id\n"), "key: " + k.ToText() + " # " + key::Fingerprint(k) + "\n",
        std::string("# a blob of 3 bytes that is not a valid key"), "hash: " + key::Fingerprint(k) + "\n",
        std::string("# sha1: ")}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n---\n" << text;
  }
}

TEST_F(KrlCommandsTest, BuildTakesAccountsAndSpecsAndCountsVersionsUp) {
  auto revoked_in_store = RandomKey();
  mkdir((dir_ + "/accounts/alice").c_str(), 0755);
  mkdir((dir_ + "/accounts/alice/users").c_str(), 0755);
  mkdir((dir_ + "/accounts/alice/revoked").c_str(), 0755);
  Write("accounts/alice/revoked/alice@example.com+laptop+20260101+01.pub", revoked_in_store.ToText() + "\n");
  Write("spec", "serial: 100-200\nid: old-laptop\n");

  KrlBuildRequest r = Build();
  r.specs = {dir_ + "/spec"};
  r.spec_ca = dir_ + "/ca/user_ca.pub";
  CommandOutput out = RunKrlBuild(r);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("KRL version 1"), std::string::npos) << out.out;
  krl::Krl krl = ReadKrl();
  EXPECT_EQ(krl.version, 1u);
  EXPECT_TRUE(krl::IsRevoked(krl, revoked_in_store));
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 150, "x")));
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 1, "old-laptop")));
  EXPECT_FALSE(krl::IsRevoked(krl, MakeCert(host_ca_, RandomKey(), 150, "x")));
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/out/revoked.krl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  ASSERT_EQ(RunKrlBuild(r).exit_code, 0);
  EXPECT_EQ(ReadKrl().version, 2u);

  r.no_accounts = true;
  r.specs.clear();
  ASSERT_EQ(RunKrlBuild(r).exit_code, 0);
  krl = ReadKrl();
  EXPECT_EQ(krl.version, 3u);
  EXPECT_FALSE(krl::IsRevoked(krl, revoked_in_store));
}

TEST_F(KrlCommandsTest, BuildRefusesABadSpecAndLeavesTheKrlAlone) {
  KrlBuildRequest r = Build();
  ASSERT_EQ(RunKrlBuild(r).exit_code, 0);
  const std::string before = Read("out/revoked.krl");
  Write("spec", "serial: 5\n");
  r.specs = {dir_ + "/spec"};  // no CA given
  CommandOutput out = RunKrlBuild(r);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("requires specification of a CA key"), std::string::npos) << out.err;
  EXPECT_EQ(Read("out/revoked.krl"), before);
}

TEST_F(KrlCommandsTest, ACorruptKrlInPlaceIsReplacedWithATimeVersion) {
  Write("out/revoked.krl", "SSHKRL\n");
  KrlBuildRequest r = Build();
  r.now = 1763712000;
  CommandOutput out = RunKrlBuild(r);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.err.find("warning"), std::string::npos);
  EXPECT_EQ(ReadKrl().version, 1763712000u);
  ASSERT_EQ(RunKrlBuild(r).exit_code, 0);
  EXPECT_EQ(ReadKrl().version, 1763712001u);
}

TEST_F(KrlCommandsTest, CaRevokeRecordsAndRebuilds) {
  auto key = RandomKey();
  auto cert_by_key = MakeCert(user_ca_, RandomKey(), 900, "by-file");
  std::string key_file = Write("lost.pub", "# lost laptop\n" + key.ToText() + " lost\n" + cert_by_key.ToText() + "\n");
  CaRevokeRequest r = Revoke();
  r.serials = {"5", "10-20"};
  r.key_ids = {"alice-laptop"};
  r.key_files = {key_file};
  CommandOutput out = RunCaRevoke(r);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("revoked serial 5 of the user CA"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("revoked serials 10-20 of the user CA"), std::string::npos) << out.out;
  krl::Krl krl = ReadKrl();
  EXPECT_EQ(krl.version, 1u);
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 5, "x")));
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 15, "x")));
  EXPECT_FALSE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 6, "x")));
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 6, "alice-laptop")));
  EXPECT_FALSE(krl::IsRevoked(krl, MakeCert(host_ca_, RandomKey(), 5, "alice-laptop")));
  EXPECT_TRUE(krl::IsRevoked(krl, key));
  EXPECT_TRUE(krl::IsRevoked(krl, cert_by_key));

  // Host certificates go under the host CA, and the list keeps both.
  CaRevokeRequest host = Revoke();
  host.host = true;
  host.serials = {"6"};
  ASSERT_EQ(RunCaRevoke(host).exit_code, 0);
  krl = ReadKrl();
  EXPECT_EQ(krl.version, 2u);
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(host_ca_, RandomKey(), 6, "h")));
  EXPECT_FALSE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 6, "h")));
  EXPECT_TRUE(krl::IsRevoked(krl, MakeCert(user_ca_, RandomKey(), 5, "x")));

  // A plain krl build keeps what ca revoke recorded.
  ASSERT_EQ(RunKrlBuild(Build()).exit_code, 0);
  EXPECT_TRUE(krl::IsRevoked(ReadKrl(), MakeCert(user_ca_, RandomKey(), 5, "x")));

  std::string list = Read("ca/revocations");
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n'), 6);
  std::string audit = Read("log/audit.log");
  EXPECT_NE(audit.find("\"action\":\"ca-revoke\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("serials 10-20 of the user CA"), std::string::npos) << audit;
}

TEST_F(KrlCommandsTest, CaRevokeRefusesBadArgumentsAndRecordsNothing) {
  struct Case {
    const char* name;
    CaRevokeRequest request;
  };
  std::vector<Case> cases;
  cases.push_back({"nothing", Revoke()});
  for (const char* s : {"0", "0-5", "9-5", "x", "5-", "-5", "1.5", "18446744073709551616", " 5"}) {
    CaRevokeRequest r = Revoke();
    r.serials = {s};
    cases.push_back({s, r});
  }
  CaRevokeRequest empty_id = Revoke();
  empty_id.key_ids = {""};
  cases.push_back({"empty key id", empty_id});
  CaRevokeRequest bad_utf8 = Revoke();
  bad_utf8.key_ids = {"\xff"};
  cases.push_back({"key id not UTF-8", bad_utf8});
  CaRevokeRequest no_key = Revoke();
  no_key.key_files = {Write("nokey.pub", "# nothing\n")};
  cases.push_back({"key file without a key", no_key});
  CaRevokeRequest private_key = Revoke();
  private_key.key_files = {Write("id", "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n")};
  cases.push_back({"private key", private_key});
  CaRevokeRequest no_ca = Revoke();
  no_ca.ca_dir = dir_ + "/no-ca";
  no_ca.serials = {"5"};
  cases.push_back({"no CA", no_ca});
  for (const auto& c : cases) {
    CommandOutput out = RunCaRevoke(c.request);
    EXPECT_NE(out.exit_code, 0) << c.name;
    EXPECT_FALSE(out.err.empty()) << c.name;
  }
  EXPECT_EQ(Read("ca/revocations"), "");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/revoked.krl"));
}

TEST_F(KrlCommandsTest, CaRevokeKeepsAndAuditsWhatItRecordedWhenTheBuildFails) {
  Write("ca/revocations", "{\"broken\n");  // a damaged list: the build stops on it
  CaRevokeRequest r = Revoke();
  r.serials = {"77"};
  CommandOutput out = RunCaRevoke(r);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.out.find("revoked serial 77"), std::string::npos) << out.out;
  EXPECT_NE(out.err.find("line 1 of the revocation list"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("run `keyward krl build`"), std::string::npos) << out.err;
  EXPECT_NE(Read("ca/revocations").find("\"serials\":[77,77]"), std::string::npos);
  EXPECT_NE(Read("log/audit.log").find("serial 77 of the user CA"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/revoked.krl"));
}

TEST(ParseSerialArgument, DecimalSerialsAndRanges) {
  std::uint64_t a = 0, b = 0;
  EXPECT_TRUE(ParseSerialArgument("7", a, b));
  EXPECT_EQ(a, 7u);
  EXPECT_EQ(b, 7u);
  EXPECT_TRUE(ParseSerialArgument("3-18446744073709551615", a, b));
  EXPECT_EQ(a, 3u);
  EXPECT_EQ(b, 18446744073709551615u);
  EXPECT_TRUE(ParseSerialArgument("4-4", a, b));
  for (const char* bad : {"", "0", "-", "1-", "-1", "a", "0x10", "1--2", "2-1", "18446744073709551616"}) {
    EXPECT_FALSE(ParseSerialArgument(bad, a, b)) << bad;
  }
}

}  // namespace
}  // namespace keyward::cli
