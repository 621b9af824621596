// The public key types OpenSSH knows, by the names it reads and prints.
#pragma once

#include <cstdint>
#include <string_view>

namespace keyward::key {

enum class Algorithm : std::uint8_t {
  kRsa,
  kDsa,
  kEcdsa,
  kEd25519,
  kEcdsaSk,
  kEd25519Sk,
  kMlDsa44Ed25519,  // OpenSSH 10's post-quantum hybrid; read, never made here
};

enum class Curve : std::uint8_t { kNone, kP256, kP384, kP521 };

struct KeyTypeInfo {
  std::string_view name;        // "ssh-ed25519-cert-v01@openssh.com"
  std::string_view short_name;  // "ED25519-CERT", as ssh-keygen -l prints it
  Algorithm algorithm;
  Curve curve;
  bool certificate;
  // A signature algorithm name ("rsa-sha2-256") that OpenSSH also accepts
  // where a key type is expected; never written by keyward.
  bool signature_only;
};

// Looks a name up the way OpenSSH's sshkey_type_from_name() does: exact,
// case-sensitive names only, signature-only aliases included.
const KeyTypeInfo* FindKeyType(std::string_view name);

// The canonical type for an algorithm, curve and certificate-ness.
const KeyTypeInfo& CanonicalKeyType(Algorithm algorithm, Curve curve, bool certificate);

// "nistp256" and friends, as they appear inside ECDSA blobs.
std::string_view CurveIdentifier(Curve curve);
Curve CurveFromIdentifier(std::string_view identifier);
unsigned CurveBits(Curve curve);

// A human name for messages: "Ed25519", "RSA", "ECDSA P-256 security key".
std::string_view AlgorithmName(Algorithm algorithm);

}  // namespace keyward::key
