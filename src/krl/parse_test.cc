// The KRL reader accepts and refuses what OpenSSH 9.2's ssh_krl_from_blob()
// accepts and refuses, with ssh-keygen -Q's words. Every verdict and reason
// below was checked against ssh-keygen -Q (OpenSSH_9.2p1) on this machine
// (tests/e2e/krl_crosscheck_test.py repeats the comparison).
#include "krl/parse.h"

#include <gtest/gtest.h>

#include <limits>

#include "krl/check.h"
#include "krl/encode.h"
#include "krl/krl_test_keys.h"
#include "wire/writer.h"

namespace keyward::krl {
namespace {

using testing::MakeCert;
using testing::RandomKey;
using testing::TestSigner;

// Builds KRL bytes piece by piece.
class KrlBytes {
 public:
  KrlBytes& Header(std::uint32_t format = 1, std::string_view comment = "") {
    w_.Raw(AsBytes(kMagic));
    w_.U32(format);
    w_.U64(5);
    w_.U64(6);
    w_.U64(0);
    w_.String(std::string_view());
    w_.String(comment);
    return *this;
  }
  KrlBytes& Section(std::uint8_t type, ByteView body) {
    w_.U8(type);
    w_.String(body);
    return *this;
  }
  KrlBytes& Raw(ByteView bytes) {
    w_.Raw(bytes);
    return *this;
  }
  // A signature section by `signer` over everything so far.
  KrlBytes& Sign(const TestSigner& signer, bool corrupt = false) {
    Section(kSectionSignature, signer.PublicBlob());
    Bytes sig = signer.Sign(w_.bytes());
    if (corrupt) sig.back() ^= 1;
    w_.String(sig);
    return *this;
  }
  Bytes Take() { return w_.Take(); }

