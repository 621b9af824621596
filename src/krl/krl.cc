#include "krl/krl.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

namespace keyward::krl {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// The byte order OpenSSH's blob_cmp() and strcmp() give: memcmp over the
// common part, the shorter first when one is a prefix of the other.
bool BytesLess(const Bytes& a, const Bytes& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

template <typename T>
void SortUnique(std::vector<T>& v) {
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

Error TooManySerials() {
  return Error{"krl_too_many_serials",
               "more than " + std::to_string(kMaxSerialRanges) +
                   " separate serial ranges: keyward refuses a KRL that large; revoke ranges instead of single serials"};
}

}  // namespace

// SHA1 only for KRLs: OpenSSH's KRL_SECTION_FINGERPRINT_SHA1 (key/crypto.h
// keeps the hashes keys need; this one lives beside its only user).
Sha1Digest Sha1(ByteView data) {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Sha1Digest out{};
  unsigned int len = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    // As for key::Sha256: no safe result exists if hashing fails.
    std::abort();
  }
  return out;
}

std::size_t Krl::serial_count() const {
  std::size_t total = 0;
  for (const auto& s : certificates) {
    for (const auto& r : s.serials) {
      std::uint64_t n = r.last - r.first;
      if (n >= std::numeric_limits<std::size_t>::max() - total) return std::numeric_limits<std::size_t>::max();
      total += static_cast<std::size_t>(n) + 1;
    }
  }
  return total;
}

bool SameRevocations(const Krl& a, const Krl& b) {
  return a.version == b.version && a.generated_date == b.generated_date && a.flags == b.flags &&
         a.comment == b.comment && a.certificates == b.certificates && a.explicit_keys == b.explicit_keys &&
         a.sha1s == b.sha1s && a.sha256s == b.sha256s;
}

Bytes CaKeyBlob(const key::PublicKey& ca) {
  ByteView v = ca.is_certificate() ? ca.blob() : ca.plain_blob();
  return Bytes(v.begin(), v.end());
}

void NormalizeSerials(std::vector<SerialRange>& ranges) {
  if (ranges.size() < 2) return;
  auto by_first = [](const SerialRange& a, const SerialRange& b) {
    return a.first < b.first || (a.first == b.first && a.last < b.last);
  };
  if (!std::is_sorted(ranges.begin(), ranges.end(), by_first)) {
    std::sort(ranges.begin(), ranges.end(), by_first);
  }
  std::size_t out = 0;
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    SerialRange& cur = ranges[out];
    const SerialRange& next = ranges[i];
    // Overlapping or adjacent ranges become one, as in insert_serial_range().
    if (cur.last == std::numeric_limits<std::uint64_t>::max() || next.first <= cur.last + 1) {
      cur.last = std::max(cur.last, next.last);
    } else {
      ranges[++out] = next;
    }
  }
  ranges.resize(out + 1);
}

KrlBuilder::Pending& KrlBuilder::SectionFor(ByteView ca_blob) {
  std::string id(AsText(ca_blob));
  auto [it, inserted] = section_index_.try_emplace(std::move(id), sections_.size());
  if (inserted) sections_.push_back(Pending{Bytes(ca_blob.begin(), ca_blob.end()), {}, {}});
  return sections_[it->second];
}

Result<void> KrlBuilder::RevokeSerialsUnder(ByteView ca_blob, std::uint64_t first, std::uint64_t last) {
  if (first == 0 || first > last) {
    return Fail("krl_bad_serial", first == 0 ? "serial 0 cannot be revoked: it is the serial of certificates "
                                               "signed without one; revoke those by key ID"
                                             : "the serial range " + std::to_string(first) + "-" +
                                                   std::to_string(last) + " ends before it starts");
  }
  if (pending_ranges_ >= kMaxSerialRanges) return Fail(TooManySerials());
  Pending& s = SectionFor(ca_blob);
  // Consecutive serials, as a bitmap or a list yields them, grow one range.
  if (!s.serials.empty() && s.serials.back().last != std::numeric_limits<std::uint64_t>::max() &&
      s.serials.back().last + 1 == first) {
    s.serials.back().last = last;
    return {};
  }
  s.serials.push_back({first, last});
  ++pending_ranges_;
  return {};
}

