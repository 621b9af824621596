// Test helpers for the KRL tests: real Ed25519 keys made with OpenSSL, and
// real certificates they sign, so that the certificate parser (which
// verifies every CA signature) accepts them.
#pragma once

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "key/public_key.h"
#include "wire/writer.h"

namespace keyward::krl::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

// An Ed25519 key pair.
class TestSigner {
 public:
  TestSigner() : pkey_(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")) {
    if (!pkey_) throw std::runtime_error("Ed25519 keygen failed");
  }

  Bytes RawPublic() const {
    Bytes raw(32);
    std::size_t len = raw.size();
    EVP_PKEY_get_raw_public_key(pkey_.get(), raw.data(), &len);
    return raw;
  }

  Bytes PublicBlob() const {
    wire::Writer w;
    w.String(std::string_view("ssh-ed25519"));
    w.String(RawPublic());
    return w.Take();
  }

  key::PublicKey PublicKey() const { return *key::ParsePublicKeyBlob(PublicBlob()); }

  // An SSH signature blob: string "ssh-ed25519", string signature.
  Bytes Sign(ByteView data) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    Bytes sig(64);
    std::size_t len = sig.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
      throw std::runtime_error("Ed25519 signing failed");
    }
    wire::Writer w;
    w.String(std::string_view("ssh-ed25519"));
    w.String(sig);
    return w.Take();
  }

 private:
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey_;
};

// A plain Ed25519 public key (any 32 bytes are one).
inline key::PublicKey RandomKey() {
  Bytes raw(32);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  wire::Writer w;
  w.String(std::string_view("ssh-ed25519"));
  w.String(raw);
  return *key::ParsePublicKeyBlob(w.Take());
}

// A user certificate for `subject` (a plain Ed25519 key), signed by `ca`.
inline key::PublicKey MakeCert(const TestSigner& ca, const key::PublicKey& subject, std::uint64_t serial,
                               const std::string& key_id) {
  wire::Writer w;
  w.String(std::string_view("ssh-ed25519-cert-v01@openssh.com"));
  Bytes nonce(32);
  RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
  w.String(nonce);
  w.String(subject.raw_key());
  w.U64(serial);
  w.U32(1);
  w.String(key_id);
  wire::Writer principals;
  principals.String(std::string_view("alice"));
  w.String(principals.bytes());
  w.U64(0);
  w.U64(~std::uint64_t{0});
  w.String(std::string_view());
  w.String(std::string_view());
  w.String(std::string_view());
  w.String(ca.PublicBlob());
  Bytes signed_part = w.bytes();
  w.String(ca.Sign(signed_part));
  auto cert = key::ParsePublicKeyBlob(w.Take());
  if (!cert) throw std::runtime_error("test certificate refused: " + cert.error().message);
  return *cert;
}

}  // namespace keyward::krl::testing
