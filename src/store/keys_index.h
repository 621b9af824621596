// keys.index: a sorted fingerprint index beside the store, written at every
// render, so that sshd's AuthorizedKeysCommand finds one key among 100,000
// without reading them all.
//
//   keyward-index 3 <users/ mtime ns> <sha256 hex of the rendered file> <sha256 hex of the file it
//                   replaces, or -> <n> <ca> <key policy tag, or ->
//   <fingerprint>\t<expiry>\t<inode>\t<size>\t<mtime ns>\t<file>\t<line>   (x n, by fingerprint;
//                                                                      cert-authority lines first)
//   end <n> <sha256 hex of every byte before this line>
//
// The index is only a cache: it is trusted only while users/ has the mtime
// it records and a hit's file still has the inode, size and mtime recorded;
// otherwise readers fall back to reading users/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::store {

struct IndexRecord {
  std::string fingerprint;  // "SHA256:..."
  std::uint64_t expiry = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string file;
  std::string line;  // the canonical authorized_keys line
  bool cert_authority = false;
};

struct IndexHeader {
  std::int64_t users_mtime_ns = 0;
  std::string rendered_sha256;
  // The file the render replaced: the index is written before the rename,
  // so after a crash between the two authorized_keys holds one of these two
  // (neither one is a hand edit). Empty when there was none.
  std::string previous_sha256;
  std::size_t count = 0;
  std::size_t cert_authorities = 0;
  // key::PolicyTag of the policy every line was checked against when the
  // index was written; "-" when none was (revoked.index).
  std::string policy = "-";
};

std::string BuildIndex(std::int64_t users_mtime_ns, const std::string& rendered_sha256,
                       const std::string& previous_sha256, std::vector<IndexRecord> records,
                       std::string_view policy = "-");

// A parsed view over an index's bytes (which the caller keeps alive, e.g.
// mapped). Only the header and trailer are checked up front; lookups touch
// O(log n) records.
class IndexView {
 public:
  static Result<IndexView> Open(std::string_view bytes);
  const IndexHeader& header() const { return header_; }
  // Whether the bytes before the trailer are the ones it names (a hash of
  // them all: for readers that take every record, not for one lookup). An
  // index rewritten in place and cut short by a crash may hold pages of two
  // versions; only this tells.
  bool Intact() const;
  // Records of cert-authority lines, which match every fingerprint.
  std::vector<IndexRecord> CertAuthorities() const;
  std::optional<IndexRecord> Find(std::string_view fingerprint) const;
  // Every record (cert authorities marked), for callers that read the index
  // as a cache of the key files; a malformed record ends the list with an
  // error.
  Result<std::vector<IndexRecord>> AllRecords() const;

 private:
  IndexHeader header_;
  std::string_view hashed_;    // everything before the trailer
  std::string_view checksum_;  // the trailer's hash, hex
  std::string_view body_;  // the sorted records
  std::string_view cas_;   // the cert-authority records
};

Result<IndexRecord> ParseIndexRecord(std::string_view line);

}  // namespace keyward::store
