// CA private key files: what keyward writes reads back as the same key,
// with and without a passphrase; keys ssh-keygen wrote are read; damaged
// files and wrong passphrases are refused.
#include "ca/private_key_file.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <functional>
#include <string>
#include <vector>

#include "ca/ca_test_util.h"
#include "key/crypto.h"
#include "wire/base64.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace keyward::ca {
namespace {

using testing::KeyFromText;
using testing::MakeSigner;

// Test keys made for this file with ssh-keygen 9.2 (never used anywhere
// else): "-t ed25519 -N ''", and with the passphrase "correct horse"
// (aes256-ctr, bcrypt) for Ed25519 and ECDSA P-256.
constexpr const char* kEd25519File =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDChCixM7yU/5U0+UeEq8s26Dj7kQyKZRfAzawoJvUm0wAAAJBlQ5t1ZUOb\n"
    "dQAAAAtzc2gtZWQyNTUxOQAAACDChCixM7yU/5U0+UeEq8s26Dj7kQyKZRfAzawoJvUm0w\n"
    "AAAEBKCBJxgDTlYuyFobgGsnGpUSYEmaAirH67DkKVapPn+8KEKLEzvJT/lTT5R4Sryzbo\n"
    "OPuRDIplF8DNrCgm9SbTAAAABnZlY3RvcgECAwQFBgc=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
constexpr const char* kEd25519Public =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMKEKLEzvJT/lTT5R4SryzboOPuRDIplF8DNrCgm9SbT";

constexpr const char* kEd25519PassphraseFile =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAkzjKvjX\n"
    "GnEroUSo8f4oxyAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIOS4LBuinDSoges3\n"
    "ERol+DRvl0beoy5Vu5fAD2PaMbKbAAAAkDNpPaHFe9T8yCu5YOTYNULNANUOE7aBlRH+u4\n"
    "tQdoY1pTNXJPsgpeHIJ+tBz3+SKOWhtfKCl28vh5vX0k/6iWgCNA10EaVU8E5jYoXkw3C5\n"
    "rUxYg8THYu3WGXTAbzzrhhQx0TH2hgaXwpNZRG3BfIilbuUg01hFitjKsI4luIV54oFoKC\n"
    "U3ZS8GHs36VectSQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
constexpr const char* kEd25519PassphrasePublic =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOS4LBuinDSoges3ERol+DRvl0beoy5Vu5fAD2PaMbKb";

constexpr const char* kEcdsaPassphraseFile =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABC7eDCxKL\n"
    "ZXjbHMc96vFXkcAAAAEAAAAAEAAABoAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlz\n"
    "dHAyNTYAAABBBIzphLDzED0VhnFEUGSB/LG9l+xy9uo4H4f2Km3CqmZbIQQUF6N65gRfRc\n"
    "JAgRP31mvrgdPDJCI7RJAUVDkY5asAAACg9CXQ3YK7KZnCvbxv40wogDwtHfAUQYmB4TIv\n"
    "dIImnAXBuH/heBD93WZVwzSZNJXPY32RkbP3KlA8n3Skp67U3FmDT+7hRNp3oT4Yc501B1\n"
    "L3VobeSOX0wFCuTRn5oE6pjxWQJZRyxXelkAXZO7bqQU6cvuuh1zdt9XY9mXMUNTT7+uYa\n"
    "WM206FH4u70WyDx7bZUL4khVsB5sqVl8Z1gGJg==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
constexpr const char* kEcdsaPassphrasePublic =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIzphLDzED0VhnFEUGSB/LG9l+xy9uo4H4f2Km3"
    "CqmZbIQQUF6N65gRfRcJAgRP31mvrgdPDJCI7RJAUVDkY5as=";

// The signer signs, and its signature verifies with its public key.
void ExpectSigns(const CaSigner& signer) {
  const std::string message = "a certificate body";
  auto sig = signer.Sign(AsBytes(message));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(key::VerifySignature(signer.public_key(), *sig, AsBytes(message)));
}

TEST(PrivateKeyFile, ReadsWhatSshKeygenWrote) {
  auto plain = DecodePrivateKeyFile(kEd25519File, nullptr);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_TRUE(plain->public_key().SamePublicKey(KeyFromText(kEd25519Public)));
  ExpectSigns(*plain);

  Secret pass(std::string("correct horse"));
  auto ed = DecodePrivateKeyFile(kEd25519PassphraseFile, &pass);
  ASSERT_TRUE(ed) << ed.error().message;
  EXPECT_TRUE(ed->public_key().SamePublicKey(KeyFromText(kEd25519PassphrasePublic)));
  ExpectSigns(*ed);

  auto ec = DecodePrivateKeyFile(kEcdsaPassphraseFile, &pass);
  ASSERT_TRUE(ec) << ec.error().message;
  EXPECT_TRUE(ec->public_key().SamePublicKey(KeyFromText(kEcdsaPassphrasePublic)));
  ExpectSigns(*ec);
}

TEST(PrivateKeyFile, PassphraseRequiredAndChecked) {
  EXPECT_TRUE(IsEncryptedPrivateKey(kEd25519PassphraseFile));
  EXPECT_FALSE(IsEncryptedPrivateKey(kEd25519File));
  auto none = DecodePrivateKeyFile(kEd25519PassphraseFile, nullptr);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "passphrase_required");
  Secret wrong(std::string("wrong horse"));
  auto bad = DecodePrivateKeyFile(kEd25519PassphraseFile, &wrong);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "bad_passphrase");
}

