// Every public key and certificate in the rest of the conformance data reads
// as OpenSSH reads it: the stripe/krl keys and certificates (fields from its
// expected.json), the Go test key and certificate, OpenSSH's regress/ keys
// (t4.ok, t11.ok fingerprints), the known_hosts test keys (each "ok" line's
// key and fingerprint, each invalid line's key refused) and the authopt
// certificates.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "key/crypto.h"
#include "key/fingerprint.h"
#include "key/public_key.h"

namespace keyward::key {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kRoot = fs::path(KEYWARD_CONFORMANCE_DIR);

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FirstLine(const fs::path& path) {
  std::string text = ReadFile(path);
  return text.substr(0, text.find('\n'));
}

json Manifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return json::object();
  }
  return json::parse(in);
}

Result<KeyText> ReadKeyFile(const fs::path& path) { return ReadKeyText(FirstLine(path)); }

std::string Hex(const Sha256Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// ------------------------------------------------------------- stripe/krl

TEST(StripeKrlKeys, EveryKeyAndCertificateMatchesTheManifest) {
  const fs::path dir = kRoot / "stripe-krl";
  json m = Manifest(dir / "expected.json");
  ASSERT_TRUE(m.contains("keys"));
  int certificates = 0;
  for (auto it = m["keys"].begin(); it != m["keys"].end(); ++it) {
    const std::string file = it.key();
    const json& want = it.value();
    SCOPED_TRACE(file);
    auto read = ReadKeyFile(dir / file);
    ASSERT_TRUE(read.has_value()) << read.error().message;
    const PublicKey& k = read->key;
    EXPECT_EQ(k.type_name(), want["key_type"].get<std::string>());
    if (want.contains("bits")) {
      EXPECT_EQ(k.bits(), want["bits"].get<unsigned>());
    }
    if (want.contains("sha256")) {
      EXPECT_EQ(Fingerprint(k), want["sha256"].get<std::string>());
    }
    if (want.contains("sha256_hex")) {
      EXPECT_EQ(Hex(Sha256(k.plain_blob())), want["sha256_hex"].get<std::string>());
    }
    if (!want.contains("certificate") && !want.contains("certified_key")) continue;

    ++certificates;
    ASSERT_TRUE(k.is_certificate());
    const Certificate& c = *k.certificate();
    auto certified = ReadKeyFile(dir / want["certified_key"].get<std::string>());
    ASSERT_TRUE(certified.has_value());
    EXPECT_TRUE(k.SamePublicKey(certified->key));
    auto ca = ReadKeyFile(dir / want["ca"].get<std::string>());
    ASSERT_TRUE(ca.has_value());
    ASSERT_NE(c.signature_key, nullptr);
    EXPECT_TRUE(c.signature_key->SamePublicKey(ca->key));
    EXPECT_EQ(c.type == CertType::kUser ? "user" : "host", want["cert_type"].get<std::string>());
    EXPECT_EQ(c.serial, want["serial"].get<std::uint64_t>());
    EXPECT_EQ(c.key_id, want["key_id"].get<std::string>());
    EXPECT_EQ(c.principals, want["principals"].get<std::vector<std::string>>());
    EXPECT_EQ(c.valid_after, want["valid_after"].get<std::uint64_t>());
    EXPECT_EQ(c.valid_before, want["valid_before"].get<std::uint64_t>());
    EXPECT_EQ(c.signature_algorithm, want["signature_algorithm"].get<std::string>());
  }
  EXPECT_EQ(certificates, 4);
}

TEST(StripeKrlKeys, KrlSectionCaFingerprintsAreTheCaKey) {
  const fs::path dir = kRoot / "stripe-krl";
  json m = Manifest(dir / "expected.json");
  auto ca = ReadKeyFile(dir / "cakey.pub");
  ASSERT_TRUE(ca.has_value());
  int sections = 0;
  for (const auto& krl : m.value("krls", json::array())) {
    for (const auto& s : krl.value("sections", json::array())) {
      if (!s.contains("ca_key_sha256")) continue;
      EXPECT_EQ(Fingerprint(ca->key), s["ca_key_sha256"].get<std::string>()) << krl["file"];
      ++sections;
    }
  }
  EXPECT_GT(sections, 0);
}

// ------------------------------------------------------------ golang

TEST(GolangKeys, TestKeyAndCertificate) {
  const fs::path dir = kRoot / "golang-x-crypto";
  json m = Manifest(dir / "authorized_keys_cases.json");
  ASSERT_TRUE(m.contains("test_key"));
  const json& want = m["test_key"];
  auto key = ReadKeyFile(dir / want["file"].get<std::string>());
  ASSERT_TRUE(key.has_value()) << key.error().message;
  EXPECT_EQ(key->key.type_name(), want["key_type"].get<std::string>());
  EXPECT_EQ(key->key.bits(), want["bits"].get<unsigned>());
  EXPECT_EQ(Fingerprint(key->key), want["sha256_fingerprint"].get<std::string>());
  EXPECT_EQ(Fingerprint(key->key, FingerprintHash::kMd5), want["md5_fingerprint_ssh_keygen_format"].get<std::string>());

  auto cert = ReadKeyFile(dir / "rsa-user-testcertificate-cert.pub");
  ASSERT_TRUE(cert.has_value()) << cert.error().message;
  ASSERT_TRUE(cert->key.is_certificate());
  const Certificate& c = *cert->key.certificate();
  EXPECT_TRUE(cert->key.SamePublicKey(key->key));
  EXPECT_EQ(c.type, CertType::kUser);
  EXPECT_EQ(c.key_id, "username");
  EXPECT_EQ(c.principals, std::vector<std::string>{"testcertificate"});
  EXPECT_EQ(c.signature_algorithm, "rsa-sha2-512");
  EXPECT_EQ(Fingerprint(*c.signature_key), "SHA256:IJlZGonR9SXInG0/Z8FFo3hOa9qRriZMdakCKf5NT6g");  // ssh-keygen -L
}

// --------------------------------------------------------- regress keys

TEST(RegressKeys, EveryOpenSshKeyMatchesTheManifest) {
  const fs::path dir = kRoot / "openssh" / "regress-keys";
  json m = Manifest(dir / "expected.json");
  ASSERT_TRUE(m.contains("keys"));
  int keys = 0;
  for (auto it = m["keys"].begin(); it != m["keys"].end(); ++it) {
    const json& want = it.value();
    if (!want.contains("sha256")) continue;
    SCOPED_TRACE(it.key());
    auto read = ReadKeyFile(dir / it.key());
    if (it.key().find("ssh2") != std::string::npos) {
      // RFC 4716 files ("---- BEGIN SSH2 PUBLIC KEY ----") are not key lines.
      EXPECT_FALSE(read.has_value());
      continue;
    }
    ASSERT_TRUE(read.has_value()) << read.error().message;
    EXPECT_EQ(read->key.type_name(), want["key_type"].get<std::string>());
    EXPECT_EQ(read->key.bits(), want["bits"].get<unsigned>());
    EXPECT_EQ(Fingerprint(read->key), want["sha256"].get<std::string>());
    EXPECT_EQ(Fingerprint(read->key, FingerprintHash::kMd5), want["md5"].get<std::string>());
    ++keys;
  }
  EXPECT_EQ(keys, 5);
}

TEST(RegressKeys, FingerprintsOfRsaKeyMatchT4AndT11) {
  const fs::path dir = kRoot / "openssh" / "regress-keys";
  auto read = ReadKeyFile(dir / "rsa_openssh.pub");
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(Fingerprint(read->key, FingerprintHash::kMd5), FirstLine(dir / "t4.ok"));
  EXPECT_EQ(Fingerprint(read->key), FirstLine(dir / "t11.ok"));
}

TEST(RegressKeys, Rfc4716FileIsNotAKeyLine) {
  auto read = ReadKeyFile(kRoot / "openssh" / "regress-keys" / "dsa_ssh2.pub");
  EXPECT_FALSE(read.has_value());
}

// ------------------------------------------------------------ known_hosts

// The key part of a known_hosts line: after the optional @marker and the
// host field.
std::string_view KeyPart(std::string_view line) {
  auto skip_word = [](std::string_view s) {
    std::size_t end = s.find_first_of(" \t");
    if (end == std::string_view::npos) return std::string_view();
    s.remove_prefix(end);
    return s.substr(std::min(s.size(), s.find_first_not_of(" \t")));
  };
  if (!line.empty() && line[0] == '@') line = skip_word(line);
  return skip_word(line);
}

TEST(HostKeys, EveryValidLineReadsToItsKeyAndEveryInvalidKeyIsRefused) {
  const fs::path dir = kRoot / "openssh" / "hostkeys";
  json m = Manifest(dir / "expected.json");
  ASSERT_TRUE(m.contains("lines"));
  int ok = 0, invalid = 0;
  for (const auto& line : m["lines"]) {
    const std::string status = line["status_with_key_parse"].get<std::string>();
    const std::string text = line["line"].get<std::string>();
    SCOPED_TRACE("known_hosts line " + std::to_string(line["line_number"].get<int>()));
    if (status == "ok") {
      auto read = ReadKeyText(KeyPart(text));
      ASSERT_TRUE(read.has_value()) << read.error().message << ": " << text;
      EXPECT_EQ(Fingerprint(read->key), line["key_sha256"].get<std::string>());
      EXPECT_EQ(std::string(KeyPart(text).substr(read->comment_offset)), line["comment"].get<std::string>());
      auto file = ReadKeyFile(dir / line["key_file"].get<std::string>());
      ASSERT_TRUE(file.has_value()) << file.error().message;
      EXPECT_TRUE(file->key.SamePublicKey(read->key));
      ++ok;
    } else if (status == "invalid" && line["marker"] != "error") {
      // No marker problem: the key itself is what is wrong (or missing).
      EXPECT_FALSE(ReadKeyText(KeyPart(text)).has_value()) << text;
      ++invalid;
    }
  }
  EXPECT_EQ(ok, 23);
  EXPECT_EQ(invalid, 5);
}

TEST(HostKeys, EveryKeyFileReadsExceptSsh1Keys) {
  const fs::path dir = kRoot / "openssh" / "hostkeys";
  int read_count = 0, ssh1 = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".pub") continue;
    SCOPED_TRACE(name);
    auto read = ReadKeyFile(entry.path());
    if (name.rfind("rsa1_", 0) == 0) {
      // "bits exponent modulus comment": SSH protocol 1, not read by OpenSSH 9.
      EXPECT_FALSE(read.has_value());
      ++ssh1;
    } else {
      EXPECT_TRUE(read.has_value()) << (read ? "" : read.error().message);
      ++read_count;
    }
  }
  EXPECT_EQ(read_count, 18);
  EXPECT_EQ(ssh1, 6);
}