 private:
  wire::Writer w_;
};

struct Sub {
  std::uint8_t type;
  Bytes body;
};

Bytes CertSection(ByteView ca, std::initializer_list<Sub> subs) {
  wire::Writer w;
  w.String(ca);
  w.String(std::string_view());
  for (const auto& s : subs) {
    w.U8(s.type);
    w.String(s.body);
  }
  return w.Take();
}

Bytes U64s(std::initializer_list<std::uint64_t> values) {
  wire::Writer w;
  for (auto v : values) w.U64(v);
  return w.Take();
}

Bytes Bitmap(std::uint64_t offset, Bytes mpint) {
  wire::Writer w;
  w.U64(offset);
  w.String(mpint);
  return w.Take();
}

Bytes Strings(std::initializer_list<std::string_view> values) {
  wire::Writer w;
  for (auto v : values) w.String(v);
  return w.Take();
}

struct Refused {
  std::string name;
  Bytes krl;
  std::string code;
  std::string reason;  // ssh-keygen -Q: "Invalid KRL file F: <reason>"
  std::string log;     // the line ssh-keygen logs first, if any
};

std::vector<Refused> MustReject() {
  TestSigner ca_signer, other;
  const Bytes ca = ca_signer.PublicBlob();
  Bytes header = KrlBytes().Header().Take();
  auto with = [&](std::uint8_t type, ByteView body) { return KrlBytes().Header().Section(type, body).Take(); };
  auto cert = [&](std::initializer_list<Sub> subs) { return with(kSectionCertificates, CertSection(ca, subs)); };
  Bytes bad_comment = KrlBytes().Header(1, std::string_view("a\0b", 3)).Take();
  Bytes signed_ok = KrlBytes().Header().Section(kSectionCertificates, CertSection(ca, {{0x20, U64s({7})}})).Take();

  Bytes huge_length = header;
  huge_length.insert(huge_length.end(), {1, 0x7f, 0xff, 0xff, 0xff});

  return {
      {"empty", {}, "krl_bad_magic", "KRL file has invalid magic number", ""},
      {"not a KRL", Bytes(AsBytes("ssh-ed25519 AAAA\n").begin(), AsBytes("ssh-ed25519 AAAA\n").end()), "krl_bad_magic",
       "KRL file has invalid magic number", ""},
      {"magic only", Bytes(AsBytes(kMagic).begin(), AsBytes(kMagic).end()), "krl_truncated", "incomplete message", ""},
      {"format version 2", KrlBytes().Header(2).Take(), "krl_bad_format", "invalid format", ""},
      {"format version 0", KrlBytes().Header(0).Take(), "krl_bad_format", "invalid format", ""},
      {"header cut in the comment", Bytes(header.begin(), header.end() - 1), "krl_truncated", "incomplete message", ""},
      {"NUL inside the comment", bad_comment, "krl_bad_format", "invalid format", ""},
      {"section type without body", [&] { Bytes b = header; b.push_back(1); return b; }(), "krl_truncated",
       "incomplete message", ""},
      {"section length beyond OpenSSH's buffers", huge_length, "krl_bad_format", "string is too large", ""},
      {"unknown section 66", with(66, {}), "krl_bad_format", "invalid format", "Unsupported KRL section 66"},
      {"extension section 255 (OpenSSH 9.4+)", with(255, {}), "krl_bad_format", "invalid format",
       "Unsupported KRL section 255"},
      {"serial 0 in a list", cert({{kSubsectionSerialList, U64s({5, 0})}}), "krl_bad_serial", "invalid argument", ""},
      {"serial list cut short", cert({{kSubsectionSerialList, Bytes(7, 1)}}), "krl_truncated", "incomplete message", ""},
      {"reversed range", cert({{kSubsectionSerialRange, U64s({9, 5})}}), "krl_bad_serial", "invalid argument", ""},
      {"range from 0", cert({{kSubsectionSerialRange, U64s({0, 5})}}), "krl_bad_serial", "invalid argument", ""},
      {"range with bytes left over", cert({{kSubsectionSerialRange, [] { Bytes b = U64s({1, 5}); b.push_back(0); return b; }()}}),
       "krl_bad_format", "invalid format", "KRL certificate section contains unparsed data"},
      {"bitmap with bytes left over", cert({{kSubsectionSerialBitmap, [] { Bytes b = Bitmap(5, {1}); b.push_back(0); return b; }()}}),
       "krl_bad_format", "invalid format", "KRL certificate section contains unparsed data"},
      {"bitmap revoking serial 0", cert({{kSubsectionSerialBitmap, Bitmap(0, {3})}}), "krl_bad_serial",
       "invalid argument", ""},
      {"bitmap past the last serial", cert({{kSubsectionSerialBitmap, Bitmap(std::numeric_limits<std::uint64_t>::max() - 1, {7})}}),
       "krl_bad_format", "invalid format", "parse_revoked_certs: bitmap wraps u64"},
      {"negative bitmap", cert({{kSubsectionSerialBitmap, Bitmap(5, {0x80})}}), "krl_bad_format", "bignum is negative",
       ""},
      {"bitmap over 16384 bits", cert({{kSubsectionSerialBitmap, [] { Bytes m(2049, 0); m[0] = 1; return Bitmap(5, m); }()}}),
       "krl_bad_format", "bignum is too large", ""},
      {"NUL inside a key ID", cert({{kSubsectionKeyId, Strings({std::string_view("a\0b", 3)})}}), "krl_bad_format",
       "invalid format", ""},
      {"unknown certificate subsection", cert({{0x39, {}}}), "krl_bad_format", "invalid format",
       "Unsupported KRL certificate section 57"},
      {"CA key that is not a key", with(kSectionCertificates, CertSection(AsBytes("garbage"), {})), "krl_bad_ca_key",
       "invalid format", ""},
      {"CA key with a byte too many", with(kSectionCertificates, CertSection([&] { Bytes b = ca; b.push_back(0); return b; }(), {})),
       "krl_bad_ca_key", "invalid format", ""},
      {"certificate section without its reserved string", with(kSectionCertificates, Strings({AsText(ca)})),
       "krl_truncated", "incomplete message", ""},
      {"SHA1 hash of 19 bytes", with(kSectionFingerprintSha1, Strings({std::string(19, 'x')})), "krl_bad_format",
       "invalid format", "blob_section: bad length"},
      {"SHA256 hash of 33 bytes", with(kSectionFingerprintSha256, Strings({std::string(33, 'x')})), "krl_bad_format",
       "invalid format", "blob_section: bad length"},
      {"explicit key cut short", with(kSectionExplicitKey, Bytes{0, 0, 0, 9, 1}), "krl_truncated",
       "incomplete message", ""},
      {"signature that does not verify", KrlBytes().Raw(signed_ok).Sign(ca_signer, true).Take(), "krl_bad_signature",
       "incorrect signature", ""},
      {"signature section without the signature", KrlBytes().Raw(signed_ok).Section(kSectionSignature, ca).Take(),
       "krl_truncated", "invalid format", ""},
      {"empty signature", [&] {
         Bytes b = KrlBytes().Raw(signed_ok).Section(kSectionSignature, ca).Take();
         b.insert(b.end(), {0, 0, 0, 0});
         return b;
       }(),
       "krl_bad_signature", "invalid argument", ""},
      {"signature by a signature-less blob", KrlBytes().Raw(signed_ok).Section(kSectionSignature, AsBytes("abcd")).Take(),
       "krl_bad_signature", "invalid format", ""},
      {"signature of the wrong algorithm", [&] {
         Bytes b = KrlBytes().Raw(signed_ok).Section(kSectionSignature, ca).Take();
         wire::Writer sig;
         sig.String(std::string_view("ssh-rsa"));
         sig.String(Bytes(64, 1));
         wire::Writer w;
         w.Raw(b);
         w.String(sig.bytes());
         return w.Take();
       }(),
       "krl_bad_signature", "key type does not match", ""},
      {"section after a signature", KrlBytes().Raw(signed_ok).Sign(ca_signer).Section(kSectionExplicitKey, {}).Take(),
       "krl_bad_format", "invalid format", "KRL contains non-signature section after signature"},
      {"signed twice by one key", KrlBytes().Raw(signed_ok).Sign(ca_signer).Sign(ca_signer).Take(), "krl_bad_format",
       "invalid format", "KRL signed more than once with the same key"},
      {"signed only by a key it revokes",
       KrlBytes().Header().Section(kSectionExplicitKey, Strings({AsText(ca)})).Sign(ca_signer).Take(),
       "krl_signer_revoked", "Key is revoked", "All keys used to sign KRL were revoked"},
  };
}

TEST(ParseKrl, MustRejectList) {
  for (const auto& c : MustReject()) {
    OpenSshRefusal refusal;
    auto r = ParseKrl(c.krl, &refusal);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    EXPECT_EQ(refusal.reason, c.reason) << c.name;
    if (c.log.empty()) {
      EXPECT_TRUE(refusal.log.empty()) << c.name;
    } else {
      EXPECT_EQ(refusal.log, std::vector<std::string>{c.log}) << c.name;
    }
    EXPECT_FALSE(r.error().message.empty()) << c.name;
  }
}

TEST(ParseKrl, AcceptsUnsortedRepeatedAndOverlappingSerialsAndMergesThem) {
  TestSigner ca;
  Bytes krl = KrlBytes()
                  .Header()
                  .Section(kSectionCertificates,
                           CertSection(ca.PublicBlob(), {{kSubsectionSerialList, U64s({9, 3, 9, 4})},
                                                         {kSubsectionSerialRange, U64s({5, 8})},
                                                         {kSubsectionSerialRange, U64s({7, 7})},
                                                         {kSubsectionSerialBitmap, Bitmap(20, {0x05})},
                                                         {kSubsectionKeyId, Strings({"b", "a", "b"})}}))
                  // A second section for the same CA joins the first.
                  .Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialList, U64s({10})}}))
                  .Take();
  auto r = ParseKrl(krl);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->certificates.size(), 1u);
  EXPECT_EQ(r->certificates[0].serials, (std::vector<SerialRange>{{3, 10}, {20, 20}, {22, 22}}));
  EXPECT_EQ(r->certificates[0].key_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->version, 5u);
  EXPECT_EQ(r->generated_date, 6u);
}

