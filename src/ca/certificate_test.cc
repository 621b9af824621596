// Certificates keyward signs: every CA type with every subject type, read
// back by the foundation's parser (which verifies the CA signature as
// OpenSSH does), options encoded byte for byte as OpenSSH encodes them, and
// the must-reject list of requests.
#include "ca/certificate.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "authkeys/cert_options.h"
#include "ca/ca_test_util.h"
#include "key/fingerprint.h"
#include "wire/writer.h"

namespace keyward::ca {
namespace {

using testing::KeyFromText;
using testing::MakeKey;
using testing::MakeSigner;

// OpenSSH's own test keys (regress/unittests/sshkey/testdata): types
// keyward cannot generate.
constexpr const char* kDsaKey =
    "ssh-dss AAAAB3NzaC1kc3MAAACBAPqS600VGwdPAQC/p3f0uGyrLVql0cFn1zYd/JGvtabKnIYjLaYprje/NcjwI3CZFJiz4Dp3S8kLs+X5/"
    "1DMn/Tg1Y4D4yLB+6vCtHcJF7rVBFhvw/KZwc7G54ez3khyOtsg82fzpyOc8/mq+/+C5TMKO7DDjMF0k5emWKCsa3ZfAAAAFQCjA/"
    "+dKkMu4/CWjJPtfl7YNaStNQAAAIEA7uX1BVVtJKjLmWrpw62+l/xSXA5rr7MHBuWjiCYV3VHBfXJaQDyRDtGuEJKDwdzqYgacpGApGWL/"
    "cuBtJ9nShsUl6GRG0Ra03g+Hx9VR5LviJBsjAVB4qVgciU1NGga0Bt2Lecd1X4EGQRBzVXeuOpiqGM6jP/I2yDMs0Pboet0AAACBAOdXpyfm"
    "obEBaOqZAuvgj1P0uhjG2P31Ufurv22FWPBU3A9qrkxbOXwE0LwvjCvrsQV/lrYhJz/tiys40VeahulWZE5SAHMXGIf95LiLSgaXMjko7joo"
    "t+LK84ltLymwZ4QMnYjnZSSclf1UuyQMcUtb34+I0u9Ycnyhp2mSFsQt";
constexpr const char* kEd25519SkKey =
    "sk-ssh-ed25519@openssh.com "
    "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAICFo/k5LU8863u66YC9eUO2170QduohPURkQnbLa/dczAAAABHNzaDo=";
constexpr const char* kEcdsaSkKey =
    "sk-ecdsa-sha2-nistp256@openssh.com "
    "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBGdVPkKOLUMZ7b6rZfS8BOHotic4NX4MmuyEm"
    "iuvkaeKlbb1F+5oNezRYHpcF6P104trNVEONCu1XX1CA7px+QUAAAAEc3NoOg==";

CertificateRequest BasicRequest(key::PublicKey subject) {
  CertificateRequest r;
  r.subject = std::move(subject);
  r.serial = 42;
  r.key_id = "keyward:alice:login:42";
  r.principals = {"alice"};
  r.valid_after = 1'700'000'000;
  r.valid_before = 1'700'604'800;
  return r;
}

key::PublicKey SignAndParse(const CaSigner& ca, const CertificateRequest& r) {
  auto blob = SignCertificate(ca, r);
  EXPECT_TRUE(blob) << blob.error().message;
  if (!blob) std::abort();
  auto parsed = key::ParsePublicKeyBlob(*blob);  // verifies the CA signature
  EXPECT_TRUE(parsed) << parsed.error().message;
  if (!parsed) std::abort();
  return std::move(*parsed);
}

Bytes StringOfString(std::string_view s) {
  wire::Writer inner;
  inner.String(s);
  return inner.Take();
}

TEST(CaCertificate, EveryCaSignsEverySubjectType) {
  struct Ca {
    key::Algorithm algorithm;
    unsigned bits;
    std::string_view signature;
  };
  const std::vector<Ca> cas = {
      {key::Algorithm::kEd25519, 0, "ssh-ed25519"},
      {key::Algorithm::kEcdsa, 256, "ecdsa-sha2-nistp256"},
      {key::Algorithm::kEcdsa, 384, "ecdsa-sha2-nistp384"},
      {key::Algorithm::kEcdsa, 521, "ecdsa-sha2-nistp521"},
      {key::Algorithm::kRsa, 2048, "rsa-sha2-512"},
  };
  std::vector<key::PublicKey> subjects = {
      MakeKey(key::Algorithm::kEd25519),      MakeKey(key::Algorithm::kEcdsa, 256),
      MakeKey(key::Algorithm::kEcdsa, 384),   MakeKey(key::Algorithm::kEcdsa, 521),
      MakeKey(key::Algorithm::kRsa, 2048),    KeyFromText(kDsaKey),
      KeyFromText(kEd25519SkKey),             KeyFromText(kEcdsaSkKey),
  };
  for (const Ca& c : cas) {
    CaSigner ca = MakeSigner(c.algorithm, c.bits);
    EXPECT_EQ(ca.signature_algorithm(), c.signature);
    for (const auto& subject : subjects) {
      for (key::CertType type : {key::CertType::kUser, key::CertType::kHost}) {
        SCOPED_TRACE(std::string(c.signature) + " signs " + std::string(subject.type_name()));
        CertificateRequest r = BasicRequest(subject);
        r.type = type;
        key::PublicKey cert = SignAndParse(ca, r);
        ASSERT_TRUE(cert.is_certificate());
        const key::Certificate& got = *cert.certificate();
        EXPECT_EQ(cert.type().name, key::CanonicalKeyType(subject.algorithm(), subject.curve(), true).name);
        EXPECT_TRUE(cert.SamePublicKey(subject));
        EXPECT_EQ(key::Fingerprint(cert), key::Fingerprint(subject));
        EXPECT_EQ(got.nonce.size(), kNonceBytes);
        EXPECT_EQ(got.serial, 42u);
        EXPECT_EQ(got.type, type);
        EXPECT_EQ(got.key_id, "keyward:alice:login:42");
        EXPECT_EQ(got.principals, std::vector<std::string>{"alice"});
        EXPECT_EQ(got.valid_after, 1'700'000'000u);
        EXPECT_EQ(got.valid_before, 1'700'604'800u);
        EXPECT_TRUE(got.critical_options.empty());
        EXPECT_TRUE(got.extensions.empty());
        EXPECT_TRUE(got.reserved.empty());
        EXPECT_EQ(got.signature_algorithm, c.signature);
        ASSERT_NE(got.signature_key, nullptr);
        EXPECT_TRUE(got.signature_key->SamePublicKey(ca.public_key()));
      }
    }
  }
}

TEST(CaCertificate, ATamperedCertificateDoesNotVerify) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  auto blob = SignCertificate(ca, BasicRequest(MakeKey(key::Algorithm::kEd25519)));
  ASSERT_TRUE(blob);
  // The serial's last byte: after type (4+32), nonce (4+32) and key (4+32).
  Bytes tampered = *blob;
  tampered[4 + 32 + 4 + 32 + 4 + 32 + 7] ^= 1;
  EXPECT_FALSE(key::ParsePublicKeyBlob(tampered));
  EXPECT_TRUE(key::ParsePublicKeyBlob(*blob));
}

TEST(CaCertificate, OptionsAreSortedAndEncodedAsOpenSshDoes) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  CertificateRequest r = BasicRequest(MakeKey(key::Algorithm::kEd25519));
  r.principals = {"alice", "root"};
  r.force_command = "/usr/local/bin/backup --now";
  r.source_address = "10.0.0.0/8,2001:db8::/32";
  r.verify_required = true;
  r.extensions = {"permit-pty", "permit-X11-forwarding", "no-touch-required", "permit-pty", "permit-agent-forwarding"};
  key::PublicKey cert = SignAndParse(ca, r);
  const key::Certificate& c = *cert.certificate();
  EXPECT_EQ(c.principals, (std::vector<std::string>{"alice", "root"}));

  ASSERT_EQ(c.critical_options.size(), 3u);
  EXPECT_EQ(c.critical_options[0].name, "force-command");
  EXPECT_EQ(c.critical_options[0].data, StringOfString("/usr/local/bin/backup --now"));
  EXPECT_EQ(c.critical_options[1].name, "source-address");
  EXPECT_EQ(c.critical_options[1].data, StringOfString("10.0.0.0/8,2001:db8::/32"));
  EXPECT_EQ(c.critical_options[2].name, "verify-required");
  EXPECT_TRUE(c.critical_options[2].data.empty());

  // Byte order ("X" sorts before "a"), each once, no data.
  std::vector<std::string> names;
  for (const auto& e : c.extensions) {
    names.push_back(e.name);
    EXPECT_TRUE(e.data.empty()) << e.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"no-touch-required", "permit-X11-forwarding", "permit-agent-forwarding",
                                             "permit-pty"}));

