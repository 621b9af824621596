// Building the KRL sshd reads (RevokedKeys) and replacing it atomically:
// what `keyward krl build` and `keyward ca revoke` do.
//
// Sources: the CA's revocation list (<ca.dir>/revocations), every account's
// revoked/ keys, and ssh-keygen spec files. The KRL's version is the
// previous file's plus one; it is written to a temporary file beside the
// old one, synced, read back and checked, then renamed over it (sshd
// refuses every key when it reads a torn KRL). Builds are serialized by the
// revocations lock, so that two of them cannot race and lose a revocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "config/config.h"
#include "krl/revocation_list.h"

namespace keyward::krl {

struct PublishOptions {
  config::Config config;
  std::string out;                      // empty: config.ca.krl
  std::vector<std::string> spec_files;  // ssh-keygen -k spec files ("-": standard input)
  std::string spec_ca;                  // CA public key for their serial:/id: lines; "none": any CA
  bool accounts = true;                 // add every account's revoked/ keys
  std::int64_t now = 0;                 // 0: the clock
};

struct PublishResult {
  std::string path;
  std::uint64_t version = 0;
  std::size_t bytes = 0;
  std::size_t cas = 0;  // certificate sections
  std::size_t serials = 0;
  std::size_t key_ids = 0;
  std::size_t explicit_keys = 0;
  std::size_t sha1s = 0;
  std::size_t sha256s = 0;
  std::size_t revocation_records = 0;
  std::size_t account_keys = 0;  // revoked/ keys found (before duplicates merge)
  std::size_t accounts = 0;
  std::size_t accounts_without_store = 0;
  std::vector<std::string> warnings;
};

Result<PublishResult> BuildAndWriteKrl(const PublishOptions& options);

// Appends `records` to the revocation list (synced), then builds and writes
// the KRL, all under the revocations lock. The records are kept even when
// the build fails afterwards (the next build publishes them); `recorded`
// says whether they were written, whatever the result.
Result<PublishResult> RevokeAndRebuild(const PublishOptions& options, const std::vector<Revocation>& records,
                                       bool* recorded = nullptr);

}  // namespace keyward::krl
