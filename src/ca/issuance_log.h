// The issuance log, <ca.dir>/issued.log: one JSON object per line for
// every certificate the CA signed, appended and synced before the
// certificate is handed out. A batch is one append and one sync.
//
//   {"time":"2026-11-21T10:00:00Z","serial":17,"key_id":"keyward:alice:login:17",
//    "type":"user","role":"login","account":"alice","principals":["alice"],
//    "valid_after":1763715300,"valid_before":1764320400,
//    "fingerprint":"SHA256:...","key_type":"ED25519","ca":"SHA256:...",
//    "requested_by":"root","client":"192.0.2.7"}
//
// valid_before 18446744073709551615 means "forever"; role and account are
// "" for certificates signed without a role.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "key/public_key.h"

namespace keyward::ca {

inline constexpr const char* kIssuanceLogFile = "issued.log";

struct IssuanceRecord {
  std::int64_t time = 0;  // when it was signed, Unix seconds
  std::uint64_t serial = 0;
  std::string key_id;
  key::CertType type = key::CertType::kUser;
  std::string role;
  std::string account;
  std::vector<std::string> principals;
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;
  std::string fingerprint;     // SHA256 of the certified key
  std::string key_type;        // "ED25519", "RSA", ... (ssh-keygen -l's name)
  std::string ca_fingerprint;  // SHA256 of the CA key that signed
  std::string requested_by;    // who asked: a user name, "keywardd:<account>", ...
  std::string client;          // where from: an address, or "local"
};

// One line, newline included.
std::string FormatIssuanceRecord(const IssuanceRecord& record);
Result<IssuanceRecord> ParseIssuanceRecord(std::string_view line);

// Appends all records with one write(2) and one fdatasync(2).
Result<void> AppendIssuanceRecords(int ca_dirfd, const std::vector<IssuanceRecord>& records);

struct IssuanceLog {
  std::vector<IssuanceRecord> records;  // in file order
  std::size_t bad_lines = 0;            // lines that do not parse (a torn last line after a crash)
};

// Reads the whole log; a missing log is an empty one.
Result<IssuanceLog> ReadIssuanceLog(int ca_dirfd);

}  // namespace keyward::ca
