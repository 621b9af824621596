// Fuzzes the certificate fields of key::ParsePublicKeyBlob().
//
// A random blob almost never starts with a valid type string, so this target
// builds "string <certificate type> || fuzz input" for every certificate type
// name OpenSSH knows and parses that: the fuzzer spends its time in the
// nonce, key fields, serial, principals, options, CA key and signature. Each
// blob is parsed twice:
//   - with verify_certificate = false (all fields, no signature check),
//   - with verify_certificate = true (what sshd and keyward use).
// Invariants: a blob refused without verification is refused with it; one
// accepted with verification is accepted without it, identically; every
// accepted certificate satisfies fuzz::CheckKey() (principals within
// kMaxCertPrincipals, signed_length within the blob, ...).
//
// Seeds: tests/fuzz/corpus/cert_fuzz/ holds certificate blobs without their
// type string (see make_seeds.py). Run: scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"
#include "wire/writer.h"

namespace {

constexpr std::string_view kCertificateTypes[] = {
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ssh-mldsa44-ed25519-cert-v01@openssh.com",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;
  constexpr key::BlobOptions kUnverified{.allow_certificate = true, .verify_certificate = false};
  constexpr key::BlobOptions kVerified{.allow_certificate = true, .verify_certificate = true};

  for (std::string_view type : kCertificateTypes) {
    const key::KeyTypeInfo* info = key::FindKeyType(type);
    FUZZ_CHECK(info != nullptr && info->certificate);

    wire::Writer w;
    w.String(type);
    w.Raw(ByteView(data, size));
    const Bytes blob = w.Take();

    auto unverified = key::ParsePublicKeyBlob(blob, kUnverified);
    auto verified = key::ParsePublicKeyBlob(blob, kVerified);
    if (!unverified) {
      FUZZ_CHECK(!verified);
      continue;
    }
    FUZZ_CHECK(unverified->is_certificate());
    FUZZ_CHECK(unverified->algorithm() == info->algorithm && unverified->curve() == info->curve);
    FUZZ_CHECK(Equal(unverified->blob(), blob));
    FUZZ_CHECK(unverified->certificate()->signed_length <= blob.size());
    FUZZ_CHECK(unverified->certificate()->principals.size() <= key::kMaxCertPrincipals);
    fuzz::CheckKey(*unverified, kUnverified);
    if (verified) {
      FUZZ_CHECK(fuzz::SameKey(*verified, *unverified));
      fuzz::CheckKey(*verified, kVerified);
    }
  }
  return 0;
}
