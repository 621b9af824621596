#include "store/audit_log.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "fs/safe_file.h"

namespace keyward::store {

std::string FormatUtcTimestamp(std::int64_t time) {
  std::time_t t = static_cast<std::time_t>(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatAuditRecord(const AuditRecord& r) {
  nlohmann::json j = {{"time", FormatUtcTimestamp(r.time)}, {"who", r.who},   {"account", r.account},
                      {"action", r.action},                  {"file", r.file}, {"fingerprint", r.fingerprint}};
  if (!r.client.empty()) j["client"] = r.client;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<void> AppendAuditRecord(int dirfd, const std::string& file, const AuditRecord& record) {
  return fs::AppendAt(dirfd, file, FormatAuditRecord(record), 0600);
}

}  // namespace keyward::store