  // sshd reads them as meant.
  auto options = authkeys::OptionsFromCertificate(c);
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->force_command, "/usr/local/bin/backup --now");
  EXPECT_EQ(options->required_from_host_cert, "10.0.0.0/8,2001:db8::/32");
  EXPECT_TRUE(options->verify_required);
  EXPECT_TRUE(options->no_touch_required);
  EXPECT_TRUE(options->permit_pty);
  EXPECT_TRUE(options->permit_x11_forwarding);
  EXPECT_TRUE(options->permit_agent_forwarding);
  EXPECT_FALSE(options->permit_port_forwarding);
  EXPECT_FALSE(options->permit_user_rc);
}

TEST(CaCertificate, NoncesDiffer) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  CertificateRequest r = BasicRequest(MakeKey(key::Algorithm::kEd25519));
  std::set<Bytes> nonces;
  for (int i = 0; i < 20; ++i) nonces.insert(SignAndParse(ca, r).certificate()->nonce);
  EXPECT_EQ(nonces.size(), 20u);
}

TEST(CaCertificate, MustReject) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  const key::PublicKey subject = MakeKey(key::Algorithm::kEd25519);
  auto existing = SignCertificate(ca, BasicRequest(subject));
  ASSERT_TRUE(existing);
  auto cert_subject = key::ParsePublicKeyBlob(*existing);
  ASSERT_TRUE(cert_subject);

  struct Case {
    std::string name;
    std::function<void(CertificateRequest&)> change;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"certificate as subject", [&](CertificateRequest& r) { r.subject = *cert_subject; }, "certificate_as_subject"},
      {"no principals", [](CertificateRequest& r) { r.principals.clear(); }, "no_principals"},
      {"empty principal", [](CertificateRequest& r) { r.principals = {""}; }, "bad_principal"},
      {"comma", [](CertificateRequest& r) { r.principals = {"alice,root"}; }, "bad_principal"},
      {"space", [](CertificateRequest& r) { r.principals = {"alice root"}; }, "bad_principal"},
      {"tab", [](CertificateRequest& r) { r.principals = {"alice\troot"}; }, "bad_principal"},
      {"newline", [](CertificateRequest& r) { r.principals = {"alice\n"}; }, "bad_principal"},
      {"NUL", [](CertificateRequest& r) { r.principals = {std::string("a\0b", 3)}; }, "bad_principal"},
      {"control", [](CertificateRequest& r) { r.principals = {"a\x1b[2Jb"}; }, "bad_principal"},
      {"non-ASCII", [](CertificateRequest& r) { r.principals = {"al\xc3\xaf" "ce"}; }, "bad_principal"},
      {"long principal", [](CertificateRequest& r) { r.principals = {std::string(256, 'a')}; }, "bad_principal"},
      {"too many principals",
       [](CertificateRequest& r) { r.principals = std::vector<std::string>(kMaxPrincipals + 1, "a"); },
       "bad_principal"},
      {"serial 0", [](CertificateRequest& r) { r.serial = 0; }, "bad_serial"},
      {"key id newline", [](CertificateRequest& r) { r.key_id = "a\nb"; }, "bad_key_id"},
      {"key id too long", [](CertificateRequest& r) { r.key_id = std::string(kMaxKeyIdBytes + 1, 'k'); }, "bad_key_id"},
      {"ends before start", [](CertificateRequest& r) { r.valid_before = r.valid_after; }, "bad_validity"},
      {"host with force-command",
       [](CertificateRequest& r) {
         r.type = key::CertType::kHost;
         r.force_command = "true";
       },
       "host_certificate_options"},
      {"host with extension",
       [](CertificateRequest& r) {
         r.type = key::CertType::kHost;
         r.extensions = {"permit-pty"};
       },
       "host_certificate_options"},
      {"force-command newline", [](CertificateRequest& r) { r.force_command = "ls\nrm -rf /"; }, "bad_force_command"},
      {"source host name", [](CertificateRequest& r) { r.source_address = "example.com"; }, "bad_address_list"},
      {"source wildcard", [](CertificateRequest& r) { r.source_address = "10.0.0.*"; }, "bad_address_list"},
      {"source bits past mask", [](CertificateRequest& r) { r.source_address = "10.1.2.3/8"; }, "bad_address_list"},
      {"source empty entry", [](CertificateRequest& r) { r.source_address = "10.0.0.0/8,"; }, "bad_address_list"},
      {"source negation", [](CertificateRequest& r) { r.source_address = "!10.0.0.0/8"; }, "bad_address_list"},
      {"source prefix too long", [](CertificateRequest& r) { r.source_address = "10.0.0.0/33"; }, "bad_address_list"},
      {"unknown extension", [](CertificateRequest& r) { r.extensions = {"permit-everything"}; }, "unknown_extension"},
      {"custom extension", [](CertificateRequest& r) { r.extensions = {"login@github.com"}; }, "unknown_extension"},
  };
  for (const auto& c : cases) {
    CertificateRequest r = BasicRequest(subject);
    c.change(r);
    auto blob = SignCertificate(ca, r);
    ASSERT_FALSE(blob) << c.name;
    EXPECT_EQ(blob.error().code, c.code) << c.name << ": " << blob.error().message;
    EXPECT_FALSE(blob.error().message.empty());
  }
}

