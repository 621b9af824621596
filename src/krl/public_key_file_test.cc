// FirstPublicKey finds what sshkey_load_public() finds (checked with
// ssh-keygen -Q on this machine: which key, and which comment it prints).
#include "krl/public_key_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::RandomKey;

TEST(FirstPublicKey, TakesTheFirstLineThatReadsAsAKey) {
  auto a = RandomKey(), b = RandomKey();
  std::string text = "# comment\n\n   not a key at all\n\tssh-ed25519 AAAA broken\n" + a.ToText() +
                     "  my comment  \r\n" + b.ToText() + " second\n";
  auto found = FirstPublicKey(text);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->key.SamePublicKey(a));
  EXPECT_EQ(found->comment, "my comment  ");  // trailing blanks kept, CR LF dropped
}

TEST(FirstPublicKey, NoCommentIsEmpty) {
  auto a = RandomKey();
  auto found = FirstPublicKey(a.ToText() + "\n");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->comment, "");
  found = FirstPublicKey(a.ToText());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->comment, "");
}

TEST(FirstPublicKey, StopsAtAPrivateKey) {
  auto a = RandomKey();
  EXPECT_FALSE(FirstPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----\n" + a.ToText() + "\n").has_value());
  EXPECT_TRUE(LooksLikePrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n"));
  // Indented, the marker is just a line that is not a key.
  EXPECT_TRUE(FirstPublicKey(" -----BEGIN x\n" + a.ToText() + "\n").has_value());
}

TEST(FirstPublicKey, NothingInEmptyOrKeylessContent) {
  EXPECT_FALSE(FirstPublicKey("").has_value());
  EXPECT_FALSE(FirstPublicKey("\n\n# only comments\n").has_value());
  EXPECT_FALSE(FirstPublicKey(std::string_view("\0ssh-ed25519 AAAA\n", 18)).has_value());
}

TEST(FirstPublicKey, ANulEndsTheLine) {
  auto a = RandomKey();
  std::string text = a.ToText() + " before";
  text.push_back('\0');
  text += "after\n";
  auto found = FirstPublicKey(text);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->comment, "before");
}

TEST(LoadPublicKeyFile, FallsBackToTheDotPubFile) {
  char dir_template[] = "/tmp/keyward-pkf-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  auto a = RandomKey();
  {
    std::ofstream(dir + "/id") << "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n";
    std::ofstream(dir + "/id.pub") << a.ToText() << "\n";
    std::ofstream(dir + "/lonely") << "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n";
  }
  auto loaded = LoadPublicKeyFile(dir + "/id");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_TRUE(loaded->found.key.SamePublicKey(a));
  EXPECT_EQ(loaded->from, dir + "/id.pub");
  auto direct = LoadPublicKeyFile(dir + "/id.pub");
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(direct->from, dir + "/id.pub");
  auto lonely = LoadPublicKeyFile(dir + "/lonely");
  ASSERT_FALSE(lonely.has_value());
  EXPECT_NE(lonely.error().message.find("private key"), std::string::npos);
  EXPECT_FALSE(LoadPublicKeyFile(dir + "/missing").has_value());
  for (const char* f : {"/id", "/id.pub", "/lonely"}) unlink((dir + f).c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace keyward::krl