Result<void> KrlBuilder::RevokeKeyIdUnder(ByteView ca_blob, std::string_view key_id) {
  if (key_id.find('\0') != std::string_view::npos) {
    return Fail("krl_bad_key_id", "a key ID holds a NUL byte; OpenSSH cannot store it");
  }
  SectionFor(ca_blob).key_ids.emplace_back(key_id);
  return {};
}

Result<void> KrlBuilder::RevokeSerials(const key::PublicKey* ca, std::uint64_t first, std::uint64_t last) {
  return ca == nullptr ? RevokeSerialsUnder({}, first, last) : RevokeSerialsUnder(CaKeyBlob(*ca), first, last);
}

Result<void> KrlBuilder::RevokeKeyId(const key::PublicKey* ca, std::string_view key_id) {
  return ca == nullptr ? RevokeKeyIdUnder({}, key_id) : RevokeKeyIdUnder(CaKeyBlob(*ca), key_id);
}

void KrlBuilder::RevokeKeyExplicit(const key::PublicKey& key) { RevokeBlob(key.plain_blob()); }

void KrlBuilder::RevokeBlob(ByteView blob) { explicit_keys_.emplace_back(blob.begin(), blob.end()); }

void KrlBuilder::RevokeKeySha1(const key::PublicKey& key) { sha1s_.push_back(Sha1(key.plain_blob())); }

void KrlBuilder::RevokeKeySha256(const key::PublicKey& key) { sha256s_.push_back(key::Sha256(key.plain_blob())); }

Result<void> KrlBuilder::RevokeKey(const key::PublicKey& key) {
  const key::Certificate* cert = key.certificate();
  if (cert == nullptr) {
    RevokeKeyExplicit(key);
    return {};
  }
  const key::PublicKey* ca = cert->signature_key.get();
  if (cert->serial == 0) return RevokeKeyId(ca, cert->key_id);
  return RevokeSerials(ca, cert->serial, cert->serial);
}

Result<void> KrlBuilder::Merge(const Krl& other) {
  for (const auto& section : other.certificates) {
    for (const auto& r : section.serials) {
      if (auto ok = RevokeSerialsUnder(section.ca_key, r.first, r.last); !ok) return ok;
    }
    for (const auto& id : section.key_ids) {
      if (auto ok = RevokeKeyIdUnder(section.ca_key, id); !ok) return ok;
    }
  }
  for (const auto& k : other.explicit_keys) explicit_keys_.push_back(k);
  sha1s_.insert(sha1s_.end(), other.sha1s.begin(), other.sha1s.end());
  sha256s_.insert(sha256s_.end(), other.sha256s.begin(), other.sha256s.end());
  return {};
}

Krl KrlBuilder::Finish() && {
  Krl krl;
  krl.certificates.reserve(sections_.size());
  for (auto& p : sections_) {
    NormalizeSerials(p.serials);
    SortUnique(p.key_ids);
    krl.certificates.push_back(CertificateSection{std::move(p.ca_key), std::move(p.serials), std::move(p.key_ids)});
  }
  if (!std::is_sorted(explicit_keys_.begin(), explicit_keys_.end(), BytesLess)) {
    std::sort(explicit_keys_.begin(), explicit_keys_.end(), BytesLess);
  }
  explicit_keys_.erase(std::unique(explicit_keys_.begin(), explicit_keys_.end()), explicit_keys_.end());
  SortUnique(sha1s_);
  SortUnique(sha256s_);
  krl.explicit_keys = std::move(explicit_keys_);
  krl.sha1s = std::move(sha1s_);
  krl.sha256s = std::move(sha256s_);
  sections_.clear();
  section_index_.clear();
  pending_ranges_ = 0;
  return krl;
}

}  // namespace keyward::krl
