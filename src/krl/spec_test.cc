// The spec reader takes what ssh-keygen -k takes (each case below was run
// through ssh-keygen 9.2 -k on this machine) and revokes the same.
#include "krl/spec.h"

#include <gtest/gtest.h>

#include <limits>

#include "key/fingerprint.h"
#include "krl/check.h"
#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::MakeCert;
using testing::RandomKey;
using testing::TestSigner;

Result<Krl> Build(std::string_view spec, const key::PublicKey* ca, bool any_ca = false) {
  KrlBuilder b;
  SpecOptions o;
  o.ca = ca;
  o.any_ca = any_ca;
  if (auto ok = ApplySpec(spec, "spec", o, b); !ok) return Fail(ok.error());
  return std::move(b).Finish();
}

TEST(Spec, SerialsInDecimalHexAndOctalAndRanges) {
  TestSigner ca;
  auto k = ca.PublicKey();
  auto krl = Build("serial: 5\nserial:0x10\nSERIAL:   010 # octal 8\nserial: 100-200\n\n  # comment\nSeRiAl: 0x1000-0x1001 \t\n",
                   &k);
  ASSERT_TRUE(krl.has_value()) << krl.error().message;
  EXPECT_EQ(krl->certificates[0].serials,
            (std::vector<SerialRange>{{5, 5}, {8, 8}, {16, 16}, {100, 200}, {4096, 4097}}));
}

TEST(Spec, StrtoullQuirksAreKept) {
  TestSigner ca;
  auto k = ca.PublicKey();
  // strtoull() takes a sign: "-1" is the largest serial.
  auto krl = Build("serial: -1\nserial: +3\n", &k);
  ASSERT_TRUE(krl.has_value()) << krl.error().message;
  EXPECT_EQ(krl->certificates[0].serials,
            (std::vector<SerialRange>{{3, 3}, {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max()}}));
}

TEST(Spec, MustRejectList) {
  TestSigner ca;
  auto k = ca.PublicKey();
  struct Case {
    const char* spec;
    const char* message;  // part of the error
  };
  const Case cases[] = {
      {"serial: 5-5\n", "spec:1: invalid serial range 5:5"},
      {"serial: 9-5\n", "invalid serial range 9:5"},
      {"serial: 0x10-020\n", "invalid serial range 16:16"},
      {"\nserial: 0\n", "spec:2: "},
      {"serial: x\n", "invalid serial \"x\""},
      {"serial: 5x\n", "invalid serial \"5x\""},
      {"serial:\n", "invalid serial \"\""},
      {"serial: 5-\n", "invalid serial \"\""},
      {"serial: 5\r\n", "invalid serial"},  // a CR is not a blank to ssh-keygen
      {"serial: 99999999999999999999\n", "serial out of range"},
      {"hash: SHA1:AAAA\n", "unsupported hash algorithm"},
      {"hash: SHA256:AAAA\n", "32 bytes"},
      {"hash: SHA256:!!!!\n", "decode hash failed"},
      {"key: ssh-ed25519 AAAA\n", "invalid key"},
      {"garbage\n", "invalid key"},
      {"sha256: nope\n", "invalid key"},
  };
  for (const auto& c : cases) {
    auto krl = Build(c.spec, &k);
    ASSERT_FALSE(krl.has_value()) << c.spec;
    EXPECT_EQ(krl.error().code, "bad_spec") << c.spec;
    EXPECT_NE(krl.error().message.find(c.message), std::string::npos) << c.spec << " -> " << krl.error().message;
  }
}

TEST(Spec, SerialsAndKeyIdsNeedACaOrNone) {
  for (const char* spec : {"serial: 5\n", "id: x\n"}) {
    auto krl = Build(spec, nullptr);
    ASSERT_FALSE(krl.has_value()) << spec;
    EXPECT_NE(krl.error().message.find("requires specification of a CA key"), std::string::npos);
    auto any = Build(spec, nullptr, true);
    ASSERT_TRUE(any.has_value()) << spec;
    ASSERT_EQ(any->certificates.size(), 1u);
    EXPECT_TRUE(any->certificates[0].wildcard());
  }
}

TEST(Spec, KeyIdsAreTheRestOfTheLineTrimmedAndCutAtHash) {
  TestSigner ca;
  auto k = ca.PublicKey();
  auto krl = Build("id:   spaced id  \t \nid: a#b\nID:x\nid:\n", &k);
  ASSERT_TRUE(krl.has_value()) << krl.error().message;
  EXPECT_EQ(krl->certificates[0].key_ids, (std::vector<std::string>{"", "a", "spaced id", "x"}));
}

TEST(Spec, KeysByEveryDirective) {
  TestSigner ca;
  auto plain = RandomKey(), by_sha1 = RandomKey(), by_sha256 = RandomKey(), by_hash = RandomKey(), bare = RandomKey();
  auto cert = MakeCert(ca, RandomKey(), 12, "twelve");
  auto cert_for_key = MakeCert(ca, RandomKey(), 13, "thirteen");
  std::string spec = "key: " + plain.ToText() + " a comment\n" +      //
                     "sha1: " + by_sha1.ToText() + "\n" +             //
                     "Sha256:\t" + by_sha256.ToText() + "\n" +        //
                     "hash: " + key::Fingerprint(by_hash) + "\n" +    //
                     bare.ToText() + " bare\n" +                      //
                     cert.ToText() + "\n" +                           //
                     "key: " + cert_for_key.ToText() + "\n";
  auto krl = Build(spec, nullptr);
  ASSERT_TRUE(krl.has_value()) << krl.error().message;
  for (const auto* k : {&plain, &by_sha1, &by_sha256, &by_hash, &bare, &cert}) EXPECT_TRUE(IsRevoked(*krl, *k));
  // key: on a certificate revokes its plain key, and every certificate of it.
  EXPECT_TRUE(IsRevoked(*krl, cert_for_key));
  EXPECT_EQ(krl->explicit_keys.size(), 3u);
  EXPECT_EQ(krl->sha1s.size(), 1u);
  EXPECT_EQ(krl->sha256s.size(), 2u);
  ASSERT_EQ(krl->certificates.size(), 1u);
  EXPECT_EQ(krl->certificates[0].serials, (std::vector<SerialRange>{{12, 12}}));
  // The certificate's CA is its own, not the spec's (there is none here).
  EXPECT_EQ(krl->certificates[0].ca_key, CaKeyBlob(ca.PublicKey()));
}

TEST(Spec, ANulEndsALineLikeInACString) {
  TestSigner ca;
  auto k = ca.PublicKey();
  auto krl = Build(std::string_view("serial: 7\0garbage\nid: z\0y\n", 26), &k);
  ASSERT_TRUE(krl.has_value()) << krl.error().message;
  EXPECT_EQ(krl->certificates[0].serials, (std::vector<SerialRange>{{7, 7}}));
  EXPECT_EQ(krl->certificates[0].key_ids, std::vector<std::string>{"z"});
}

TEST(Spec, LastLineWithoutNewlineCounts) {
  TestSigner ca;
  auto k = ca.PublicKey();
  auto krl = Build("serial: 1\nserial: 3", &k);
  ASSERT_TRUE(krl.has_value());
  EXPECT_EQ(krl->certificates[0].serials, (std::vector<SerialRange>{{1, 1}, {3, 3}}));
}

}  // namespace
}  // namespace keyward::krl
