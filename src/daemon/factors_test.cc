// The factor files count only when they follow the rules: a regular file,
// owned by the account, mode 0600, one valid value.
#include "daemon/factors.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "factor/base32.h"

namespace keyward::daemon {
namespace {

class FactorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-factors-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  void Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string path = home_ + "/" + name;
    std::ofstream(path) << text;
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
  Factors Read(const std::string& email_file = kDirectoryEmailFile) {
    auto f = ReadFactors(home_, geteuid(), email_file);
    EXPECT_TRUE(f);
    return f ? std::move(*f) : Factors{};
  }

  std::string home_;
};

TEST_F(FactorsTest, NoFilesNoFactorsNoComplaints) {
  Factors f = Read();
  EXPECT_TRUE(f.phone.empty());
  EXPECT_TRUE(f.email.empty());
  EXPECT_TRUE(f.totp_secret.empty());
  EXPECT_TRUE(f.ignored.empty());
}

TEST_F(FactorsTest, GoodFilesCount) {
  Write(".phonenumber", "+4915112345678\n");
  Write("email", "alice@example.org\r\n");
  ASSERT_EQ(mkdir((home_ + "/.keyward").c_str(), 0700), 0);
  Bytes secret(20, 7);
  Write(".keyward/totp", factor::Base32Encode(secret) + "\n");
  Factors f = Read();
  EXPECT_EQ(f.phone, "+4915112345678");
  EXPECT_EQ(f.email, "alice@example.org");
  EXPECT_EQ(f.totp_secret, secret);
  EXPECT_TRUE(f.ignored.empty()) << f.ignored.front();

  // The same over the pipe.
  auto back = FactorsFromJson(FactorsToJson(f));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->phone, f.phone);
  EXPECT_EQ(back->email, f.email);
  EXPECT_EQ(back->totp_secret, secret);
}

TEST_F(FactorsTest, PasswdAccountsKeepTheirAddressUnderDotKeyward) {
  ASSERT_EQ(mkdir((home_ + "/.keyward").c_str(), 0700), 0);
  Write(".keyward/email", "alice@example.org\n");
  EXPECT_EQ(Read(kPasswdEmailFile).email, "alice@example.org");
  EXPECT_TRUE(Read(kDirectoryEmailFile).email.empty());
}

TEST_F(FactorsTest, WrongModesAreIgnored) {
  for (mode_t mode : {0644, 0640, 0604, 0400, 0700, 0660}) {
    Write(".phonenumber", "+4915112345678\n", mode);
    Factors f = Read();
    EXPECT_TRUE(f.phone.empty()) << std::oct << mode;
    ASSERT_EQ(f.ignored.size(), 1u);
  }
}

TEST_F(FactorsTest, BadValuesAreIgnored) {
  for (std::string text : {"", "\n", "4915112345678", "+49 151 12345678", "+1234567", "+1234567890123456",
                           "+0123456789", "+4915112345678\n+4915112345679\n", "+4915112345678x"}) {
    Write(".phonenumber", text);
    Factors f = Read();
    EXPECT_TRUE(f.phone.empty()) << text;
    EXPECT_EQ(f.ignored.size(), 1u) << text;
  }
  for (std::string text : {"alice", "-oQ/etc/x@example.org", "a@b.c d@e.f", "alice@example.org\nbob@example.org"}) {
    Write("email", text);
    EXPECT_TRUE(Read().email.empty()) << text;
  }
}

TEST_F(FactorsTest, SymlinksFifosAndHardLinksAreIgnored) {
  Write("real", "+4915112345678\n");
  ASSERT_EQ(symlink((home_ + "/real").c_str(), (home_ + "/.phonenumber").c_str()), 0);
  EXPECT_TRUE(Read().phone.empty());
  ASSERT_EQ(unlink((home_ + "/.phonenumber").c_str()), 0);

  ASSERT_EQ(link((home_ + "/real").c_str(), (home_ + "/.phonenumber").c_str()), 0);
  EXPECT_TRUE(Read().phone.empty());
  ASSERT_EQ(unlink((home_ + "/.phonenumber").c_str()), 0);

  ASSERT_EQ(mkfifo((home_ + "/.phonenumber").c_str(), 0600), 0);
  EXPECT_TRUE(Read().phone.empty());  // and does not hang
  ASSERT_EQ(unlink((home_ + "/.phonenumber").c_str()), 0);

  // A .keyward folder that is a symlink to a folder holding a secret.
  ASSERT_EQ(mkdir((home_ + "/elsewhere").c_str(), 0700), 0);
  Write("elsewhere/totp", factor::Base32Encode(Bytes(20, 1)) + "\n");
  ASSERT_EQ(symlink((home_ + "/elsewhere").c_str(), (home_ + "/.keyward").c_str()), 0);
  Factors f = Read();
  EXPECT_TRUE(f.totp_secret.empty());
  EXPECT_EQ(f.ignored.size(), 1u);
}

TEST_F(FactorsTest, FilesOfAnotherOwnerAreIgnored) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  Write(".phonenumber", "+4915112345678\n");
  ASSERT_EQ(chown((home_ + "/.phonenumber").c_str(), 65534, 65534), 0);
  Factors f = Read();
  EXPECT_TRUE(f.phone.empty());
  ASSERT_EQ(f.ignored.size(), 1u);
  EXPECT_NE(f.ignored[0].find("owned by uid 65534"), std::string::npos) << f.ignored[0];
}

TEST_F(FactorsTest, AMissingHomeIsNoFactor) {
  auto f = ReadFactors(home_ + "/nonexistent", geteuid(), kDirectoryEmailFile);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->phone.empty());
  EXPECT_EQ(f->ignored.size(), 1u);
}

}  // namespace
}  // namespace keyward::daemon
