// The audit log: one JSON object per line, appended under a lock and synced.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace keyward::store {

struct AuditRecord {
  std::int64_t time = 0;
  std::string who;
  std::string account;
  std::string action;  // add, revoke, reinstate, prune, import
  std::string file;
  std::string fingerprint;
  std::string client;  // may be empty
};

std::string FormatAuditRecord(const AuditRecord& record);
std::string FormatUtcTimestamp(std::int64_t time);  // 2026-11-21T08:15:00Z

Result<void> AppendAuditRecord(int dirfd, const std::string& file, const AuditRecord& record);

}  // namespace keyward::store
