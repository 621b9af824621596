#include "key/policy.h"

#include <string>

#include "key/crypto.h"

namespace keyward::key {

namespace {

bool IsOdd(ByteView magnitude) { return !magnitude.empty() && (magnitude.back() & 1) != 0; }

std::string TypeNameForPeople(const PublicKey& key) {
  std::string s(AlgorithmName(key.algorithm()));
  if (key.is_certificate()) s += " certificate";
  return s;
}

}  // namespace

std::string PolicyTag(const KeyPolicy& policy) {
  std::string tag = "p1:a";
  bool first = true;
  for (Algorithm a : policy.allowed) {  // a std::set: in order
    if (!first) tag += '.';
    tag += std::to_string(static_cast<int>(a));
    first = false;
  }
  tag += ":r" + std::to_string(policy.min_rsa_bits);
  tag += policy.allow_certificates ? ":c1" : ":c0";
  return tag;
}

std::vector<Error> CheckKeyPolicy(const PublicKey& key, const KeyPolicy& policy) {
  std::vector<Error> problems;
  if (key.is_certificate() && !policy.allow_certificates) {
    problems.push_back({"certificate_refused", "certificates are not accepted here; give the plain public key"});
  }
  if (policy.allowed.count(key.algorithm()) == 0) {
    if (key.algorithm() == Algorithm::kDsa) {
      problems.push_back({"weak_key", "DSA (ssh-dss) keys are weak (1024 bits, SHA-1) and disabled since OpenSSH "
                                      "7.0; make a new key with ssh-keygen -t ed25519"});
    } else {
      problems.push_back({"type_refused", TypeNameForPeople(key) + " keys are not allowed by the key policy; "
                                          "use an allowed type such as ssh-ed25519"});
    }
  }
  if (key.algorithm() == Algorithm::kRsa) {
    if (key.bits() < policy.min_rsa_bits) {
      problems.push_back({"weak_key", "RSA keys must be at least " + std::to_string(policy.min_rsa_bits) +
                                          " bits; this one has " + std::to_string(key.bits()) +
                                          ". Make a new key with ssh-keygen -t ed25519"});
    }
    ByteView e = key.rsa_e();
    if (!IsOdd(e) || BitLength(e) < 2) {
      problems.push_back({"insecure_key", "the RSA public exponent is even or 1, so the key offers no security; "
                                          "make a new key"});
    }
    if (!IsOdd(key.rsa_n())) {
      problems.push_back({"insecure_key", "the RSA modulus is even, so the key offers no security; make a new key"});
    }
  }
  return problems;
}

Result<std::set<Algorithm>> ParseAlgorithmList(std::string_view list) {
  std::set<Algorithm> out;
  if (list.empty()) return Fail("bad_policy", "the key policy allows no algorithm at all");
  // Every item must name an algorithm: "ed25519," and "ed25519,,rsa" are
  // refused like ",ed25519" is.
  for (bool more = true; more;) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    more = comma != std::string_view::npos;
    list = more ? list.substr(comma + 1) : std::string_view();
    if (item == "ed25519") out.insert(Algorithm::kEd25519);
    else if (item == "ecdsa") out.insert(Algorithm::kEcdsa);
    else if (item == "rsa") out.insert(Algorithm::kRsa);
    else if (item == "dsa") out.insert(Algorithm::kDsa);
    else if (item == "sk-ed25519") out.insert(Algorithm::kEd25519Sk);
    else if (item == "sk-ecdsa") out.insert(Algorithm::kEcdsaSk);
    else if (item == "mldsa44-ed25519") out.insert(Algorithm::kMlDsa44Ed25519);
    else {
      return Fail("bad_policy", "unknown key algorithm \"" + std::string(item) +
                                    "\" in the policy; use ed25519, ecdsa, rsa, dsa, sk-ed25519, sk-ecdsa, "
                                    "mldsa44-ed25519");
    }
  }
  if (out.empty()) return Fail("bad_policy", "the key policy allows no algorithm at all");
  return out;
}

}  // namespace keyward::key
