// Invariants the fuzz targets check on every key the parser accepts. A
// broken invariant prints what broke and aborts, so that libFuzzer saves
// the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "key/fingerprint.h"
#include "key/key_type.h"
#include "key/public_key.h"

namespace keyward::fuzz {

[[noreturn]] inline void Broken(const char* what, const char* file, int line) {
  std::fprintf(stderr, "\n*** fuzz invariant broken at %s:%d: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                                 \
  do {                                                                   \
    if (!(cond)) ::keyward::fuzz::Broken(#cond, __FILE__, __LINE__);      \
  } while (0)

inline bool SameCertificate(const key::Certificate& a, const key::Certificate& b) {
  auto same_options = [](const std::vector<key::CertOption>& x, const std::vector<key::CertOption>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (x[i].name != y[i].name || !Equal(x[i].data, y[i].data)) return false;
    }
    return true;
  };
  return Equal(a.nonce, b.nonce) && a.serial == b.serial && a.type == b.type && a.key_id == b.key_id &&
         a.principals == b.principals && a.valid_after == b.valid_after && a.valid_before == b.valid_before &&
         same_options(a.critical_options, b.critical_options) && same_options(a.extensions, b.extensions) &&
         Equal(a.reserved, b.reserved) && a.signature_algorithm == b.signature_algorithm &&
         Equal(a.signature, b.signature) && a.signed_length == b.signed_length &&
         (a.signature_key == nullptr) == (b.signature_key == nullptr) &&
         (a.signature_key == nullptr || Equal(a.signature_key->blob(), b.signature_key->blob()));
}

// Two parses of the same key agree on everything a caller can see.
inline bool SameKey(const key::PublicKey& a, const key::PublicKey& b) {
  if (&a.type() != &b.type() || a.bits() != b.bits() || !Equal(a.blob(), b.blob()) ||
      !Equal(a.plain_blob(), b.plain_blob()) || a.is_certificate() != b.is_certificate()) {
    return false;
  }
  return !a.is_certificate() || SameCertificate(*a.certificate(), *b.certificate());
}

// What must hold for every key ParsePublicKeyBlob() or ReadKeyText()
// accepted. `options` are the options it was accepted with.
inline void CheckKey(const key::PublicKey& k, key::BlobOptions options) {
  // DSA is the exception: OpenSSH 9 reads a DSA key whose p is 0 and
  // ssh-keygen -l calls it "0 ... (DSA)"; keyward does the same.
  FUZZ_CHECK(k.bits() > 0 || k.algorithm() == key::Algorithm::kDsa);
  FUZZ_CHECK(!k.type().signature_only);
  FUZZ_CHECK(k.type().certificate == k.is_certificate());
  FUZZ_CHECK(key::FindKeyType(k.type_name()) == &k.type());
  FUZZ_CHECK(k.blob().size() <= key::kMaxKeyBlobBytes);
  FUZZ_CHECK(!k.plain_blob().empty());

  // The blob as read parses again, to the same key.
  auto again = key::ParsePublicKeyBlob(Bytes(k.blob().begin(), k.blob().end()), options);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(SameKey(k, *again));

  // The plain key is a canonical plain key of the same algorithm and size.
  auto plain = key::ParsePublicKeyBlob(Bytes(k.plain_blob().begin(), k.plain_blob().end()),
                                       key::BlobOptions{.allow_certificate = false});
  FUZZ_CHECK(plain.has_value());
  FUZZ_CHECK(!plain->is_certificate());
  FUZZ_CHECK(Equal(plain->blob(), k.plain_blob()));
  FUZZ_CHECK(Equal(plain->plain_blob(), k.plain_blob()));
  FUZZ_CHECK(&plain->type() == &key::CanonicalKeyType(k.algorithm(), k.curve(), false));
  FUZZ_CHECK(plain->bits() == k.bits());
  FUZZ_CHECK(plain->SamePublicKey(k));

  if (const key::Certificate* c = k.certificate()) {
    FUZZ_CHECK(c->principals.size() <= key::kMaxCertPrincipals);
    FUZZ_CHECK(c->critical_options.size() <= key::kMaxCertOptions);
    FUZZ_CHECK(c->extensions.size() <= key::kMaxCertOptions);
    FUZZ_CHECK(c->signed_length > 0);
    FUZZ_CHECK(c->signed_length <= k.blob().size());
    FUZZ_CHECK(c->type == key::CertType::kUser || c->type == key::CertType::kHost);
    FUZZ_CHECK(c->signature_key != nullptr);
    FUZZ_CHECK(!c->signature_key->is_certificate());
    FUZZ_CHECK(c->signature_key->bits() > 0 || c->signature_key->algorithm() == key::Algorithm::kDsa);
    // A certificate is refused where only plain keys are allowed.
    auto refused = key::ParsePublicKeyBlob(Bytes(k.blob().begin(), k.blob().end()),
                                           key::BlobOptions{.allow_certificate = false});
    FUZZ_CHECK(!refused.has_value());
  }

  // Fingerprints have their fixed shapes: "SHA256:" + 43 base64 characters,
  // "MD5:" + 16 colon-separated hex pairs.
  std::string sha = key::Fingerprint(k, key::FingerprintHash::kSha256);
  FUZZ_CHECK(sha.size() == 7 + 43 && sha.starts_with("SHA256:"));
  std::string md5 = key::Fingerprint(k, key::FingerprintHash::kMd5);
  FUZZ_CHECK(md5.size() == 4 + 47 && md5.starts_with("MD5:"));

  // The canonical text form holds no line breaks or NULs, and reads back
  // as the same key. Certificates are written as signed, so only those
  // accepted with their signature verified are sure to read back (the text
  // reader verifies).
  std::string text = k.ToText();
  FUZZ_CHECK(text.find_first_of(std::string_view("\n\r\0", 3)) == std::string::npos);
  FUZZ_CHECK(text.starts_with(std::string(k.type_name()) + " "));
  if (!k.is_certificate() || options.verify_certificate) {
    auto read = key::ReadKeyText(text);
    FUZZ_CHECK(read.has_value());
    FUZZ_CHECK(Equal(read->key.plain_blob(), k.plain_blob()));
    FUZZ_CHECK(read->comment_offset == text.size());
    if (k.is_certificate()) {
      FUZZ_CHECK(SameKey(read->key, k));
    } else {
      FUZZ_CHECK(Equal(read->key.blob(), k.plain_blob()));  // written canonically
    }
  }
}

}  // namespace keyward::fuzz
