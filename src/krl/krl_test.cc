// KrlBuilder: revocations in any order become the one canonical model, by
// the rules of OpenSSH's ssh_krl_revoke_*().
#include "krl/krl.h"

#include <gtest/gtest.h>

#include <limits>

#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::MakeCert;
using testing::RandomKey;
using testing::TestSigner;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

TEST(KrlBuilder, MergesOverlappingAndAdjacentSerialsInAnyOrder) {
  TestSigner ca;
  auto ca_key = ca.PublicKey();
  KrlBuilder b;
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 50, 60));
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 10, 10));
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 61, 61));  // adjacent: joins 50-60
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 55, 70));  // overlapping
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 9, 9));
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 100, 100));
  ASSERT_TRUE(b.RevokeSerials(&ca_key, 100, 100));  // again
  Krl krl = std::move(b).Finish();
  ASSERT_EQ(krl.certificates.size(), 1u);
  EXPECT_EQ(krl.certificates[0].serials, (std::vector<SerialRange>{{9, 10}, {50, 70}, {100, 100}}));
  EXPECT_EQ(krl.serial_count(), 2u + 21 + 1);
}

TEST(KrlBuilder, RefusesSerialZeroAndReversedRanges) {
  KrlBuilder b;
  EXPECT_EQ(b.RevokeSerials(nullptr, 0, 0).error().code, "krl_bad_serial");
  EXPECT_EQ(b.RevokeSerials(nullptr, 0, 5).error().code, "krl_bad_serial");
  EXPECT_EQ(b.RevokeSerials(nullptr, 9, 5).error().code, "krl_bad_serial");
  EXPECT_TRUE(b.RevokeSerials(nullptr, kMax, kMax));
  EXPECT_TRUE(b.RevokeSerials(nullptr, 1, kMax));
  Krl krl = std::move(b).Finish();
  EXPECT_EQ(krl.certificates[0].serials, (std::vector<SerialRange>{{1, kMax}}));
  EXPECT_EQ(krl.serial_count(), std::numeric_limits<std::size_t>::max());  // saturates
}

TEST(KrlBuilder, OneSectionPerCaInTheOrderOfTheirFirstRevocation) {
  TestSigner a, b2;
  auto ka = a.PublicKey(), kb = b2.PublicKey();
  KrlBuilder b;
  ASSERT_TRUE(b.RevokeKeyId(&kb, "x"));
  ASSERT_TRUE(b.RevokeSerials(&ka, 5, 5));
  ASSERT_TRUE(b.RevokeKeyId(nullptr, "any"));
  ASSERT_TRUE(b.RevokeSerials(&kb, 7, 7));
  Krl krl = std::move(b).Finish();
  ASSERT_EQ(krl.certificates.size(), 3u);
  EXPECT_EQ(krl.certificates[0].ca_key, CaKeyBlob(kb));
  EXPECT_EQ(krl.certificates[0].key_ids, std::vector<std::string>{"x"});
  EXPECT_EQ(krl.certificates[0].serials, (std::vector<SerialRange>{{7, 7}}));
  EXPECT_EQ(krl.certificates[1].ca_key, CaKeyBlob(ka));
  EXPECT_TRUE(krl.certificates[2].wildcard());
  EXPECT_EQ(krl.certificates[2].key_ids, std::vector<std::string>{"any"});
}

TEST(KrlBuilder, KeyIdsAreSortedByteWiseAndUnique) {
  KrlBuilder b;
  for (const char* id : {"b", "a", "\xc3\xa9", "B", "a", ""}) ASSERT_TRUE(b.RevokeKeyId(nullptr, id));
  EXPECT_FALSE(b.RevokeKeyId(nullptr, std::string_view("a\0b", 3)));
  Krl krl = std::move(b).Finish();
  EXPECT_EQ(krl.certificates[0].key_ids, (std::vector<std::string>{"", "B", "a", "b", "\xc3\xa9"}));
}

