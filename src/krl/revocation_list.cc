#include "krl/revocation_list.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fs/safe_file.h"
#include "key/public_key.h"

namespace keyward::krl {

namespace {

using nlohmann::json;

// Ends a line that a crash cut short, when the next record is appended: the
// reader then knows to leave that line out.
constexpr std::string_view kTornMark = "\t#torn";

tl::unexpected<Error> BadRecord(std::string what) {
  return Fail("bad_revocation", "a record of the revocation list is malformed: " + std::move(what));
}

Result<key::PublicKey> ReadKey(const std::string& text, std::string_view what) {
  auto read = key::ReadKeyText(text);
  if (!read) return BadRecord("its " + std::string(what) + " is not a key: " + read.error().message);
  if (read->comment_offset != text.size()) return BadRecord("its " + std::string(what) + " has text after the key");
  return std::move(read->key);
}

}  // namespace

std::string FormatRevocation(const Revocation& r) {
  json j = {{"time", r.time}, {"who", r.who}};
  switch (r.kind) {
    case Revocation::Kind::kSerials:
      j["ca"] = r.ca;
      j["serials"] = json::array({r.first, r.last});
      break;
    case Revocation::Kind::kKeyId:
      j["ca"] = r.ca;
      j["key_id"] = r.key_id;
      break;
    case Revocation::Kind::kKey:
      j["key"] = r.key;
      break;
  }
  // Invalid UTF-8 in a key ID is kept as bytes by never reaching here: the
  // CLI refuses it; replace is a last resort that never throws.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Revocation> ParseRevocation(std::string_view line) {
  if (line.size() > kMaxRevocationLineBytes) return BadRecord("a line is longer than " + std::to_string(kMaxRevocationLineBytes) + " bytes");
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return BadRecord("a line is not a JSON object");
  Revocation r;
  int kinds = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "time") {
      if (!v.is_number_integer()) return BadRecord("\"time\" is not a number of seconds");
      r.time = v.get<std::int64_t>();
    } else if (name == "who") {
      if (!v.is_string()) return BadRecord("\"who\" is not a string");
      r.who = v.get<std::string>();
    } else if (name == "ca") {
      if (!v.is_string()) return BadRecord("\"ca\" is not a string");
      r.ca = v.get<std::string>();
    } else if (name == "serials") {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number_unsigned() || !v[1].is_number_unsigned()) {
        return BadRecord("\"serials\" is not [first, last]");
      }
      r.kind = Revocation::Kind::kSerials;
      r.first = v[0].get<std::uint64_t>();
      r.last = v[1].get<std::uint64_t>();
      if (r.first == 0 || r.first > r.last) return BadRecord("\"serials\" is empty or holds serial 0");
      ++kinds;
    } else if (name == "key_id") {
      if (!v.is_string()) return BadRecord("\"key_id\" is not a string");
      r.kind = Revocation::Kind::kKeyId;
      r.key_id = v.get<std::string>();
      ++kinds;
    } else if (name == "key") {
      if (!v.is_string()) return BadRecord("\"key\" is not a string");
      r.kind = Revocation::Kind::kKey;
      r.key = v.get<std::string>();
      ++kinds;
    } else {
      return BadRecord("unknown field \"" + name + "\"");
    }
  }
  if (kinds != 1) return BadRecord("a record revokes one thing: \"serials\", \"key_id\" or \"key\"");
  if (r.kind == Revocation::Kind::kKey) {
    if (!r.ca.empty()) return BadRecord("a key revocation has no \"ca\"");
    if (auto k = ReadKey(r.key, "key"); !k) return Fail(k.error());
  } else {
    if (r.ca.empty()) return BadRecord("a serial or key ID revocation names its CA (\"ca\")");
    if (auto k = ReadKey(r.ca, "CA"); !k) return Fail(k.error());
    if (r.key_id.find('\0') != std::string::npos) return BadRecord("a key ID holds a NUL byte");
  }
  return r;
}

Result<RevocationList> ParseRevocationList(std::string_view text) {
  RevocationList list;
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    ++number;
    if (nl == std::string_view::npos) {
      list.warnings.push_back("the last line of the revocation list (line " + std::to_string(number) +
                              ") was cut short by a crash before it was confirmed; it is left out");
      break;
    }
    std::string_view line = text.substr(0, nl);
    text = text.substr(nl + 1);
    if (line.empty()) continue;
    if (line.ends_with(kTornMark)) {
      list.warnings.push_back("line " + std::to_string(number) +
                              " of the revocation list was cut short by a crash before it was confirmed; it is left out");
      continue;
    }
    auto r = ParseRevocation(line);
    if (!r) {
      return Fail(r.error().code, "line " + std::to_string(number) + " of the revocation list: " + r.error().message +
                                      "; fix or remove that line by hand");
    }
    list.records.push_back(std::move(*r));
  }
  return list;
}

Result<void> ApplyRevocation(const Revocation& r, KrlBuilder& builder) {
  if (r.kind == Revocation::Kind::kKey) {
    auto k = ReadKey(r.key, "key");
    if (!k) return Fail(k.error());
    return builder.RevokeKey(*k);
  }
  auto ca = ReadKey(r.ca, "CA");
  if (!ca) return Fail(ca.error());
  if (r.kind == Revocation::Kind::kKeyId) return builder.RevokeKeyId(&*ca, r.key_id);
  return builder.RevokeSerials(&*ca, r.first, r.last);
}

Result<RevocationList> ReadRevocationList(int dirfd) {
  auto text = fs::ReadFileIfExistsAt(dirfd, kRevocationsFile, fs::Ownership{geteuid()}, kMaxRevocationsBytes,
                                     "the revocation list");
  if (!text) return Fail(text.error());
  if (!text->has_value()) return RevocationList{};
  return ParseRevocationList(**text);
}

Result<void> AppendRevocations(int dirfd, const std::vector<Revocation>& records) {
  auto existing = fs::ReadFileIfExistsAt(dirfd, kRevocationsFile, fs::Ownership{geteuid()}, kMaxRevocationsBytes,
                                         "the revocation list");
  if (!existing) return Fail(existing.error());
  std::string out;
  if (existing->has_value() && !(*existing)->empty() && (*existing)->back() != '\n') {
    out.append(kTornMark);
    out.push_back('\n');
  }
  for (const auto& r : records) out += FormatRevocation(r);
  if (auto ok = fs::AppendAt(dirfd, kRevocationsFile, out, 0600); !ok) return ok;
  // A new file's name must reach the disk too.
  if (!existing->has_value()) return fs::SyncDirectory(dirfd);
  return {};
}

}  // namespace keyward::krl
