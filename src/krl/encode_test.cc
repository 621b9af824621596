// The encoder writes PROTOCOL.krl's layout and refuses a model that is not
// canonical rather than write a KRL that says something else.
#include "krl/encode.h"

#include <gtest/gtest.h>

#include "krl/krl_test_keys.h"
#include "krl/parse.h"
#include "wire/reader.h"

namespace keyward::krl {
namespace {

using testing::RandomKey;
using testing::TestSigner;

TEST(EncodeKrl, HeaderAndSectionOrder) {
  TestSigner ca;
  auto k = ca.PublicKey();
  KrlBuilder b;
  b.RevokeKeySha256(RandomKey());
  b.RevokeKeySha1(RandomKey());
  b.RevokeKeyExplicit(RandomKey());
  ASSERT_TRUE(b.RevokeKeyId(&k, "id"));
  ASSERT_TRUE(b.RevokeSerials(&k, 3, 3));
  Krl krl = std::move(b).Finish();
  krl.version = 0x0102030405060708;
  krl.generated_date = 42;
  krl.comment = "c";
  auto bytes = EncodeKrl(krl);
  ASSERT_TRUE(bytes.has_value());
  ASSERT_EQ(AsText(ByteView(*bytes).first(8)), kMagic);
  wire::Reader r(ByteView(*bytes).subspan(8));
  EXPECT_EQ(*r.U32(), 1u);
  EXPECT_EQ(*r.U64(), 0x0102030405060708u);
  EXPECT_EQ(*r.U64(), 42u);
  EXPECT_EQ(*r.U64(), 0u);
  EXPECT_TRUE(r.String()->empty());
  EXPECT_EQ(AsText(*r.String()), "c");
  std::vector<std::uint8_t> types;
  while (!r.empty()) {
    types.push_back(*r.U8());
    ASSERT_TRUE(r.String().has_value());
  }
  EXPECT_EQ(types, (std::vector<std::uint8_t>{kSectionCertificates, kSectionExplicitKey, kSectionFingerprintSha1,
                                               kSectionFingerprintSha256}));
}

TEST(EncodeKrl, EmptyKrlIsJustTheHeader) {
  auto bytes = EncodeKrl(Krl{});
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->size(), 44u);
  EXPECT_TRUE(ParseKrl(*bytes).has_value());
}

TEST(EncodeKrl, RefusesModelsThatAreNotCanonical) {
  struct Case {
    const char* name;
    void (*spoil)(Krl&);
  };
  const Case cases[] = {
      {"serial 0", [](Krl& k) { k.certificates = {{Bytes{}, {{0, 3}}, {}}}; }},
      {"reversed range", [](Krl& k) { k.certificates = {{Bytes{}, {{5, 3}}, {}}}; }},
      {"overlapping ranges", [](Krl& k) { k.certificates = {{Bytes{}, {{1, 5}, {5, 9}}, {}}}; }},
      {"touching ranges", [](Krl& k) { k.certificates = {{Bytes{}, {{1, 5}, {6, 9}}, {}}}; }},
      {"unsorted ranges", [](Krl& k) { k.certificates = {{Bytes{}, {{10, 12}, {1, 5}}, {}}}; }},
      {"repeated key ID", [](Krl& k) { k.certificates = {{Bytes{}, {}, {"a", "a"}}}; }},
      {"key ID with NUL", [](Krl& k) { k.certificates = {{Bytes{}, {}, {std::string("a\0b", 3)}}}; }},
      {"two sections for one CA", [](Krl& k) { k.certificates = {{Bytes{}, {{1, 1}}, {}}, {Bytes{}, {{3, 3}}, {}}}; }},
      {"unsorted keys", [](Krl& k) { k.explicit_keys = {{2}, {1}}; }},
      {"repeated hash", [](Krl& k) { k.sha1s = {Sha1Digest{}, Sha1Digest{}}; }},
      {"comment with NUL", [](Krl& k) { k.comment = std::string("a\0", 2); }},
  };
  for (const auto& c : cases) {
    Krl krl;
    c.spoil(krl);
    auto r = EncodeKrl(krl);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code, "krl_not_canonical") << c.name;
  }
}

TEST(EncodeKrl, SignaturesAreNeverWritten) {
  Krl krl;
  krl.signing_keys.push_back(Bytes{1, 2, 3});
  auto bytes = EncodeKrl(krl);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->size(), 44u);
}

}  // namespace
}  // namespace keyward::krl