TEST(KrlBuilder, RevokeKeyFollowsSshKeygenForBareKeyLines) {
  TestSigner ca;
  auto plain = RandomKey();
  auto with_serial = MakeCert(ca, RandomKey(), 77, "id-77");
  auto without_serial = MakeCert(ca, RandomKey(), 0, "id-zero");
  KrlBuilder b;
  ASSERT_TRUE(b.RevokeKey(plain));
  ASSERT_TRUE(b.RevokeKey(with_serial));
  ASSERT_TRUE(b.RevokeKey(without_serial));
  Krl krl = std::move(b).Finish();
  ASSERT_EQ(krl.explicit_keys.size(), 1u);
  EXPECT_TRUE(Equal(krl.explicit_keys[0], plain.plain_blob()));
  ASSERT_EQ(krl.certificates.size(), 1u);
  EXPECT_EQ(krl.certificates[0].ca_key, CaKeyBlob(ca.PublicKey()));
  EXPECT_EQ(krl.certificates[0].serials, (std::vector<SerialRange>{{77, 77}}));
  EXPECT_EQ(krl.certificates[0].key_ids, std::vector<std::string>{"id-zero"});
}

TEST(KrlBuilder, AnExplicitCertificateRevokesItsPlainKeyAndHashesTooHashThePlainKey) {
  TestSigner ca;
  auto subject = RandomKey();
  auto cert = MakeCert(ca, subject, 1, "c");
  KrlBuilder b;
  b.RevokeKeyExplicit(cert);
  b.RevokeKeySha1(cert);
  b.RevokeKeySha256(cert);
  Krl krl = std::move(b).Finish();
  ASSERT_EQ(krl.explicit_keys.size(), 1u);
  EXPECT_TRUE(Equal(krl.explicit_keys[0], subject.blob()));
  EXPECT_EQ(krl.sha1s, std::vector<Sha1Digest>{Sha1(subject.blob())});
  EXPECT_EQ(krl.sha256s, std::vector<Sha256Digest>{key::Sha256(subject.blob())});
}

TEST(KrlBuilder, ExplicitKeysSortLikeOpenSshsBlobCompare) {
  KrlBuilder b;
  b.RevokeBlob(Bytes{2});
  b.RevokeBlob(Bytes{1, 0});
  b.RevokeBlob(Bytes{1});
  b.RevokeBlob(Bytes{});
  b.RevokeBlob(Bytes{1});
  b.RevokeBlob(Bytes{0xff});
  Krl krl = std::move(b).Finish();
  EXPECT_EQ(krl.explicit_keys, (std::vector<Bytes>{{}, {1}, {1, 0}, {2}, {0xff}}));
}

TEST(KrlBuilder, MergeAddsAnotherKrl) {
  TestSigner ca;
  auto k = ca.PublicKey();
  KrlBuilder first;
  ASSERT_TRUE(first.RevokeSerials(&k, 1, 3));
  first.RevokeBlob(Bytes{9});
  Krl one = std::move(first).Finish();
  KrlBuilder second;
  ASSERT_TRUE(second.RevokeSerials(&k, 4, 4));
  ASSERT_TRUE(second.Merge(one));
  Krl both = std::move(second).Finish();
  EXPECT_EQ(both.certificates[0].serials, (std::vector<SerialRange>{{1, 4}}));
  EXPECT_EQ(both.explicit_keys, (std::vector<Bytes>{{9}}));
}

TEST(KrlBuilder, CaKeyBlobIsCanonicalForPlainKeysAndTheWholeBlobForCertificates) {
  TestSigner ca;
  auto cert = MakeCert(ca, RandomKey(), 3, "x");
  EXPECT_TRUE(Equal(CaKeyBlob(ca.PublicKey()), ca.PublicBlob()));
  EXPECT_TRUE(Equal(CaKeyBlob(cert), cert.blob()));
  EXPECT_FALSE(Equal(CaKeyBlob(cert), cert.plain_blob()));
}

TEST(Sha1, KnownAnswer) {
  // FIPS 180 "abc".
  Sha1Digest d = Sha1(AsBytes("abc"));
  const Sha1Digest want{0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                        0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
  EXPECT_EQ(d, want);
}

}  // namespace
}  // namespace keyward::krl
