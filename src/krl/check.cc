#include "krl/check.h"

#include <algorithm>

namespace keyward::krl {

namespace {

// The checks of OpenSSH's is_key_revoked() on one key (not its CA).
bool KeyListed(const Krl& krl, const key::PublicKey& key) {
  ByteView plain = key.plain_blob();
  if (!krl.sha1s.empty() && std::binary_search(krl.sha1s.begin(), krl.sha1s.end(), Sha1(plain))) return true;
  if (!krl.sha256s.empty() && std::binary_search(krl.sha256s.begin(), krl.sha256s.end(), key::Sha256(plain))) {
    return true;
  }
  auto less = [](const auto& a, const auto& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  };
  auto it = std::lower_bound(krl.explicit_keys.begin(), krl.explicit_keys.end(), plain, less);
  if (it != krl.explicit_keys.end() && Equal(*it, plain)) return true;

  const key::Certificate* cert = key.certificate();
  if (cert == nullptr || cert->signature_key == nullptr) return false;
  Bytes ca = CaKeyBlob(*cert->signature_key);
  if (const CertificateSection* s = FindSection(krl, ca); s != nullptr && SectionRevokes(*s, cert->serial, cert->key_id)) {
    return true;
  }
  if (const CertificateSection* s = FindSection(krl, {}); s != nullptr && SectionRevokes(*s, cert->serial, cert->key_id)) {
    return true;
  }
  return false;
}

}  // namespace

const CertificateSection* FindSection(const Krl& krl, ByteView ca_blob) {
  for (const auto& s : krl.certificates) {
    if (Equal(s.ca_key, ca_blob)) return &s;
  }
  return nullptr;
}

bool SectionRevokes(const CertificateSection& section, std::uint64_t serial, std::string_view key_id) {
  if (std::binary_search(section.key_ids.begin(), section.key_ids.end(), key_id, std::less<>())) return true;
  // Serial 0 is what a CA writes when it gives no serial: never revoked by
  // serial.
  if (serial == 0) return false;
  auto it = std::upper_bound(section.serials.begin(), section.serials.end(), serial,
                             [](std::uint64_t s, const SerialRange& r) { return s < r.first; });
  return it != section.serials.begin() && std::prev(it)->last >= serial;
}

bool IsRevoked(const Krl& krl, const key::PublicKey& key) {
  if (KeyListed(krl, key)) return true;
  const key::Certificate* cert = key.certificate();
  return cert != nullptr && cert->signature_key != nullptr && KeyListed(krl, *cert->signature_key);
}

}  // namespace keyward::krl