TEST(CaCertificate, PrincipalLists) {
  auto ok = ParsePrincipalList("alice,bob,root");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, (std::vector<std::string>{"alice", "bob", "root"}));
  auto host = ParsePrincipalList("host.example.com");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->size(), 1u);
  for (const char* bad : {"", ",", "alice,", ",alice", "alice,,bob", "alice, bob", "alice bob", "al\tice"}) {
    EXPECT_FALSE(ParsePrincipalList(bad)) << bad;
  }
}

TEST(CaCertificate, LineForTheCertFile) {
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  const key::PublicKey subject = MakeKey(key::Algorithm::kEcdsa, 384);
  auto blob = SignCertificate(ca, BasicRequest(subject));
  ASSERT_TRUE(blob);
  std::string line = CertificateLine(subject, *blob, "alice@laptop\x1b[31m");
  EXPECT_TRUE(line.starts_with("ecdsa-sha2-nistp384-cert-v01@openssh.com AAAA")) << line;
  EXPECT_TRUE(line.ends_with(" alice@laptop[31m\n")) << line;
  auto read = key::ReadKeyText(line);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->key.is_certificate());
  EXPECT_EQ(CertificateLine(subject, *blob, "").find(' ', 50), std::string::npos);
}

}  // namespace
}  // namespace keyward::ca
