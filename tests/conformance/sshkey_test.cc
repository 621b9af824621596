// OpenSSH's own key test data (regress/unittests/sshkey/testdata, copied to
// ../shared/conformance/openssh/sshkey with expected.json): every public key
// and certificate must read to the type, size, comment, fingerprints and
// certificate fields that OpenSSH reads from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "key/fingerprint.h"
#include "key/public_key.h"
#include "wire/base64.h"
#include "wire/reader.h"

namespace keyward {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDir = fs::path(KEYWARD_CONFORMANCE_DIR) / "openssh" / "sshkey";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string StripTrailingNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// upstream compares .fp files "after trimming trailing CR/LF/space/tab".
std::string TrimRight(std::string s) {
  while (!s.empty() && std::string_view(" \t\r\n").find(s.back()) != std::string_view::npos) s.pop_back();
  return s;
}

const json& Manifest() {
  static const json manifest = [] {
    std::ifstream in(kDir / "expected.json");
    if (!in) return json::object();
    return json::parse(in);
  }();
  return manifest;
}

std::vector<std::string> PublicKeyFiles() {
  std::vector<std::string> names;
  const json& m = Manifest();
  if (m.contains("public_keys")) {
    for (auto it = m["public_keys"].begin(); it != m["public_keys"].end(); ++it) names.push_back(it.key());
  }
  // An empty list would make the parameterized suite pass vacuously; a
  // missing name makes the test below fail loudly instead.
  if (names.empty()) names.push_back("(expected.json missing or empty)");
  return names;
}

std::vector<std::string> CertificateFiles() {
  std::vector<std::string> names;
  const json& m = Manifest();
  if (m.contains("public_keys")) {
    for (auto it = m["public_keys"].begin(); it != m["public_keys"].end(); ++it) {
      if (it.value().contains("certificate")) names.push_back(it.key());
    }
  }
  if (names.empty()) names.push_back("(expected.json has no certificates)");
  return names;
}

std::string TestName(const std::string& file) {
  std::string out;
  for (char c : file) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

struct Loaded {
  key::KeyText text;
  std::string line;
};

// Reads "<type> <base64> <comment>\n" the way a caller of ReadKeyText does.
Loaded Load(const std::string& file) {
  std::string line = StripTrailingNewline(ReadFile(kDir / file));
  auto read = key::ReadKeyText(line);
  if (!read) {
    ADD_FAILURE() << file << ": " << read.error().code << ": " << read.error().message;
    return {};
  }
  return {std::move(*read), line};
}

// The data of a critical option is itself an SSH string holding the value.
std::string OptionValue(const key::CertOption& option) {
  if (option.data.empty()) return "";
  wire::Reader r(option.data);
  auto value = r.String();
  if (!value || !r.empty()) {
    ADD_FAILURE() << "option " << option.name << " data is not one SSH string";
    return "";
  }
  return std::string(AsText(*value));
}

class SshkeyPublicKey : public testing::TestWithParam<std::string> {};

TEST_P(SshkeyPublicKey, ParsesToWhatOpenSshReads) {
  const std::string& file = GetParam();
  const json& m = Manifest();
  ASSERT_TRUE(m.contains("public_keys") && m["public_keys"].contains(file)) << file;
  const json& want = m["public_keys"][file];

  std::string line = StripTrailingNewline(ReadFile(kDir / file));
  auto read = key::ReadKeyText(line);
  ASSERT_TRUE(read.has_value()) << file << ": " << read.error().code << ": " << read.error().message;
  const key::PublicKey& k = read->key;

  EXPECT_EQ(k.type_name(), want["key_type"].get<std::string>());
  EXPECT_EQ(k.bits(), want["bits"].get<unsigned>());
  EXPECT_EQ(line.substr(read->comment_offset), want["comment"].get<std::string>());
  EXPECT_EQ(key::Fingerprint(k), want["fingerprints"]["sha256"]["value"].get<std::string>());
  EXPECT_EQ(key::Fingerprint(k, key::FingerprintHash::kMd5), want["fingerprints"]["md5"]["value"].get<std::string>());
  if (want.contains("ecdsa_curve")) {
    EXPECT_EQ(key::CurveIdentifier(k.curve()), want["ecdsa_curve"].get<std::string>());
  }
  if (want.contains("sk_application")) {
    EXPECT_EQ(k.sk_application(), want["sk_application"].get<std::string>());
  }

  // Written back canonically, the line reads to the same key.
  auto again = key::ReadKeyText(k.ToText());
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(Equal(again->key.blob(), k.blob()));

  EXPECT_EQ(k.is_certificate(), want.contains("certificate"));
}

INSTANTIATE_TEST_SUITE_P(Sshkey, SshkeyPublicKey, testing::ValuesIn(PublicKeyFiles()),
                         [](const auto& p) { return TestName(p.param); });

class SshkeyCertificate : public testing::TestWithParam<std::string> {};

TEST_P(SshkeyCertificate, FieldsMatch) {
  const std::string& file = GetParam();
  const json& m = Manifest();
  ASSERT_TRUE(m.contains("public_keys") && m["public_keys"].contains(file)) << file;
  const json& want_key = m["public_keys"][file];
  ASSERT_TRUE(want_key.contains("certificate")) << file;
  const json& want = want_key["certificate"];

  Loaded loaded = Load(file);
  ASSERT_TRUE(loaded.text.key.is_certificate()) << file;
  const key::PublicKey& k = loaded.text.key;
  const key::Certificate& c = *k.certificate();

  EXPECT_EQ(c.type == key::CertType::kUser ? "user" : "host", want["cert_type"].get<std::string>());
  EXPECT_EQ(c.serial, want["serial"].get<std::uint64_t>());
  EXPECT_EQ(c.key_id, want["key_id"].get<std::string>());
  EXPECT_EQ(c.principals, want["principals"].get<std::vector<std::string>>());
  EXPECT_EQ(c.valid_after, want["valid_after"].get<std::uint64_t>());
  EXPECT_EQ(c.valid_before, want["valid_before"].get<std::uint64_t>());
  EXPECT_EQ(c.nonce.size(), want["nonce_length"].get<std::size_t>());

  std::vector<std::pair<std::string, std::string>> critical, want_critical;
  for (const auto& o : c.critical_options) critical.emplace_back(o.name, OptionValue(o));
  for (const auto& o : want["critical_options"]) {
    want_critical.emplace_back(o["name"].get<std::string>(), o["value"].get<std::string>());
  }
  EXPECT_EQ(critical, want_critical);

  std::vector<std::string> extensions;
  for (const auto& e : c.extensions) {
    extensions.push_back(e.name);
    EXPECT_TRUE(e.data.empty()) << "extension " << e.name << " carries data";
  }
  EXPECT_EQ(extensions, want["extensions"].get<std::vector<std::string>>());

  EXPECT_EQ(c.signature_algorithm, want["signature_algorithm"].get<std::string>());
  ASSERT_NE(c.signature_key, nullptr);
  EXPECT_FALSE(c.signature_key->is_certificate());
  EXPECT_EQ(c.signature_key->type_name(), want["ca_key_type"].get<std::string>());
  EXPECT_EQ(key::Sha256FingerprintOfBlob(c.signature_key->plain_blob()), want["ca_sha256_fingerprint"].get<std::string>());
  EXPECT_EQ(key::Fingerprint(*c.signature_key), want["ca_sha256_fingerprint"].get<std::string>());

  // The CA is a file of the test data, or its public key is given inline.
  if (want.contains("ca_key_file") && want["ca_key_file"].is_string()) {
    Loaded ca = Load(want["ca_key_file"].get<std::string>());
    EXPECT_TRUE(ca.text.key.SamePublicKey(*c.signature_key)) << "CA is not " << want["ca_key_file"];
  } else {
    ASSERT_TRUE(want.contains("ca_public_key")) << file;
    auto ca = key::ReadKeyText(want["ca_public_key"].get<std::string>());
    ASSERT_TRUE(ca.has_value()) << ca.error().message;
    EXPECT_TRUE(ca->key.SamePublicKey(*c.signature_key));
  }

  // The certified key is the plain key of its own file: same public key,
  // same fingerprint, but not the same blob.
  Loaded plain = Load(want["certified_key_file"].get<std::string>());
  EXPECT_EQ(plain.text.key.type_name(), want["certified_key_type"].get<std::string>());
  EXPECT_TRUE(k.SamePublicKey(plain.text.key));
  EXPECT_FALSE(Equal(k.blob(), plain.text.key.blob()));
  EXPECT_TRUE(Equal(k.plain_blob(), plain.text.key.blob()));
  EXPECT_EQ(key::Fingerprint(k), key::Fingerprint(plain.text.key));
}

// Flipping one byte in the middle of the CA's signature must make the whole
// certificate unreadable: OpenSSH verifies the signature at parse time.
TEST_P(SshkeyCertificate, FlippedSignatureByteIsRejected) {
  const std::string& file = GetParam();
  Loaded loaded = Load(file);
  ASSERT_TRUE(loaded.text.key.is_certificate()) << file;
  const key::PublicKey& k = loaded.text.key;
  const std::size_t signed_length = k.certificate()->signed_length;

  // Locate the signature bytes: string(alg) string(sig) inside string(blob).
  Bytes blob(k.blob().begin(), k.blob().end());
  wire::Reader outer(ByteView(blob).subspan(signed_length));
  auto sig_blob = outer.String();
  ASSERT_TRUE(sig_blob.has_value());
  wire::Reader inner(*sig_blob);
  ASSERT_TRUE(inner.CString().has_value());
  auto sig = inner.String();
  ASSERT_TRUE(sig.has_value());
  ASSERT_FALSE(sig->empty());
  const std::size_t at = static_cast<std::size_t>(sig->data() - blob.data()) + sig->size() / 2;

  for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
    Bytes bad = blob;
    bad[at] ^= mask;
    auto parsed = key::ParsePublicKeyBlob(bad);
    ASSERT_FALSE(parsed.has_value()) << file << ": flipped byte " << at << " (mask " << int{mask} << ") accepted";
    EXPECT_EQ(parsed.error().code, "bad_cert_signature") << parsed.error().message;

    // And through the text form, as in a file.
    std::string text = std::string(k.type_name()) + " " + wire::EncodeBase64(bad) + " x";
    EXPECT_FALSE(key::ReadKeyText(text).has_value());
  }
  // Without verification (a tool that shows broken certificates) it reads.
  Bytes bad = blob;
  bad[at] ^= 0x01;
  key::BlobOptions no_verify;
  no_verify.verify_certificate = false;
  EXPECT_TRUE(key::ParsePublicKeyBlob(bad, no_verify).has_value());
}

// A byte changed in the signed part (here the nonce) also breaks the
// signature.
TEST_P(SshkeyCertificate, FlippedSignedByteIsRejected) {
  const std::string& file = GetParam();
  Loaded loaded = Load(file);
  ASSERT_TRUE(loaded.text.key.is_certificate()) << file;
  Bytes blob(loaded.text.key.blob().begin(), loaded.text.key.blob().end());
  const std::size_t nonce_at = 4 + loaded.text.key.type_name().size() + 4;
  ASSERT_LT(nonce_at, blob.size());
  blob[nonce_at] ^= 0x01;
  auto parsed = key::ParsePublicKeyBlob(blob);
  ASSERT_FALSE(parsed.has_value()) << file;
  EXPECT_EQ(parsed.error().code, "bad_cert_signature");
}

INSTANTIATE_TEST_SUITE_P(Sshkey, SshkeyCertificate, testing::ValuesIn(CertificateFiles()),
                         [](const auto& p) { return TestName(p.param); });

// Every *.fp file holds the SHA256 fingerprint of its key (X.fp of X.pub,
// X-cert.fp of X-cert.pub, the certified key's fingerprint).
TEST(SshkeyFingerprintFiles, EveryFpFileMatchesItsKey) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".fp") continue;
    const std::string stem = name.substr(0, name.size() - 3);
    SCOPED_TRACE(name);
    Loaded loaded = Load(stem + ".pub");
    EXPECT_EQ(key::Fingerprint(loaded.text.key), TrimRight(ReadFile(entry.path())));
    ++checked;
  }
  EXPECT_GE(checked, 20) << "expected the 21 .fp files of the test data";
}

