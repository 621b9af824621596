// The CA folder and its keys: created private, never replaced, refused when
// exposed.
#include "ca/ca_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "ca/ca_test_util.h"
#include "ca/serial_counter.h"
#include "key/fingerprint.h"

namespace keyward::ca {
namespace {

using testing::TempCaDir;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(CaStore, CreatesAPrivateFolder) {
  TempCaDir top;
  const std::string path = top.Path("a/b/ca");
  auto dir = OpenCaDirectory(path, true);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(ModeOf(path), 0700u);
  EXPECT_TRUE(OpenCaDirectory(path, false));
  EXPECT_TRUE(OpenCaDirectory(path + "/", false));
  auto missing = OpenCaDirectory(top.Path("nope"), false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ca_missing");
  EXPECT_FALSE(OpenCaDirectory("relative/ca", true));

  ASSERT_EQ(chmod(path.c_str(), 0750), 0);
  auto open = OpenCaDirectory(path, false);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, "bad_mode");
  ASSERT_EQ(chmod(path.c_str(), 0700), 0);
  ASSERT_EQ(symlink(path.c_str(), top.Path("link").c_str()), 0);
  EXPECT_FALSE(OpenCaDirectory(top.Path("link"), false));
}

TEST(CaStore, CreatesLoadsAndNeverReplacesKeys) {
  TempCaDir dir;
  auto created = CreateCaKey(dir.fd(), key::CertType::kUser, CaKeySpec{}, nullptr, "keyward-user-ca@test");
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(ModeOf(dir.Path("user_ca")), 0600u);
  EXPECT_EQ(dir.Read("user_ca.pub"), created->public_line);
  EXPECT_TRUE(created->public_line.ends_with(" keyward-user-ca@test\n"));
  EXPECT_EQ(created->key_type, "ED25519");
  EXPECT_EQ(dir.Read(kSerialFile), "1\n");

  const std::string before = dir.Read("user_ca");
  auto again = CreateCaKey(dir.fd(), key::CertType::kUser, CaKeySpec{}, nullptr, "x");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ca_exists");
  EXPECT_EQ(dir.Read("user_ca"), before);

  auto loaded = LoadCaKey(dir.fd(), key::CertType::kUser, nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(key::Fingerprint(loaded->public_key()), created->fingerprint);
  auto pub = ReadCaPublicKey(dir.fd(), key::CertType::kUser);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(pub->SamePublicKey(loaded->public_key()));

  // The host CA is a separate key.
  auto host = CreateCaKey(dir.fd(), key::CertType::kHost, CaKeySpec{key::Algorithm::kEcdsa, 384}, nullptr, "h");
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_NE(host->fingerprint, created->fingerprint);
  auto host_key = LoadCaKey(dir.fd(), key::CertType::kHost, nullptr);
  ASSERT_TRUE(host_key);
  EXPECT_EQ(host_key->signature_algorithm(), "ecdsa-sha2-nistp384");

  ASSERT_EQ(chmod(dir.Path("user_ca").c_str(), 0640), 0);
  auto exposed = LoadCaKey(dir.fd(), key::CertType::kUser, nullptr);
  ASSERT_FALSE(exposed);
  EXPECT_EQ(exposed.error().code, "bad_mode");
}

TEST(CaStore, PassphraseProtectedKeys) {
  TempCaDir dir;
  const Secret pass(std::string("correct horse battery"));
  auto created = CreateCaKey(dir.fd(), key::CertType::kUser, CaKeySpec{}, &pass, "c");
  ASSERT_TRUE(created) << created.error().message;
  auto none = LoadCaKey(dir.fd(), key::CertType::kUser, nullptr);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "passphrase_required");
  auto loaded = LoadCaKey(dir.fd(), key::CertType::kUser, &pass);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(key::Fingerprint(loaded->public_key()), created->fingerprint);
}

TEST(CaStore, MissingKey) {
  TempCaDir dir;
  auto r = LoadCaKey(dir.fd(), key::CertType::kHost, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ca_missing");
  EXPECT_NE(r.error().message.find("keyward ca init --host"), std::string::npos);
}

}  // namespace
}  // namespace keyward::ca
