// A CA's private key, loaded once, ready to sign many certificates.
//
// Holds the OpenSSL key and one reusable signing context, so that signing a
// certificate allocates no OpenSSL objects (the Ed25519 context is set up
// once and reused; ECDSA and RSA contexts are re-initialised in place).
// Ed25519 signs as "ssh-ed25519", ECDSA as "ecdsa-sha2-nistp256/384/521"
// with SHA-256/384/512, RSA as "rsa-sha2-512".
//
// A CaSigner is not thread-safe: give each thread its own.
#pragma once

#include <memory>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "key/public_key.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace keyward::ca {

// What `keyward ca init --type T --bits N` makes.
struct CaKeySpec {
  key::Algorithm algorithm = key::Algorithm::kEd25519;  // kEd25519, kEcdsa or kRsa
  unsigned bits = 0;  // 0: the default (ECDSA 256, RSA 3072); Ed25519 takes none
};

inline constexpr unsigned kDefaultRsaBits = 3072;
inline constexpr unsigned kMinCaRsaBits = 2048;  // a CA key below this is refused
inline constexpr unsigned kMaxCaRsaBits = 16384;
// The longest signature blob a CA key makes (RSA-16384), with room to spare.
inline constexpr std::size_t kMaxSignatureBlobBytes = kMaxCaRsaBits / 8 + 64;

// Parses "ed25519", "ecdsa", "rsa" and checks the bits for that type.
Result<CaKeySpec> ParseCaKeySpec(std::string_view type, unsigned bits);

class CaSigner {
 public:
  // A fresh key from OpenSSL's generator.
  static Result<CaSigner> Generate(const CaKeySpec& spec);
  // Takes ownership of `pkey` (an Ed25519, P-256/384/521 or RSA >= 2048
  // private key); frees it on failure too.
  static Result<CaSigner> FromOpenSslKey(evp_pkey_st* pkey);

  CaSigner(CaSigner&&) noexcept;
  CaSigner& operator=(CaSigner&&) noexcept;
  ~CaSigner();

  // The CA's public key ("signature key" in every certificate it signs).
  const key::PublicKey& public_key() const;
  // "ssh-ed25519", "ecdsa-sha2-nistp384", "rsa-sha2-512".
  std::string_view signature_algorithm() const;

  // An SSH signature blob (string algorithm, string signature) over `data`.
  // const for callers; it reuses an internal context (see above).
  Result<Bytes> Sign(ByteView data) const;

  // Appends the signature blob's wire form (its length, then the blob) to
  // `out`: the fast path that certificates use. `data` may be a leading
  // part of `out` itself.
  Result<void> AppendSignature(ByteView data, Bytes& out) const;

  // For src/ca only (private key files): the OpenSSL key, still owned here.
  const evp_pkey_st* openssl_key() const;

 private:
  struct Impl;
  explicit CaSigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::ca
