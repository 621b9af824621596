// Which keys keyward lets into an account, and why it refuses the others.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "key/public_key.h"

namespace keyward::key {

struct KeyPolicy {
  // Algorithms allowed in. DSA is out by default: it is limited to 1024-bit
  // keys and SHA-1, and OpenSSH has disabled it since 7.0.
  std::set<Algorithm> allowed = {Algorithm::kEd25519, Algorithm::kEcdsa,     Algorithm::kRsa,
                                 Algorithm::kEd25519Sk, Algorithm::kEcdsaSk, Algorithm::kMlDsa44Ed25519};
  unsigned min_rsa_bits = 2048;
  bool allow_certificates = true;
};

// Returns the reasons a key is refused; empty when it is acceptable.
// Structural weaknesses that no policy can allow (an even RSA modulus, an
// exponent of 1) are always refused.
std::vector<Error> CheckKeyPolicy(const PublicKey& key, const KeyPolicy& policy = {});

// A short word (no blanks) that changes whenever the policy would judge a
// key differently: what keys.index records, so that a render can trust the
// lines an earlier render checked against the same policy. "p1:" names this
// encoding and CheckKeyPolicy's fixed rules; bump it when they change.
std::string PolicyTag(const KeyPolicy& policy);

// Parses a policy's algorithm list: "ed25519,ecdsa,rsa,sk-ed25519,sk-ecdsa,dsa".
Result<std::set<Algorithm>> ParseAlgorithmList(std::string_view list);

}  // namespace keyward::key
