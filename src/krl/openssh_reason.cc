#include "krl/openssh_reason.h"

#include "key/crypto.h"
#include "key/key_type.h"
#include "krl/cursor.h"
#include "krl/krl.h"

namespace keyward::krl {

namespace {

using internal::Cursor;
using internal::ReadError;
using internal::SshErrText;

constexpr std::size_t kMaxEcPointBytes = 133;  // SSHBUF_MAX_ECPOINT
constexpr std::size_t kMaxPrincipals = 256;   // SSHKEY_CERT_MAX_PRINCIPALS

bool Bad(ReadError e) { return e != ReadError::kNone; }

// The ssh_err() text of keyward's parser's error, for what the walk below
// does not decide itself.
const char* FromKeywardError(const Error& e) {
  const std::string& c = e.code;
  if (c == "unknown_key_type") return "unknown or unsupported key type";
  if (c == "rsa_too_small") return "Invalid key length";
  if (c == "curve_mismatch") return "elliptic curve does not match";
  if (c == "bad_cert_signer") return "invalid certificate signing key";
  if (c == "unknown_cert_type") return "unknown/unsupported certificate type";
  return "invalid format";
}

std::optional<const char*> Walk(ByteView blob, bool allow_certificate);

// cert_parse(): the certificate fields after the key, `c` just past them.
std::optional<const char*> WalkCertificate(ByteView blob, Cursor& c) {
  std::uint64_t u64 = 0;
  std::uint32_t type = 0;
  std::string_view key_id;
  ByteView principals, critical, extensions, reserved, ca, signature;
  if (Bad(c.U64(u64)) || Bad(c.U32(type)) || Bad(c.CString(key_id)) || Bad(c.String(principals)) ||
      Bad(c.U64(u64)) || Bad(c.U64(u64)) || Bad(c.String(critical)) || Bad(c.String(extensions)) ||
      Bad(c.String(reserved)) || Bad(c.String(ca))) {
    return "invalid format";
  }
  const std::size_t signed_length = c.offset();
  if (Bad(c.String(signature))) return "invalid format";
  if (type != 1 && type != 2) return "unknown/unsupported certificate type";
  Cursor p(principals);
  for (std::size_t n = 0; !p.empty(); ++n) {
    std::string_view principal;
    if (n >= kMaxPrincipals || Bad(p.CString(principal))) return "invalid format";
  }
  for (ByteView options : {critical, extensions}) {
    Cursor o(options);
    while (!o.empty()) {
      ByteView name, data;
      if (Bad(o.String(name)) || Bad(o.String(data))) return "invalid format";
    }
  }
  if (Walk(ca, false)) return "invalid certificate signing key";
  auto signer = key::ParsePublicKeyBlob(Bytes(ca.begin(), ca.end()), key::BlobOptions{.allow_certificate = false});
  if (!signer) return "invalid certificate signing key";
  if (signature.empty() || signature.size() > kMaxSignatureBytes) return "invalid argument";
  if (!key::VerifySignature(*signer, signature, blob.first(signed_length))) return SignatureReason(*signer, signature);
  return std::nullopt;
}

std::optional<const char*> Walk(ByteView blob, bool allow_certificate) {
  Cursor c(blob);
  std::string_view type_name;
  if (Bad(c.CString(type_name))) return "invalid format";
  const key::KeyTypeInfo* info = key::FindKeyType(type_name);
  if (info == nullptr || info->algorithm == key::Algorithm::kMlDsa44Ed25519) return "unknown or unsupported key type";
  if (info->certificate && !allow_certificate) return "invalid certificate signing key";
  if (info->certificate) {
    ByteView nonce;
    if (Bad(c.String(nonce))) return "invalid format";
  }
  switch (info->algorithm) {
    case key::Algorithm::kRsa: {
      ByteView e, n;
      if (Bad(c.Bignum(e)) || Bad(c.Bignum(n))) return "invalid format";
      const unsigned bits = key::BitLength(n);
      if (bits < key::kMinRsaBitsOpenSsh || bits > 16384) return "Invalid key length";
      break;
    }
    case key::Algorithm::kDsa:
      for (int i = 0; i < 4; ++i) {
        ByteView v;
        if (Bad(c.Bignum(v))) return "invalid format";
      }
      break;
    case key::Algorithm::kEcdsa:
    case key::Algorithm::kEcdsaSk: {
      std::string_view curve;
      if (auto e = c.CString(curve); Bad(e)) return SshErrText(e);
      if (key::CurveFromIdentifier(curve) != info->curve) return "elliptic curve does not match";
      ByteView point;
      if (auto e = c.String(point); Bad(e)) return SshErrText(e);
      // EC_POINT_oct2point() fails on a point off the curve: "invalid
      // format"; ValidateEcPoint also refuses the rarer points on it that
      // OpenSSH calls "invalid elliptic curve value".
      if (point.empty() || point.size() > kMaxEcPointBytes || point[0] != 4 ||
          !key::ValidateEcPoint(info->curve, point)) {
        return "invalid format";
      }
      if (info->algorithm == key::Algorithm::kEcdsaSk) {
        std::string_view application;
        if (auto e = c.CString(application); Bad(e)) return SshErrText(e);
      }
      break;
    }
    case key::Algorithm::kEd25519:
    case key::Algorithm::kEd25519Sk: {
      ByteView pk;
      if (auto e = c.String(pk); Bad(e)) return SshErrText(e);
      if (pk.size() != key::kEd25519KeyBytes) return "invalid format";
      if (info->algorithm == key::Algorithm::kEd25519Sk) {
        std::string_view application;
        if (auto e = c.CString(application); Bad(e)) return SshErrText(e);
      }
      break;
    }
    case key::Algorithm::kMlDsa44Ed25519:
      return "unknown or unsupported key type";
  }
  if (info->certificate) {
    if (auto why = WalkCertificate(blob, c)) return why;
  }
  if (!c.empty()) return "invalid format";
  return std::nullopt;
}

}  // namespace

std::optional<const char*> KeyBlobReason(ByteView blob, const Error* keyward_error) {
  if (auto why = Walk(blob, true)) return why;
  if (keyward_error != nullptr) return FromKeywardError(*keyward_error);
  return std::nullopt;
}

const char* SignatureReason(const key::PublicKey& signer, ByteView signature) {
  Cursor c(signature);
  std::string_view algorithm;
  if (Bad(c.CString(algorithm))) return "invalid format";
  bool fits = false;
  switch (signer.algorithm()) {
    case key::Algorithm::kRsa:
      fits = algorithm == "ssh-rsa" || algorithm == "rsa-sha2-256" || algorithm == "rsa-sha2-512";
      break;
    case key::Algorithm::kEd25519:
      fits = algorithm == "ssh-ed25519";
      break;
    case key::Algorithm::kDsa:
      fits = algorithm == "ssh-dss";
      break;
    default: {
      const key::KeyTypeInfo* info = key::FindKeyType(algorithm);
      fits = info != nullptr && info->algorithm == signer.algorithm();
      break;
    }
  }
  if (!fits) return "key type does not match";
  return signer.algorithm() == key::Algorithm::kRsa ? "error in libcrypto" : "incorrect signature";
}

bool KnownToOpenSsh92(const key::PublicKey& key) {
  if (key.algorithm() == key::Algorithm::kMlDsa44Ed25519) return false;
  const key::Certificate* cert = key.certificate();
  return cert == nullptr || cert->signature_key == nullptr || KnownToOpenSsh92(*cert->signature_key);
}

}  // namespace keyward::krl
