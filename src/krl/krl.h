// OpenSSH key revocation lists (KRLs, PROTOCOL.krl): the model, and a
// builder that collects revocations in any order and produces the model in
// its one canonical form.
//
// A KRL revokes certificates by serial number or key ID under a CA (or under
// any CA: the wildcard section), and keys by their plain blob or by the
// SHA1 or SHA256 hash of it. The model holds exactly what OpenSSH 9.2's
// krl.c keeps after loading a KRL, so that two KRLs that sshd treats alike
// compare equal here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "key/crypto.h"
#include "key/public_key.h"

namespace keyward::krl {

// "SSHKRL\n\0", then format version 1: the only one defined.
inline constexpr std::string_view kMagic{"SSHKRL\n\0", 8};
inline constexpr std::uint32_t kFormatVersion = 1;

// Section and certificate subsection types.
inline constexpr std::uint8_t kSectionCertificates = 1;
inline constexpr std::uint8_t kSectionExplicitKey = 2;
inline constexpr std::uint8_t kSectionFingerprintSha1 = 3;
inline constexpr std::uint8_t kSectionSignature = 4;
inline constexpr std::uint8_t kSectionFingerprintSha256 = 5;
inline constexpr std::uint8_t kSubsectionSerialList = 0x20;
inline constexpr std::uint8_t kSubsectionSerialRange = 0x21;
inline constexpr std::uint8_t kSubsectionSerialBitmap = 0x22;
inline constexpr std::uint8_t kSubsectionKeyId = 0x23;

// Limits on what comes from outside.
// The largest KRL read: OpenSSH's SSHBUF_SIZE_MAX, beyond which sshd and
// ssh-keygen refuse to load a file at all.
inline constexpr std::size_t kMaxKrlBytes = std::size_t{128} << 20;
// A serial bitmap is an mpint, which OpenSSH reads only up to
// SSHBUF_MAX_BIGNUM (2048 bytes): at most 16384 serials per bitmap.
inline constexpr std::uint64_t kMaxBitmapBits = 16384;
// Serial ranges held while a KRL is read or built, before adjacent ones are
// merged: bounds memory (16 bytes each) for a hostile bitmap of alternating
// bits. Far beyond any real CA.
inline constexpr std::size_t kMaxSerialRanges = std::size_t{1} << 24;
// OpenSSH refuses signatures over 1 MiB (SSH_KEY_MAX_SIGN_DATA_SIZE).
inline constexpr std::size_t kMaxSignatureBytes = std::size_t{1} << 20;

using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha256Digest = key::Sha256Digest;

Sha1Digest Sha1(ByteView data);

// Serials first..last, both included; never 0 (a certificate without a
// serial has serial 0, and OpenSSH never revokes it by serial).
struct SerialRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  friend bool operator==(const SerialRange&, const SerialRange&) = default;
};

// The certificates of one CA that are revoked.
struct CertificateSection {
  // The CA key as OpenSSH writes it (sshkey_to_blob: a plain key in
  // canonical form, a certificate as signed). Empty: any CA.
  Bytes ca_key;
  std::vector<SerialRange> serials;   // sorted, disjoint, never adjacent
  std::vector<std::string> key_ids;   // sorted (strcmp order), unique, no NUL
  friend bool operator==(const CertificateSection&, const CertificateSection&) = default;

  bool wildcard() const { return ca_key.empty(); }
};

struct Krl {
  std::uint64_t version = 0;
  std::uint64_t generated_date = 0;  // seconds since the epoch
  std::uint64_t flags = 0;
  std::string comment;  // no NUL
  // One section per CA, in the order OpenSSH keeps them (first revocation
  // first); never empty ones.
  std::vector<CertificateSection> certificates;
  // Sorted (memcmp order, shorter first on a tie), unique.
  std::vector<Bytes> explicit_keys;  // plain key blobs (not parsed: any bytes)
  std::vector<Sha1Digest> sha1s;
  std::vector<Sha256Digest> sha256s;
  // Keys whose signature sections verified when the KRL was read. Never
  // written: keyward does not sign KRLs (OpenSSH 9.4 stopped checking them).
  std::vector<Bytes> signing_keys;

  std::size_t serial_count() const;  // revoked serials, summed over the ranges (saturating)
};

// Everything but the signatures: what a KRL revokes, and its header.
bool SameRevocations(const Krl& a, const Krl& b);

// The form in which OpenSSH stores and compares a CA key (sshkey_equal): a
// plain key canonically, a certificate as signed.
Bytes CaKeyBlob(const key::PublicKey& ca);

// Collects revocations in any order, with repeats and overlaps, and
// produces the canonical model. The same rules as OpenSSH's
// ssh_krl_revoke_*() functions.
class KrlBuilder {
 public:
  // `ca` null: the wildcard section (any CA). Refuses serial 0 and
  // first > last, as OpenSSH does.
  Result<void> RevokeSerials(const key::PublicKey* ca, std::uint64_t first, std::uint64_t last);
  Result<void> RevokeKeyId(const key::PublicKey* ca, std::string_view key_id);
  // The same, for a CA given as its CaKeyBlob() (empty: any CA).
  Result<void> RevokeSerialsUnder(ByteView ca_blob, std::uint64_t first, std::uint64_t last);
  Result<void> RevokeKeyIdUnder(ByteView ca_blob, std::string_view key_id);

  // The plain key, whatever `key` is (a certificate revokes its key).
  void RevokeKeyExplicit(const key::PublicKey& key);
  void RevokeBlob(ByteView blob);  // an explicit key blob as found in a KRL
  void RevokeSha1(const Sha1Digest& digest) { sha1s_.push_back(digest); }
  void RevokeSha256(const Sha256Digest& digest) { sha256s_.push_back(digest); }
  void RevokeKeySha1(const key::PublicKey& key);
  void RevokeKeySha256(const key::PublicKey& key);

  // What ssh-keygen -k does with a bare key line: a plain key is revoked
  // explicitly; a certificate by serial under its CA, or by key ID when its
  // serial is 0.
  Result<void> RevokeKey(const key::PublicKey& key);

  // Adds everything another KRL revokes (ssh-keygen -u).
  Result<void> Merge(const Krl& other);

  std::size_t pending_serial_ranges() const { return pending_ranges_; }

  // The model, with the header left at zero for the caller to fill.
  Krl Finish() &&;

 private:
  struct Pending {
    Bytes ca_key;
    std::vector<SerialRange> serials;
    std::vector<std::string> key_ids;
  };
  Pending& SectionFor(ByteView ca_blob);

  std::vector<Pending> sections_;
  std::unordered_map<std::string, std::size_t> section_index_;
  std::vector<Bytes> explicit_keys_;
  std::vector<Sha1Digest> sha1s_;
  std::vector<Sha256Digest> sha256s_;
  std::size_t pending_ranges_ = 0;
};

// Sorts and merges serial ranges in place: the canonical, disjoint,
// non-adjacent form.
void NormalizeSerials(std::vector<SerialRange>& ranges);

}  // namespace keyward::krl
