// OpenSSH public keys and certificates: decoded, validated, canonical.
//
// The parser accepts exactly the blobs OpenSSH 9's sshkey_from_blob()
// accepts: the wire fields of each type, no trailing bytes, EC points on
// their curve, RSA moduli of 1024 to 16384 bits, Ed25519 keys of 32 bytes,
// and certificates whose CA signature verifies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "key/key_type.h"

namespace keyward::key {

// Named limits on what comes from outside, checked before anything else.
inline constexpr std::size_t kMaxKeyBlobBytes = 64 * 1024;
inline constexpr std::size_t kMaxCertPrincipals = 256;  // SSHKEY_CERT_MAX_PRINCIPALS
inline constexpr std::size_t kMaxCertOptions = 1024;
inline constexpr unsigned kMinRsaBitsOpenSsh = 1024;  // SSH_RSA_MINIMUM_MODULUS_SIZE
inline constexpr std::size_t kEd25519KeyBytes = 32;
inline constexpr std::size_t kMlDsa44Ed25519KeyBytes = 1312 + 32;

enum class CertType : std::uint32_t { kUser = 1, kHost = 2 };

// A critical option or extension: its name and its raw data string.
struct CertOption {
  std::string name;
  Bytes data;
};

class PublicKey;

struct Certificate {
  Bytes nonce;
  std::uint64_t serial = 0;
  CertType type = CertType::kUser;
  std::string key_id;
  std::vector<std::string> principals;
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;
  std::vector<CertOption> critical_options;
  std::vector<CertOption> extensions;
  Bytes reserved;
  std::shared_ptr<const PublicKey> signature_key;
  std::string signature_algorithm;  // "ssh-ed25519", "rsa-sha2-512", ...
  Bytes signature;                  // the whole signature blob
  std::size_t signed_length = 0;    // leading bytes of the blob it covers
};

class PublicKey {
 public:
  // The canonical type: never a signature-only alias such as rsa-sha2-256.
  const KeyTypeInfo& type() const { return *type_; }
  std::string_view type_name() const { return type_->name; }
  Algorithm algorithm() const { return type_->algorithm; }
  Curve curve() const { return type_->curve; }
  bool is_certificate() const { return cert_ != nullptr; }
  const Certificate* certificate() const { return cert_.get(); }

  // Size in bits as ssh-keygen reports it.
  unsigned bits() const { return bits_; }

  // The blob as read, certificate included.
  ByteView blob() const { return blob_; }
  // The plain public key in canonical encoding: what fingerprints hash and
  // what makes two keys "the same key" (a certificate and its key match).
  ByteView plain_blob() const { return plain_.empty() ? ByteView(blob_) : ByteView(plain_); }

  // Public parameters, as big-endian magnitudes or raw encodings.
  ByteView rsa_e() const { return Get(f_[0]); }
  ByteView rsa_n() const { return Get(f_[1]); }
  ByteView dsa_p() const { return Get(f_[0]); }
  ByteView dsa_q() const { return Get(f_[1]); }
  ByteView dsa_g() const { return Get(f_[2]); }
  ByteView dsa_y() const { return Get(f_[3]); }
  ByteView ec_point() const { return Get(f_[0]); }  // uncompressed, 0x04 || X || Y
  ByteView raw_key() const { return Get(f_[0]); }   // Ed25519 (and hybrid) key bytes
  std::string_view sk_application() const { return AsText(Get(application_)); }

  bool SamePublicKey(const PublicKey& other) const { return Equal(plain_blob(), other.plain_blob()); }

  // "ssh-ed25519 AAAA..." (canonical type and base64, no comment).
  std::string ToText() const;

 private:
  struct Slice {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  ByteView Get(Slice s) const { return ByteView(blob_).subspan(s.offset, s.length); }

  friend class BlobParser;

  const KeyTypeInfo* type_ = nullptr;
  Bytes blob_;
  Bytes plain_;  // empty when blob_ already is the canonical plain key
  Slice f_[4];
  Slice application_;
  unsigned bits_ = 0;
  std::shared_ptr<const Certificate> cert_;
};

struct BlobOptions {
  bool allow_certificate = true;
  // Certificates are only accepted when their CA signature verifies, as in
  // OpenSSH; turning this off is for tools that show broken certificates.
  bool verify_certificate = true;
};

// Decodes a public key (or certificate) blob.
Result<PublicKey> ParsePublicKeyBlob(Bytes blob, BlobOptions options = {});

// The result of reading "<type> <base64>[ <comment>]" from the front of a
// string, as OpenSSH's sshkey_read() does.
struct KeyText {
  PublicKey key;
  // Where the comment starts (after the blanks that follow the base64).
  std::size_t comment_offset = 0;
};

// Reads a key in text form from the start of `text`: the type name, blanks
// (spaces or tabs), the base64 blob up to the next blank. The type on the
// line must be the type inside the blob.
Result<KeyText> ReadKeyText(std::string_view text);

}  // namespace keyward::key
