// Every account's revoked/ keys are gathered; a broken store or file is a
// warning, never the end of the build.
#include "krl/account_keys.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::RandomKey;

class AccountKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/keyward-ak-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    top_ = dir_template;
    chmod(top_.c_str(), 0755);
    config_.accounts.source = config::AccountSource::kDirectory;
    config_.accounts.path = top_ + "/accounts";
    mkdir(config_.accounts.path.c_str(), 0755);
  }
  void TearDown() override { std::filesystem::remove_all(top_); }

  std::string Store(const std::string& account) {
    std::string dir = config_.accounts.path + "/" + account;
    mkdir(dir.c_str(), 0755);
    mkdir((dir + "/users").c_str(), 0755);
    mkdir((dir + "/revoked").c_str(), 0755);
    return dir;
  }
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    chmod(path.c_str(), 0644);
  }

  std::string top_;
  config::Config config_;
};

TEST_F(AccountKeysTest, GathersEveryKeyOfEveryRevokedFolder) {
  auto a1 = RandomKey(), a2 = RandomKey(), b1 = RandomKey(), active = RandomKey();
  std::string alice = Store("alice"), bob = Store("bob");
  Write(alice + "/revoked/alice@example.com+laptop+20260101+01.pub", a1.ToText() + " alice@example.com\n");
  Write(alice + "/revoked/hand-made.pub", "# two keys\n" + a2.ToText() + "\nrestrict " + a1.ToText() + "\n");
  Write(alice + "/users/alice@example.com+phone+20260101+01.pub", active.ToText() + "\n");
  Write(bob + "/revoked/bob@example.com+old+20250101+01.pub", "expiry-time=\"20250101\" " + b1.ToText() + "\n");
  Write(bob + "/revoked/.tmp-123", "ignored temporary file");

  AccountRevokedKeys got = RevokedKeysOfAccounts(config_);
  EXPECT_EQ(got.accounts, 2u);
  EXPECT_TRUE(got.warnings.empty()) << got.warnings[0];
  auto has = [&](const key::PublicKey& k) {
    for (const auto& b : got.keys) {
      if (Equal(b, k.plain_blob())) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(a1));
  EXPECT_TRUE(has(a2));
  EXPECT_TRUE(has(b1));
  EXPECT_FALSE(has(active));
  EXPECT_EQ(got.keys.size(), 4u);  // a1 twice: duplicates merge in the KRL
}

TEST_F(AccountKeysTest, BrokenStoresAndFilesAreWarningsAndTheRestIsRead) {
  auto good = RandomKey();
  std::string alice = Store("alice");
  Write(alice + "/revoked/broken.pub", "ssh-ed25519 AAAA-not-base64\n");
  Write(alice + "/revoked/empty.pub", "\n");
  Write(alice + "/revoked/good.pub", good.ToText() + "\n");
  std::string world_writable = Store("carol");
  chmod((world_writable + "/revoked").c_str(), 0777);
  std::string no_revoked = config_.accounts.path + "/dave";
  mkdir(no_revoked.c_str(), 0755);
  symlink("/etc", (config_.accounts.path + "/eve").c_str());           // a symlink is no account
  Write(config_.accounts.path + "/file", "not a folder");              // nor a file
  mkdir((config_.accounts.path + "/Bad..Name").c_str(), 0755);         // nor a bad name

  AccountRevokedKeys got = RevokedKeysOfAccounts(config_);
  ASSERT_EQ(got.keys.size(), 1u);
  EXPECT_TRUE(Equal(got.keys[0], good.plain_blob()));
  EXPECT_EQ(got.accounts, 1u);
  std::string all;
  for (const auto& w : got.warnings) all += w + "\n";
  EXPECT_NE(all.find("broken.pub"), std::string::npos) << all;
  EXPECT_NE(all.find("empty.pub"), std::string::npos) << all;
  EXPECT_NE(all.find("carol"), std::string::npos) << all;
  EXPECT_NE(all.find("dave"), std::string::npos) << all;
  EXPECT_EQ(all.find("eve"), std::string::npos) << all;
}

TEST_F(AccountKeysTest, AMissingAccountsFolderIsAWarning) {
  config_.accounts.path = top_ + "/nowhere";
  AccountRevokedKeys got = RevokedKeysOfAccounts(config_);
  EXPECT_TRUE(got.keys.empty());
  ASSERT_EQ(got.warnings.size(), 1u);
}

TEST_F(AccountKeysTest, AStoreTemplateInsideTheFolderIsFollowed) {
  config_.accounts.store_template = "%h/keys";
  auto k = RandomKey();
  std::string dir = config_.accounts.path + "/frank";
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/keys").c_str(), 0755);
  mkdir((dir + "/keys/revoked").c_str(), 0755);
  Write(dir + "/keys/revoked/k.pub", k.ToText() + "\n");
  mkdir((config_.accounts.path + "/gina").c_str(), 0755);  // no store: counted, not warned
  AccountRevokedKeys got = RevokedKeysOfAccounts(config_);
  ASSERT_EQ(got.keys.size(), 1u);
  EXPECT_EQ(got.without_store, 1u);
  EXPECT_TRUE(got.warnings.empty());
}

}  // namespace
}  // namespace keyward::krl
