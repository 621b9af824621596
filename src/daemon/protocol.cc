#include "daemon/protocol.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;

enum Field : unsigned {
  kUser = 1u << 0,
  kClient = 1u << 1,
  kLogin = 1u << 2,
  kCode = 1u << 3,
  kSession = 1u << 4,
  kKey = 1u << 5,
  kOwner = 1u << 6,
  kDevice = 1u << 7,
  kDays = 1u << 8,
  kFile = 1u << 9,
  kRole = 1u << 10,
  kValidity = 1u << 11,
};

struct OpSpec {
  Op op;
  const char* name;
  unsigned required;
  unsigned optional;
};

// What each request takes; docs/protocol.md says the same in prose.
constexpr OpSpec kOps[] = {
    {Op::kLogin, "login", kUser, kClient},
    {Op::kVerify, "verify", kLogin | kCode, kClient},
    {Op::kListKeys, "list_keys", kSession, kClient},
    {Op::kAddKey, "add_key", kSession | kKey | kOwner | kDevice, kDays | kClient},
    {Op::kRevokeKey, "revoke_key", kSession | kFile, kClient},
    {Op::kLogout, "logout", kSession, kClient},
    {Op::kListRoles, "list_roles", kSession, kClient},
    {Op::kSignCert, "sign_cert", kSession | kRole | kKey, kValidity | kClient},
};

struct TextField {
  Field bit;
  const char* name;
  std::size_t max;
  std::string Request::*member;
};

constexpr TextField kTextFields[] = {
    {kUser, "user", kMaxUserField, &Request::user},
    {kClient, "client", kMaxClientField, &Request::client},
    {kLogin, "login", kMaxTokenField, &Request::login},
    {kCode, "code", kMaxCodeField, &Request::code},
    {kSession, "session", kMaxTokenField, &Request::session},
    {kKey, "key", kMaxKeyField, &Request::key},
    {kOwner, "owner", kMaxOwnerField, &Request::owner},
    {kDevice, "device", kMaxDeviceField, &Request::device},
    {kFile, "file", kMaxFileField, &Request::file},
    {kRole, "role", kMaxRoleField, &Request::role},
    {kValidity, "validity", kMaxValidityField, &Request::validity},
};

tl::unexpected<Error> Bad(std::string why) { return Fail("bad_request", std::move(why)); }

// Control characters have no place in any field; a pasted key may carry
// its line ending (and tabs), which the key parser then judges.
bool CleanText(std::string_view s, bool is_key) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0 || c == 0x7f) return false;
    if (c < 0x20 && !(is_key && (c == '\n' || c == '\r' || c == '\t'))) return false;
  }
  return true;
}

}  // namespace

const char* OpName(Op op) {
  for (const OpSpec& spec : kOps) {
    if (spec.op == op) return spec.name;
  }
  return "?";
}

Result<Request> ParseRequest(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return Bad("the request is longer than 64 KiB");
  if (line.find('\0') != std::string_view::npos) return Bad("the request holds a NUL byte");

  // Requests are flat: a nested object or array is refused before it is
  // built, and a key given twice is refused (readers that keep the first
  // and readers that keep the last must never disagree about a request).
  bool nested = false;
  bool duplicate = false;
  std::vector<std::string> keys;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) && depth > 0) {
      nested = true;
      return false;
    }
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      for (const std::string& seen : keys) duplicate = duplicate || seen == k;
      keys.push_back(k);
    }
    return true;
  };
  json doc = json::parse(line, callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad("the request is not valid JSON");
  if (!doc.is_object()) return Bad("the request is not a JSON object");
  if (nested) return Bad("the request holds a nested object or list");
  if (duplicate) return Bad("the request names a field twice");

  auto op_it = doc.find("op");
  if (op_it == doc.end() || !op_it->is_string()) return Bad("the request has no \"op\" string");
  const OpSpec* spec = nullptr;
  for (const OpSpec& s : kOps) {
    if (*op_it == s.name) spec = &s;
  }
  if (spec == nullptr) return Bad("unknown op");

  Request r;
  r.op = spec->op;
  unsigned seen = 0;
  for (const auto& [name, value] : doc.items()) {
    if (name == "op") continue;
    if (name == "days") {
      if (((spec->required | spec->optional) & kDays) == 0) return Bad(std::string(spec->name) + " takes no \"days\"");
      if (!value.is_number_integer()) return Bad("\"days\" must be a whole number");
      if (value.is_number_unsigned() ? value.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxDays)
                                     : (value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > kMaxDays)) {
        return Bad("\"days\" must be from 0 to " + std::to_string(kMaxDays));
      }
      r.days = value.get<std::int64_t>();
      seen |= kDays;
      continue;
    }
    const TextField* field = nullptr;
    for (const TextField& f : kTextFields) {
      if (name == f.name) field = &f;
    }
    if (field == nullptr || ((spec->required | spec->optional) & field->bit) == 0) {
      return Bad(std::string(spec->name) + " takes no field named like that");
    }
    if (!value.is_string()) return Bad("\"" + std::string(field->name) + "\" must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > field->max) {
      return Bad("\"" + std::string(field->name) + "\" is longer than " + std::to_string(field->max) + " bytes");
    }
    if (!CleanText(text, field->bit == kKey)) {
      return Bad("\"" + std::string(field->name) + "\" holds control characters");
    }
    r.*(field->member) = text;
    seen |= field->bit;
  }
  if ((seen & spec->required) != spec->required) {
    for (const TextField& f : kTextFields) {
      if ((spec->required & f.bit) != 0 && (seen & f.bit) == 0) {
        return Bad(std::string(spec->name) + " needs \"" + f.name + "\"");
      }
    }
  }
  return r;
}

std::string FormatOk(json fields) {
  fields["ok"] = true;
  return fields.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string FormatError(const Error& error) {
  json reply = {{"ok", false}, {"error", {{"code", error.code}, {"message", error.message}}}};
  return reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace keyward::daemon
