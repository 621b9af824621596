// ssh-keygen -L's text for certificates, including options keyward never
// signs itself (unknown critical options and extensions, flags with data).
// The expected texts follow what ssh-keygen 9.2 prints; the e2e test
// compares with ssh-keygen itself.
#include "ca/cert_text.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "ca/ca_test_util.h"
#include "key/fingerprint.h"
#include "wire/writer.h"

namespace keyward::ca {
namespace {

using testing::MakeKey;
using testing::MakeSigner;

struct Option {
  std::string name;
  Bytes data;
};

Bytes StringData(std::string_view s) {
  wire::Writer w;
  w.String(s);
  return w.Take();
}

// A certificate with any options at all, signed by `ca`.
key::PublicKey Build(const CaSigner& ca, const key::PublicKey& subject, key::CertType type, std::string key_id,
                     std::vector<std::string> principals, std::uint64_t after, std::uint64_t before,
                     const std::vector<Option>& critical, const std::vector<Option>& extensions) {
  wire::Writer w;
  w.String(key::CanonicalKeyType(subject.algorithm(), subject.curve(), true).name);
  w.String(Bytes(32, 1));
  ByteView plain = subject.plain_blob();
  w.Raw(plain.subspan(4 + subject.type_name().size()));
  w.U64(7);
  w.U32(static_cast<std::uint32_t>(type));
  w.String(std::string_view(key_id));
  wire::Writer p;
  for (const auto& s : principals) p.String(std::string_view(s));
  w.String(ByteView(p.bytes()));
  w.U64(after);
  w.U64(before);
  for (const auto* list : {&critical, &extensions}) {
    wire::Writer o;
    for (const auto& opt : *list) {
      o.String(std::string_view(opt.name));
      o.String(ByteView(opt.data));
    }
    w.String(ByteView(o.bytes()));
  }
  w.String(ByteView());
  w.String(ca.public_key().blob());
  Bytes blob = w.Take();
  const std::size_t n = blob.size();
  EXPECT_TRUE(ca.AppendSignature(ByteView(blob.data(), n), blob));
  auto parsed = key::ParsePublicKeyBlob(blob);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return std::move(*parsed);
}

class CertTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = getenv("TZ");
    if (old != nullptr) old_tz_ = old;
    had_tz_ = old != nullptr;
    setenv("TZ", "UTC0", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  bool had_tz_ = false;
  std::string old_tz_;
};

TEST_F(CertTextTest, EveryKindOfOption) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  key::PublicKey subject = MakeKey(key::Algorithm::kEcdsa, 384);
  key::PublicKey cert = Build(ca, subject, key::CertType::kUser, "my id", {"alice", "bob"}, 1893456000, 1925037296,
                              {{"force-command", StringData("ls -l")},
                               {"source-address", StringData("10.0.0.0/8,::1")},
                               {"verify-required", {}},
                               {"zz@x", StringData("val")},
                               {"zzz@flag", {}}},
                              {{"foo@bar", StringData("baz")},
                               {"permit-X11-forwarding", {}},
                               {"permit-pty", {}},
                               {"unknown-flag@x", {}}});
  std::string out;
  ASSERT_TRUE(AppendCertificateDetails(cert, out));
  const std::string expected =
      "        Type: ecdsa-sha2-nistp384-cert-v01@openssh.com user certificate\n"
      "        Public key: ECDSA-CERT " + key::Fingerprint(subject) + "\n"
      "        Signing CA: ED25519 " + key::Fingerprint(ca.public_key()) + " (using ssh-ed25519)\n"
      "        Key ID: \"my id\"\n"
      "        Serial: 7\n"
      "        Valid: from 2030-01-01T00:00:00 to 2031-01-01T12:34:56\n"
      "        Principals: \n"
      "                alice\n"
      "                bob\n"
      "        Critical Options: \n"
      "                force-command ls -l\n"
      "                source-address 10.0.0.0/8,::1\n"
      "                verify-required\n"
      "                zz@x UNKNOWN OPTION: 0000000376616c (len 7)\n"
      "                zzz@flag UNKNOWN FLAG OPTION\n"
      "        Extensions: \n"
      "                foo@bar UNKNOWN OPTION: 0000000362617a (len 7)\n"
      "                permit-X11-forwarding\n"
      "                permit-pty\n"
      "                unknown-flag@x UNKNOWN FLAG OPTION\n";
  EXPECT_EQ(out, expected);
}

TEST_F(CertTextTest, EmptyHostCertificate) {
  CaSigner ca = MakeSigner(key::Algorithm::kRsa, 2048);
  key::PublicKey subject = MakeKey(key::Algorithm::kEd25519);
  key::PublicKey cert = Build(ca, subject, key::CertType::kHost, "", {}, 0, ~std::uint64_t{0}, {}, {});
  std::string out;
  ASSERT_TRUE(AppendCertificateDetails(cert, out));
  const std::string expected =
      "        Type: ssh-ed25519-cert-v01@openssh.com host certificate\n"
      "        Public key: ED25519-CERT " + key::Fingerprint(subject) + "\n"
      "        Signing CA: RSA " + key::Fingerprint(ca.public_key()) + " (using rsa-sha2-512)\n"
      "        Key ID: \"\"\n"
      "        Serial: 7\n"
      "        Valid: forever\n"
      "        Principals: (none)\n"
      "        Critical Options: (none)\n"
      "        Extensions: (none)\n";
  EXPECT_EQ(out, expected);
}

TEST_F(CertTextTest, OptionsInTheWrongSectionAreUnknown) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  key::PublicKey cert = Build(ca, MakeKey(key::Algorithm::kEd25519), key::CertType::kUser, "x", {"a"}, 0, 100,
                              {{"permit-pty", {}}}, {{"force-command", StringData("id")}});
  std::string out;
  ASSERT_TRUE(AppendCertificateDetails(cert, out));
  EXPECT_NE(out.find("                permit-pty UNKNOWN FLAG OPTION\n"), std::string::npos) << out;
  EXPECT_NE(out.find("                force-command UNKNOWN OPTION: 000000026964 (len 6)\n"), std::string::npos);
  EXPECT_NE(out.find("        Valid: before 1970-01-01T00:01:40\n"), std::string::npos);
}

TEST_F(CertTextTest, StopsAtACorruptOptionAsSshKeygenDoes) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  key::PublicKey cert = Build(ca, MakeKey(key::Algorithm::kEd25519), key::CertType::kUser, "x", {"a"}, 16,
                              ~std::uint64_t{0}, {}, {{"permit-pty", StringData("yes")}, {"permit-user-rc", {}}});
  std::string out;
  auto ok = AppendCertificateDetails(cert, out);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, "corrupt_option");
  EXPECT_TRUE(out.ends_with("        Extensions: \n                permit-pty\n")) << out;
  EXPECT_NE(out.find("Valid: after 1970-01-01T00:00:16\n"), std::string::npos);
}

}  // namespace
}  // namespace keyward::ca
