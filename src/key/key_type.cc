#include "key/key_type.h"

namespace keyward::key {
namespace {

using A = Algorithm;
using C = Curve;

// Order matters only for CanonicalKeyType(): the first entry that is not
// signature-only wins.
constexpr KeyTypeInfo kKeyTypes[] = {
    {"ssh-ed25519", "ED25519", A::kEd25519, C::kNone, false, false},
    {"ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT", A::kEd25519, C::kNone, true, false},
    {"sk-ssh-ed25519@openssh.com", "ED25519-SK", A::kEd25519Sk, C::kNone, false, false},
    {"sk-ssh-ed25519-cert-v01@openssh.com", "ED25519-SK-CERT", A::kEd25519Sk, C::kNone, true, false},
    {"ssh-rsa", "RSA", A::kRsa, C::kNone, false, false},
    {"rsa-sha2-256", "RSA", A::kRsa, C::kNone, false, true},
    {"rsa-sha2-512", "RSA", A::kRsa, C::kNone, false, true},
    {"ssh-dss", "DSA", A::kDsa, C::kNone, false, false},
    {"ecdsa-sha2-nistp256", "ECDSA", A::kEcdsa, C::kP256, false, false},
    {"ecdsa-sha2-nistp384", "ECDSA", A::kEcdsa, C::kP384, false, false},
    {"ecdsa-sha2-nistp521", "ECDSA", A::kEcdsa, C::kP521, false, false},
    {"sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", A::kEcdsaSk, C::kP256, false, false},
    {"webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", A::kEcdsaSk, C::kP256, false, true},
    {"ssh-rsa-cert-v01@openssh.com", "RSA-CERT", A::kRsa, C::kNone, true, false},
    {"rsa-sha2-256-cert-v01@openssh.com", "RSA-CERT", A::kRsa, C::kNone, true, true},
    {"rsa-sha2-512-cert-v01@openssh.com", "RSA-CERT", A::kRsa, C::kNone, true, true},
    {"ssh-dss-cert-v01@openssh.com", "DSA-CERT", A::kDsa, C::kNone, true, false},
    {"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-CERT", A::kEcdsa, C::kP256, true, false},
    {"ecdsa-sha2-nistp384-cert-v01@openssh.com", "ECDSA-CERT", A::kEcdsa, C::kP384, true, false},
    {"ecdsa-sha2-nistp521-cert-v01@openssh.com", "ECDSA-CERT", A::kEcdsa, C::kP521, true, false},
    {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-SK-CERT", A::kEcdsaSk, C::kP256, true, false},
    {"ssh-mldsa44-ed25519@openssh.com", "MLDSA44-ED25519", A::kMlDsa44Ed25519, C::kNone, false, false},
    {"ssh-mldsa44-ed25519-cert-v01@openssh.com", "MLDSA44-ED25519-CERT", A::kMlDsa44Ed25519, C::kNone,
     true, false},
};

}  // namespace

const KeyTypeInfo* FindKeyType(std::string_view name) {
  if (name.empty()) return nullptr;
  for (const auto& t : kKeyTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const KeyTypeInfo& CanonicalKeyType(Algorithm algorithm, Curve curve, bool certificate) {
  for (const auto& t : kKeyTypes) {
    if (!t.signature_only && t.algorithm == algorithm && t.curve == curve && t.certificate == certificate) {
      return t;
    }
  }
  return kKeyTypes[0];  // unreachable for the combinations parsers produce
}

std::string_view CurveIdentifier(Curve curve) {
  switch (curve) {
    case Curve::kP256: return "nistp256";
    case Curve::kP384: return "nistp384";
    case Curve::kP521: return "nistp521";
    case Curve::kNone: break;
  }
  return "";
}

Curve CurveFromIdentifier(std::string_view identifier) {
  if (identifier == "nistp256") return Curve::kP256;
  if (identifier == "nistp384") return Curve::kP384;
  if (identifier == "nistp521") return Curve::kP521;
  return Curve::kNone;
}

unsigned CurveBits(Curve curve) {
  switch (curve) {
    case Curve::kP256: return 256;
    case Curve::kP384: return 384;
    case Curve::kP521: return 521;
    case Curve::kNone: break;
  }
  return 0;
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kRsa: return "RSA";
    case Algorithm::kDsa: return "DSA";
    case Algorithm::kEcdsa: return "ECDSA";
    case Algorithm::kEd25519: return "Ed25519";
    case Algorithm::kEcdsaSk: return "ECDSA security key";
    case Algorithm::kEd25519Sk: return "Ed25519 security key";
    case Algorithm::kMlDsa44Ed25519: return "ML-DSA-44 + Ed25519";
  }
  return "unknown";
}

}  // namespace keyward::key