TEST(ParseKrl, AcceptsWhatOpenSshAccepts) {
  TestSigner ca;
  struct Accepted {
    const char* name;
    Bytes krl;
  };
  const Accepted cases[] = {
      {"header only", KrlBytes().Header().Take()},
      {"empty certificate section (leaves no trace)", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {})).Take()},
      {"empty bitmap", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialBitmap, Bitmap(5, {})}})).Take()},
      {"bitmap with leading zero bytes", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialBitmap, Bitmap(5, {0, 0, 1})}})).Take()},
      {"bitmap from 0 that leaves serial 0 out", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialBitmap, Bitmap(0, {6})}})).Take()},
      {"bitmap ending at the last serial", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialBitmap, Bitmap(std::numeric_limits<std::uint64_t>::max() - 1, {3})}})).Take()},
      {"key ID ending in a NUL", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionKeyId, Strings({std::string_view("id\0", 3)})}})).Take()},
      {"empty key ID", KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionKeyId, Strings({""})}})).Take()},
      {"wildcard section with serials", KrlBytes().Header().Section(kSectionCertificates, CertSection({}, {{kSubsectionSerialList, U64s({7})}})).Take()},
      {"explicit blob that is no key", KrlBytes().Header().Section(kSectionExplicitKey, Strings({"", "garbage"})).Take()},
      {"empty sections", KrlBytes().Header().Section(kSectionExplicitKey, {}).Section(kSectionFingerprintSha1, {}).Section(kSectionFingerprintSha256, {}).Take()},
      {"comment ending in a NUL", KrlBytes().Header(1, std::string_view("hi\0", 3)).Take()},
  };
  for (const auto& c : cases) {
    auto r = ParseKrl(c.krl);
    EXPECT_TRUE(r.has_value()) << c.name << ": " << r.error().message;
  }
}

