// Fuzzes krl::ParseKrl(), the reader of OpenSSH key revocation lists.
//
// Every input is parsed. A refused one must say why (an error message, and
// the ssh-keygen reason). An accepted one must be in canonical form and
// survive a round trip: EncodeKrl() accepts it, the bytes parse again to
// the same revocations (signatures aside: keyward never writes them), and
// encoding that gives the same bytes. IsRevoked() on fixed keys and
// certificates (the stripe/krl test keys, whose CA most seeds name) agrees
// between the two parses and with a plain linear search of the model.
//
// Seeds: tests/fuzz/corpus/krl_fuzz/ (the stripe/krl KRLs, KRLs written by
// ssh-keygen -k and by keyward, and malformed ones). Run: scripts/fuzz.sh.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz_checks.h"
#include "krl/check.h"
#include "krl/encode.h"
#include "krl/parse.h"

namespace {

using namespace keyward;

// stripe/krl: key1cert1 (serial 4469, key ID "test1-cert1"), key1 and the
// CA cakey.
constexpr std::string_view kCertificate =
    "ssh-rsa-cert-v01@openssh.com "
    "AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg7fBv63dx3sIgSt/O3iGsCy1W9cZmKGknyqwltPgZCs8AAAADAQABAAAAgQCnZgqT"
    "H1O7IUDhSSGIZMSQ9A4r7SKm61lxLG48QD4Yrjp5VYVVRIKKNvqCZv/58Xw3ZmwOVJSEbg+ZCtD8IIYgV7AOaKUkM3rYsDGqf6yrFaA+CFoWBYI5"
    "Jrrk3892PwhwCvQlnqkKYppuyFOLs/gqIHXAAuh0x+hrndoZhqAgTQAAAAAAABF1AAAAAQAAAAt0ZXN0MS1jZXJ0MQAAAAkAAAAFYWxpY2UAAAAA"
    "AAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAW"
    "cGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAAJcAAAAHc3NoLXJz"
    "YQAAAAMBAAEAAACBAKooUHhyxYmMyVQZ1RP0KktwX6CiEsXIaE1SA3XYjFyw0pzttXLLqbB0deluNjUR57D7WF7po8xY20EavDzW58JtfQQqLOhC"
    "vXr0BSJ5hoC58aVP21mKgKFwFTmVyOPmPUEa9dQ2/fK5Z1wuS7PMI1oD5/GVU4aqUhG6kZ7PtBN3AAAAjwAAAAdzc2gtcnNhAAAAgGBfgTCxYYPm"
    "VcfaRRBB52FJQaGIcRw2p5hvnLasukQJ+8pucoLx9kZ19BvyqBamGqvBdpCsV7OjjDd9jvgBb/XRCaLGJfOFCS3mQN/7A9Z8DtaL2tpO4zkPOeAW"
    "urT75IPOXMF+octBxgSxUCN+iUM1sA7qo5YkBjDN1kTd59CI";

struct Fixed {
  key::PublicKey cert;
  key::PublicKey plain;  // the certificate's key
  key::PublicKey ca;
};

const Fixed& Keys() {
  static const Fixed fixed = [] {
    auto cert = key::ReadKeyText(kCertificate);
    FUZZ_CHECK(cert.has_value());
    auto plain = key::ParsePublicKeyBlob(Bytes(cert->key.plain_blob().begin(), cert->key.plain_blob().end()));
    FUZZ_CHECK(plain.has_value());
    return Fixed{cert->key, *plain, *cert->key.certificate()->signature_key};
  }();
  return fixed;
}

// IsRevoked() by linear search: the oracle for the binary searches.
bool Listed(const krl::Krl& k, const key::PublicKey& key) {
  ByteView plain = key.plain_blob();
  for (const auto& b : k.explicit_keys) {
    if (Equal(b, plain)) return true;
  }
  const auto sha1 = krl::Sha1(plain);
  const auto sha256 = key::Sha256(plain);
  if (std::find(k.sha1s.begin(), k.sha1s.end(), sha1) != k.sha1s.end()) return true;
  if (std::find(k.sha256s.begin(), k.sha256s.end(), sha256) != k.sha256s.end()) return true;
  const key::Certificate* c = key.certificate();
  if (c == nullptr) return false;
  const Bytes ca = krl::CaKeyBlob(*c->signature_key);
  for (const auto& s : k.certificates) {
    if (!s.wildcard() && !Equal(s.ca_key, ca)) continue;
    if (std::find(s.key_ids.begin(), s.key_ids.end(), c->key_id) != s.key_ids.end()) return true;
    for (const auto& r : s.serials) {
      if (c->serial != 0 && r.first <= c->serial && c->serial <= r.last) return true;
    }
  }
  return false;
}

bool Revoked(const krl::Krl& k, const key::PublicKey& key) {
  return Listed(k, key) || (key.certificate() != nullptr && Listed(k, *key.certificate()->signature_key));
}

void CheckCanonical(const krl::Krl& k) {
  for (const auto& s : k.certificates) {
    FUZZ_CHECK(!s.serials.empty() || !s.key_ids.empty());
    for (std::size_t i = 0; i < s.serials.size(); ++i) {
      FUZZ_CHECK(s.serials[i].first != 0 && s.serials[i].first <= s.serials[i].last);
      if (i > 0) FUZZ_CHECK(s.serials[i - 1].last < s.serials[i].first - 1);
    }
    FUZZ_CHECK(std::is_sorted(s.key_ids.begin(), s.key_ids.end()));
    FUZZ_CHECK(std::adjacent_find(s.key_ids.begin(), s.key_ids.end()) == s.key_ids.end());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixed& fixed = Keys();
  krl::OpenSshRefusal refusal;
  auto parsed = krl::ParseKrl(ByteView(data, size), &refusal);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    FUZZ_CHECK(!parsed.error().code.empty());
    FUZZ_CHECK(!refusal.reason.empty());
    return 0;
  }
  CheckCanonical(*parsed);

  auto bytes = krl::EncodeKrl(*parsed);
  FUZZ_CHECK(bytes.has_value());
  auto again = krl::ParseKrl(*bytes);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(krl::SameRevocations(*again, *parsed));
  FUZZ_CHECK(again->signing_keys.empty());
  auto bytes_again = krl::EncodeKrl(*again);
  FUZZ_CHECK(bytes_again.has_value() && *bytes_again == *bytes);

  for (const key::PublicKey* k : {&fixed.cert, &fixed.plain, &fixed.ca}) {
    const bool revoked = krl::IsRevoked(*parsed, *k);
    FUZZ_CHECK(revoked == krl::IsRevoked(*again, *k));
    FUZZ_CHECK(revoked == Revoked(*parsed, *k));
  }
  return 0;
}
