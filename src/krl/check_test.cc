// IsRevoked has ssh_krl_check_key()'s semantics.
#include "krl/check.h"

#include <gtest/gtest.h>

#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::MakeCert;
using testing::RandomKey;
using testing::TestSigner;

class IsRevokedTest : public ::testing::Test {
 protected:
  TestSigner ca_, other_ca_;
  key::PublicKey ca_key_ = ca_.PublicKey();
  key::PublicKey other_ca_key_ = other_ca_.PublicKey();
};

TEST_F(IsRevokedTest, PlainKeysByExplicitBlobSha1OrSha256) {
  auto a = RandomKey(), b = RandomKey(), c = RandomKey(), d = RandomKey();
  KrlBuilder builder;
  builder.RevokeKeyExplicit(a);
  builder.RevokeKeySha1(b);
  builder.RevokeKeySha256(c);
  Krl krl = std::move(builder).Finish();
  EXPECT_TRUE(IsRevoked(krl, a));
  EXPECT_TRUE(IsRevoked(krl, b));
  EXPECT_TRUE(IsRevoked(krl, c));
  EXPECT_FALSE(IsRevoked(krl, d));
}

TEST_F(IsRevokedTest, CertificatesBySerialUnderTheirOwnCaOnly) {
  KrlBuilder builder;
  ASSERT_TRUE(builder.RevokeSerials(&ca_key_, 10, 20));
  Krl krl = std::move(builder).Finish();
  EXPECT_TRUE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 10, "x")));
  EXPECT_TRUE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 20, "x")));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 21, "x")));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 9, "x")));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(other_ca_, RandomKey(), 15, "x")));
}

TEST_F(IsRevokedTest, SerialZeroIsNeverRevokedBySerial) {
  KrlBuilder builder;
  ASSERT_TRUE(builder.RevokeSerials(&ca_key_, 1, 100));
  Krl krl = std::move(builder).Finish();
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 0, "no-serial")));
  // A hand-made model holding serial 0 does not change that.
  krl.certificates[0].serials = {{0, 100}};
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 0, "no-serial")));
}

TEST_F(IsRevokedTest, CertificatesByKeyIdUnderTheirCaOrTheWildcard) {
  KrlBuilder builder;
  ASSERT_TRUE(builder.RevokeKeyId(&ca_key_, "alice"));
  ASSERT_TRUE(builder.RevokeKeyId(nullptr, "bob"));
  ASSERT_TRUE(builder.RevokeSerials(nullptr, 77, 77));
  Krl krl = std::move(builder).Finish();
  EXPECT_TRUE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 5, "alice")));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(other_ca_, RandomKey(), 5, "alice")));
  EXPECT_TRUE(IsRevoked(krl, MakeCert(other_ca_, RandomKey(), 5, "bob")));
  EXPECT_TRUE(IsRevoked(krl, MakeCert(other_ca_, RandomKey(), 77, "carol")));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 5, "Alice")));
}

TEST_F(IsRevokedTest, RevokingTheCaKeyRevokesEveryCertificateItSigned) {
  KrlBuilder builder;
  builder.RevokeKeyExplicit(ca_key_);
  Krl krl = std::move(builder).Finish();
  EXPECT_TRUE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 1, "a")));
  EXPECT_TRUE(IsRevoked(krl, ca_key_));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(other_ca_, RandomKey(), 1, "a")));
}

TEST_F(IsRevokedTest, RevokingAKeyRevokesItsCertificatesButNotTheOtherWayRound) {
  auto subject = RandomKey();
  auto cert = MakeCert(ca_, subject, 3, "s");
  KrlBuilder by_key;
  by_key.RevokeKeySha256(subject);
  Krl k1 = std::move(by_key).Finish();
  EXPECT_TRUE(IsRevoked(k1, cert));

  KrlBuilder by_cert;
  ASSERT_TRUE(by_cert.RevokeKey(cert));
  Krl k2 = std::move(by_cert).Finish();
  EXPECT_TRUE(IsRevoked(k2, cert));
  EXPECT_FALSE(IsRevoked(k2, subject));
  EXPECT_FALSE(IsRevoked(k2, MakeCert(ca_, subject, 4, "s")));
}

TEST_F(IsRevokedTest, ASectionWhoseCaIsACertificateMatchesNoCertificate) {
  // sshkey_equal() compares a certificate CA with the plain signing key of
  // a certificate as different types: such a section revokes nothing.
  auto ca_cert = MakeCert(other_ca_, ca_key_, 9, "ca as cert");
  KrlBuilder builder;
  ASSERT_TRUE(builder.RevokeSerials(&ca_cert, 1, 100));
  Krl krl = std::move(builder).Finish();
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 5, "x")));
}

TEST_F(IsRevokedTest, EmptyKrlRevokesNothing) {
  Krl krl;
  EXPECT_FALSE(IsRevoked(krl, RandomKey()));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca_, RandomKey(), 1, "")));
}

TEST(SectionRevokes, BinarySearchOverRanges) {
  CertificateSection s;
  s.serials = {{5, 5}, {10, 19}, {100, 100}, {~std::uint64_t{0} - 1, ~std::uint64_t{0}}};
  s.key_ids = {"a", "c"};
  for (std::uint64_t v : {5ull, 10ull, 15ull, 19ull, 100ull, ~0ull}) EXPECT_TRUE(SectionRevokes(s, v, "b")) << v;
  for (std::uint64_t v : {1ull, 4ull, 6ull, 9ull, 20ull, 99ull, 101ull, ~0ull - 2}) EXPECT_FALSE(SectionRevokes(s, v, "b")) << v;
  EXPECT_TRUE(SectionRevokes(s, 0, "c"));
  EXPECT_FALSE(SectionRevokes(s, 0, "d"));
}

}  // namespace
}  // namespace keyward::krl