TEST(ParseKrl, BitmapsBecomeRuns) {
  TestSigner ca;
  // 0x01 0xff 0x0f: bits 0-3, 8-15, 16: serials 100-103, 108-116.
  Bytes krl = KrlBytes()
                  .Header()
                  .Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialBitmap, Bitmap(100, {0x01, 0xff, 0x0f})}}))
                  .Take();
  auto r = ParseKrl(krl);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->certificates[0].serials, (std::vector<SerialRange>{{100, 103}, {108, 116}}));
}

TEST(ParseKrl, VerifiedSignaturesAreAcceptedAndTheirKeysRecorded) {
  TestSigner ca, s1, s2;
  Bytes body = KrlBytes().Header().Section(kSectionCertificates, CertSection(ca.PublicBlob(), {{kSubsectionSerialList, U64s({7})}})).Take();
  auto one = ParseKrl(KrlBytes().Raw(body).Sign(s1).Take());
  ASSERT_TRUE(one.has_value()) << one.error().message;
  ASSERT_EQ(one->signing_keys.size(), 1u);
  EXPECT_TRUE(Equal(one->signing_keys[0], s1.PublicBlob()));
  EXPECT_EQ(one->certificates[0].serials, (std::vector<SerialRange>{{7, 7}}));

  auto two = ParseKrl(KrlBytes().Raw(body).Sign(s1).Sign(s2).Take());
  ASSERT_TRUE(two.has_value()) << two.error().message;
  EXPECT_EQ(two->signing_keys.size(), 2u);

  // One signer revoked, the other not: accepted.
  Bytes revokes_s1 = KrlBytes().Header().Section(kSectionExplicitKey, Strings({AsText(s1.PublicBlob())})).Take();
  EXPECT_TRUE(ParseKrl(KrlBytes().Raw(revokes_s1).Sign(s1).Sign(s2).Take()).has_value());
}

TEST(ParseKrl, EncodedKrlsReadBackTheSame) {
  TestSigner ca1, ca2;
  KrlBuilder b;
  auto k1 = ca1.PublicKey(), k2 = ca2.PublicKey();
  ASSERT_TRUE(b.RevokeSerials(&k1, 1, 1000));
  ASSERT_TRUE(b.RevokeSerials(&k1, 5000, 5000));
  for (std::uint64_t s = 7000; s < 7200; s += 3) ASSERT_TRUE(b.RevokeSerials(&k1, s, s));
  ASSERT_TRUE(b.RevokeKeyId(&k2, "bob"));
  ASSERT_TRUE(b.RevokeKeyId(nullptr, "anyone"));
  ASSERT_TRUE(b.RevokeSerials(nullptr, 42, 42));
  for (int i = 0; i < 20; ++i) b.RevokeKeyExplicit(RandomKey());
  b.RevokeKeySha1(RandomKey());
  b.RevokeKeySha256(RandomKey());
  Krl krl = std::move(b).Finish();
  krl.version = 17;
  krl.generated_date = 1763712000;
  krl.comment = "keyward test";
  auto bytes = EncodeKrl(krl);
  ASSERT_TRUE(bytes.has_value());
  auto back = ParseKrl(*bytes);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(SameRevocations(*back, krl));
  auto again = EncodeKrl(*back);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *bytes);
}

}  // namespace
}  // namespace keyward::krl
