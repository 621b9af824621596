#include "ca/issuance_log.h"

#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "fs/safe_file.h"

namespace keyward::ca {
namespace {

using nlohmann::json;

std::string UtcTimestamp(std::int64_t time) {
  std::time_t t = static_cast<std::time_t>(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

Result<std::int64_t> ParseUtcTimestamp(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return Fail("bad_record", "bad time");
  return static_cast<std::int64_t>(timegm(&tm));
}

tl::unexpected<Error> BadRecord(std::string why) {
  return Fail("bad_record", "an issuance log line is damaged: " + std::move(why));
}

}  // namespace

std::string FormatIssuanceRecord(const IssuanceRecord& r) {
  // In the order the header documents: people read this file too.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["time"] = UtcTimestamp(r.time);
  j["serial"] = r.serial;
  j["key_id"] = r.key_id;
  j["type"] = r.type == key::CertType::kHost ? "host" : "user";
  j["role"] = r.role;
  j["account"] = r.account;
  j["principals"] = r.principals;
  j["valid_after"] = r.valid_after;
  j["valid_before"] = r.valid_before;
  j["fingerprint"] = r.fingerprint;
  j["key_type"] = r.key_type;
  j["ca"] = r.ca_fingerprint;
  j["requested_by"] = r.requested_by;
  j["client"] = r.client;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<IssuanceRecord> ParseIssuanceRecord(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return BadRecord("not a JSON object");
  IssuanceRecord r;
  auto str = [&j](const char* name, std::string& out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto u64 = [&j](const char* name, std::uint64_t& out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_unsigned()) return false;
    out = it->get<std::uint64_t>();
    return true;
  };
  std::string time, type;
  if (!str("time", time) || !u64("serial", r.serial) || !str("key_id", r.key_id) || !str("type", type) ||
      !str("role", r.role) || !str("account", r.account) || !u64("valid_after", r.valid_after) ||
      !u64("valid_before", r.valid_before) || !str("fingerprint", r.fingerprint) || !str("key_type", r.key_type) ||
      !str("ca", r.ca_fingerprint) || !str("requested_by", r.requested_by) || !str("client", r.client)) {
    return BadRecord("a field is missing or of the wrong type");
  }
  auto t = ParseUtcTimestamp(time);
  if (!t) return BadRecord("bad time");
  r.time = *t;
  if (type != "user" && type != "host") return BadRecord("bad type");
  r.type = type == "host" ? key::CertType::kHost : key::CertType::kUser;
  auto p = j.find("principals");
  if (p == j.end() || !p->is_array()) return BadRecord("principals is not a list");
  for (const auto& item : *p) {
    if (!item.is_string()) return BadRecord("a principal is not a string");
    r.principals.push_back(item.get<std::string>());
  }
  return r;
}

Result<void> AppendIssuanceRecords(int ca_dirfd, const std::vector<IssuanceRecord>& records) {
  if (records.empty()) return {};
  std::string all;
  for (const auto& r : records) all += FormatIssuanceRecord(r);
  return fs::AppendAt(ca_dirfd, kIssuanceLogFile, all, 0600);
}

Result<IssuanceLog> ReadIssuanceLog(int ca_dirfd) {
  auto mapped = fs::MappedFile::OpenIfExistsAt(ca_dirfd, kIssuanceLogFile, fs::Ownership{geteuid()},
                                               "the issuance log");
  if (!mapped) return Fail(mapped.error());
  IssuanceLog log;
  if (!*mapped) return log;
  std::string_view text = (*mapped)->view();
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    auto record = ParseIssuanceRecord(line);
    if (record) {
      log.records.push_back(std::move(*record));
    } else {
      ++log.bad_lines;
    }
  }
  return log;
}

}  // namespace keyward::ca