// ---------------------------------------------------------------- authopt

TEST(AuthoptCertificates, AllReadAndVerify) {
  const fs::path dir = kRoot / "openssh" / "authopt";
  int count = 0;
  std::string ca;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".cert") continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    auto read = ReadKeyFile(entry.path());
    ASSERT_TRUE(read.has_value()) << read.error().message;
    ASSERT_TRUE(read->key.is_certificate());
    const Certificate& c = *read->key.certificate();
    EXPECT_EQ(c.type, name == "host.cert" ? CertType::kHost : CertType::kUser);
    EXPECT_EQ(read->key.type_name(), "ssh-ed25519-cert-v01@openssh.com");
    EXPECT_EQ(Fingerprint(read->key), "SHA256:vZ08/Rjd9iRRa+d+tKgtUzf/x/VzvprBkmCa0GyayQo");  // ssh-keygen -l
    // One CA signed them all.
    std::string this_ca = Fingerprint(*c.signature_key);
    if (ca.empty()) ca = this_ca;
    EXPECT_EQ(this_ca, ca);
    ++count;
  }
  EXPECT_EQ(count, 17);
}

TEST(AuthoptCertificates, CriticalOptionsAreRead) {
  const fs::path dir = kRoot / "openssh" / "authopt";
  auto names = [&](const char* file) {
    std::vector<std::string> out;
    auto read = ReadKeyFile(dir / file);
    EXPECT_TRUE(read.has_value()) << file;
    if (read) {
      for (const auto& o : read->key.certificate()->critical_options) out.push_back(o.name);
    }
    return out;
  };
  EXPECT_EQ(names("force_command.cert"), std::vector<std::string>{"force-command"});
  EXPECT_EQ(names("sourceaddr.cert"), std::vector<std::string>{"source-address"});
  EXPECT_EQ(names("bad_sourceaddr.cert"), std::vector<std::string>{"source-address"});
  EXPECT_EQ(names("unknown_critical.cert"), std::vector<std::string>{"blah"});
  EXPECT_TRUE(names("no_pty.cert").empty());
}

}  // namespace
}  // namespace keyward::key