// The manifest says which fingerprints came from upstream files; those files
// must agree with the manifest too (guards the data, not just the code).
TEST(SshkeyFingerprintFiles, ManifestAgreesWithUpstreamFiles) {
  const json& m = Manifest();
  ASSERT_TRUE(m.contains("public_keys"));
  int checked = 0;
  for (auto it = m["public_keys"].begin(); it != m["public_keys"].end(); ++it) {
    const json& sha = it.value()["fingerprints"]["sha256"];
    if (!sha["from_file"].is_string()) continue;
    EXPECT_EQ(TrimRight(ReadFile(kDir / sha["from_file"].get<std::string>())), sha["value"].get<std::string>())
        << it.key();
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(SshkeyCertificates, Sha1AndSha512SignedCertificatesCertifyTheSameKey) {
  Loaded sha1 = Load("rsa_1_sha1-cert.pub");
  Loaded sha512 = Load("rsa_1_sha512-cert.pub");
  Loaded plain = Load("rsa_1.pub");
  ASSERT_TRUE(sha1.text.key.is_certificate() && sha512.text.key.is_certificate());
  EXPECT_EQ(sha1.text.key.certificate()->signature_algorithm, "ssh-rsa");
  EXPECT_EQ(sha512.text.key.certificate()->signature_algorithm, "rsa-sha2-512");
  EXPECT_TRUE(sha1.text.key.SamePublicKey(plain.text.key));
  EXPECT_TRUE(sha512.text.key.SamePublicKey(plain.text.key));
}

TEST(SshkeyCertificates, CertificateIsRefusedWhereOnlyPlainKeysAreAllowed) {
  Loaded cert = Load("ed25519_1-cert.pub");
  key::BlobOptions plain_only;
  plain_only.allow_certificate = false;
  auto parsed = key::ParsePublicKeyBlob(Bytes(cert.text.key.blob().begin(), cert.text.key.blob().end()), plain_only);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, "certificate_not_allowed");
}

}  // namespace
}  // namespace keyward
