#include "krl/encode.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_set>

#include "krl/serial_plan.h"
#include "wire/writer.h"

namespace keyward::krl {

namespace {

tl::unexpected<Error> NotCanonical(std::string what) {
  return Fail("krl_not_canonical", "internal error: the KRL to write is not in canonical form (" + std::move(what) +
                                       "); nothing was written");
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

Result<void> CheckSection(const CertificateSection& s) {
  for (std::size_t i = 0; i < s.serials.size(); ++i) {
    const SerialRange& r = s.serials[i];
    if (r.first == 0 || r.first > r.last) return NotCanonical("a serial range is empty or holds serial 0");
    if (i > 0) {
      const SerialRange& prev = s.serials[i - 1];
      if (prev.last == std::numeric_limits<std::uint64_t>::max() || r.first <= prev.last + 1) {
        return NotCanonical("serial ranges overlap, touch or are out of order");
      }
    }
  }
  for (std::size_t i = 0; i < s.key_ids.size(); ++i) {
    if (HasNul(s.key_ids[i])) return NotCanonical("a key ID holds a NUL byte");
    if (i > 0 && !(s.key_ids[i - 1] < s.key_ids[i])) return NotCanonical("key IDs are out of order or repeated");
  }
  return {};
}

template <typename T, typename Less>
bool StrictlySorted(const std::vector<T>& v, Less less) {
  return std::adjacent_find(v.begin(), v.end(), [&](const T& a, const T& b) { return !less(a, b); }) == v.end();
}

void WriteBlobSection(std::uint8_t type, const auto& blobs, wire::Writer& out) {
  if (blobs.empty()) return;
  wire::Writer body;
  for (const auto& b : blobs) body.String(ByteView(b.data(), b.size()));
  out.U8(type);
  out.String(body.bytes());
}

}  // namespace

Result<Bytes> EncodeKrl(const Krl& krl) {
  if (HasNul(krl.comment)) return NotCanonical("the comment holds a NUL byte");
  std::unordered_set<std::string_view> cas;
  for (const auto& section : krl.certificates) {
    if (auto ok = CheckSection(section); !ok) return Fail(ok.error());
    if (!cas.insert(AsText(section.ca_key)).second) return NotCanonical("two sections for one CA");
  }
  auto bytes_less = [](const Bytes& a, const Bytes& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  };
  if (!StrictlySorted(krl.explicit_keys, bytes_less)) return NotCanonical("explicit keys out of order or repeated");
  if (!StrictlySorted(krl.sha1s, std::less<>())) return NotCanonical("SHA1 hashes out of order or repeated");
  if (!StrictlySorted(krl.sha256s, std::less<>())) return NotCanonical("SHA256 hashes out of order or repeated");

  wire::Writer out;
  out.Raw(AsBytes(kMagic));
  out.U32(kFormatVersion);
  out.U64(krl.version);
  out.U64(krl.generated_date);
  out.U64(krl.flags);
  out.String(std::string_view());  // reserved
  out.String(krl.comment);

  for (const auto& section : krl.certificates) {
    if (section.serials.empty() && section.key_ids.empty()) continue;
    wire::Writer body;
    body.String(section.ca_key);
    body.String(std::string_view());  // reserved
    WriteSerialSubsections(section.serials, PlanSerialSubsections(section.serials), body);
    if (!section.key_ids.empty()) {
      wire::Writer ids;
      for (const auto& id : section.key_ids) ids.String(id);
      body.U8(kSubsectionKeyId);
      body.String(ids.bytes());
    }
    out.U8(kSectionCertificates);
    out.String(body.bytes());
  }
  WriteBlobSection(kSectionExplicitKey, krl.explicit_keys, out);
  WriteBlobSection(kSectionFingerprintSha1, krl.sha1s, out);
  WriteBlobSection(kSectionFingerprintSha256, krl.sha256s, out);
  return out.Take();
}

}  // namespace keyward::krl