TEST(PrivateKeyFile, RoundTripsEveryCaType) {
  struct Type {
    key::Algorithm algorithm;
    unsigned bits;
  };
  const Secret pass(std::string("a long passphrase"));
  for (Type t : {Type{key::Algorithm::kEd25519, 0}, Type{key::Algorithm::kEcdsa, 256},
                 Type{key::Algorithm::kEcdsa, 384}, Type{key::Algorithm::kEcdsa, 521},
                 Type{key::Algorithm::kRsa, 2048}}) {
    CaSigner signer = MakeSigner(t.algorithm, t.bits);
    SCOPED_TRACE(std::string(signer.public_key().type_name()));
    for (const Secret* p : {static_cast<const Secret*>(nullptr), &pass}) {
      auto file = EncodePrivateKeyFile(signer, "keyward-user-ca@test", p);
      ASSERT_TRUE(file) << file.error().message;
      EXPECT_TRUE(LooksLikePrivateKey(file->view()));
      EXPECT_EQ(IsEncryptedPrivateKey(file->view()), p != nullptr);
      if (p == nullptr) {
        EXPECT_TRUE(file->view().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        // No line is longer than ssh-keygen's 70 columns.
        std::string_view v = file->view();
        for (std::size_t start = 0, nl; (nl = v.find('\n', start)) != std::string_view::npos; start = nl + 1) {
          EXPECT_LE(nl - start, 70u);
        }
      } else if (t.algorithm == key::Algorithm::kEd25519) {
        EXPECT_TRUE(file->view().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
      } else {
        EXPECT_TRUE(file->view().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
      }
      auto back = DecodePrivateKeyFile(file->view(), p);
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_TRUE(back->public_key().SamePublicKey(signer.public_key()));
      ExpectSigns(*back);
    }
  }
}

TEST(PrivateKeyFile, RecognisesPrivateKeys) {
  for (const char* text : {"-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "\n  -----BEGIN RSA PRIVATE KEY-----\n",
                           "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----",
                           "-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----",
                           "PuTTY-User-Key-File-3: ssh-ed25519\n", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"}) {
    EXPECT_TRUE(LooksLikePrivateKey(text)) << text;
  }
  for (const char* text : {"", "ssh-ed25519 AAAA", "# -----BEGIN OPENSSH PRIVATE KEY-----",
                           "-----BEGIN PUBLIC KEY-----"}) {
    EXPECT_FALSE(LooksLikePrivateKey(text)) << text;
  }
}

// Re-encodes the base64 body of an unencrypted openssh-key-v1 file after
// `edit` changed its bytes.
std::string Edited(const std::string& file, const std::function<void(Bytes&)>& edit) {
  const std::string begin = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  const std::string end = "-----END OPENSSH PRIVATE KEY-----\n";
  std::string body = file.substr(begin.size(), file.size() - begin.size() - end.size());
  Bytes raw;
  EXPECT_TRUE(wire::DecodeBase64(body, raw));
  edit(raw);
  return begin + wire::EncodeBase64(raw) + "\n" + end;
}

// Offsets in kEd25519File's decoded bytes: magic (15), "none" (8),
// "none" (8), "" (4), count (4), public key (4+51), then the private
// section's length (4) and its two check numbers.
constexpr std::size_t kCountOffset = 15 + 8 + 8 + 4;
constexpr std::size_t kSectionOffset = kCountOffset + 4 + 4 + 51 + 4;

TEST(PrivateKeyFile, MustReject) {
  const std::string good = kEd25519File;
  ASSERT_TRUE(DecodePrivateKeyFile(Edited(good, [](Bytes&) {}), nullptr));
  struct Case {
    std::string name;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"public key", kEd25519Public},
      {"no end line", good.substr(0, good.size() - 35)},
      {"bad base64", "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n"},
      {"bad magic", Edited(good, [](Bytes& b) { b[0] = 'O'; })},
      {"two keys", Edited(good, [](Bytes& b) { b[kCountOffset + 3] = 2; })},
      {"check numbers differ", Edited(good, [](Bytes& b) { b[kSectionOffset] ^= 1; })},
      {"bad padding", Edited(good, [](Bytes& b) { b[b.size() - 1] = 9; })},
      {"private key of another key",
       Edited(good, [](Bytes& b) { b[kSectionOffset + 8 + 4 + 11 + 4 + 4 + 32 + 5] ^= 1; })},
      {"public key in the section differs", Edited(good, [](Bytes& b) { b[kSectionOffset + 8 + 4 + 11 + 4] ^= 1; })},
      {"trailing bytes", Edited(good, [](Bytes& b) { b.push_back(0); })},
      {"truncated", Edited(good, [](Bytes& b) { b.resize(b.size() - 20); })},
      {"PEM garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
  };
  for (const auto& c : cases) {
    auto r = DecodePrivateKeyFile(c.text, nullptr);
    EXPECT_FALSE(r) << c.name;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty()) << c.name;
    }
  }
}

TEST(PrivateKeyFile, RefusesWeakRsa) {
  // A 1024-bit RSA key is a valid OpenSSH key but too weak for a CA.
  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
  ASSERT_NE(weak, nullptr);
  auto signer = CaSigner::FromOpenSslKey(weak);
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, "bad_ca_key");
}

}  // namespace
}  // namespace keyward::ca
