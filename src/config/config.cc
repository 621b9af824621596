#include "config/config.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "authkeys/address.h"
#include "fs/read_file.h"

namespace keyward::config {

namespace {

using nlohmann::json;

// The policy's algorithm names, in the order the sample lists them.
struct AlgorithmWord {
  key::Algorithm algorithm;
  const char* word;
};
constexpr AlgorithmWord kAlgorithmWords[] = {
    {key::Algorithm::kEd25519, "ed25519"},       {key::Algorithm::kEcdsa, "ecdsa"},
    {key::Algorithm::kRsa, "rsa"},               {key::Algorithm::kDsa, "dsa"},
    {key::Algorithm::kEd25519Sk, "sk-ed25519"},  {key::Algorithm::kEcdsaSk, "sk-ecdsa"},
    {key::Algorithm::kMlDsa44Ed25519, "mldsa44-ed25519"},
};

constexpr std::size_t kMaxListItems = 256;
constexpr std::size_t kMaxRoles = 256;
constexpr std::size_t kMaxPrincipalTemplateBytes = 255;
constexpr std::int64_t kMaxRoleValiditySeconds = 3650LL * 86400;

tl::unexpected<Error> BadSetting(std::string_view name, std::string why) {
  return Fail("bad_config", "setting \"" + std::string(name) + "\": " + std::move(why));
}

// Messages say what is wrong with a value but never repeat it: the same
// helpers read twilio_token.
Result<std::string> GetString(const json& value, std::string_view name) {
  if (!value.is_string()) return BadSetting(name, "must be a string");
  std::string s = value.get<std::string>();
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return BadSetting(name, "must not hold control characters");
  }
  return s;
}

Result<std::string> GetNonEmpty(const json& value, std::string_view name) {
  auto s = GetString(value, name);
  if (s && s->empty()) return BadSetting(name, "must not be empty");
  return s;
}

Result<std::string> GetAbsolutePath(const json& value, std::string_view name) {
  auto s = GetNonEmpty(value, name);
  if (!s) return s;
  if (s->front() != '/') return BadSetting(name, "must be an absolute path (starting with /)");
  if (s->find("/../") != std::string::npos || s->ends_with("/..")) return BadSetting(name, "must not contain ..");
  return s;
}

// User and group names as useradd takes them (store::ValidateUserName is
// the same rule one layer up).
Result<std::string> GetName(const json& value, std::string_view name) {
  auto s = GetNonEmpty(value, name);
  if (!s) return s;
  bool ok = s->size() <= 32 && ((s->front() >= 'a' && s->front() <= 'z') || s->front() == '_');
  for (char c : *s) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
  }
  if (!ok || s->find("..") != std::string::npos) {
    return BadSetting(name, "must be a user or group name: a-z, 0-9, _ . -, starting with a letter or _, at most 32");
  }
  return s;
}

Result<std::int64_t> GetInteger(const json& value, std::string_view name, std::int64_t min, std::int64_t max) {
  std::string range = "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (!value.is_number_integer()) return BadSetting(name, range);
  if (value.is_number_unsigned()) {
    auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max) || static_cast<std::int64_t>(u) < min) return BadSetting(name, range);
    return static_cast<std::int64_t>(u);
  }
  auto i = value.get<std::int64_t>();
  if (i < min || i > max) return BadSetting(name, range);
  return i;
}

Result<std::string> GetTemplate(const json& value, std::string_view name) {
  if (!value.is_string()) return BadSetting(name, "must be a string");
  std::string s = value.get<std::string>();
  if (s.empty()) return BadSetting(name, "must not be empty");
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 1 >= s.size() || (s[i + 1] != 'h' && s[i + 1] != 'u' && s[i + 1] != '%')) {
      return BadSetting(name, "only %h, %u and %% may follow a %");
    }
    ++i;
  }
  return s;
}

Result<key::KeyPolicy> GetPolicy(const json& value) {
  if (!value.is_object()) return BadSetting("key_policy", "must be an object");
  key::KeyPolicy policy;
  for (const auto& [k, v] : value.items()) {
    if (k == "allowed") {
      if (!v.is_array()) return BadSetting("key_policy.allowed", "must be a list of algorithm names");
      std::string list;
      for (const auto& item : v) {
        // One name per item: "ed25519,rsa" is not a name.
        if (!item.is_string() || item.get<std::string>().find(',') != std::string::npos) {
          return BadSetting("key_policy.allowed", "must be a list of algorithm names, one per item");
        }
        if (!list.empty()) list += ",";
        list += item.get<std::string>();
      }
      auto algorithms = key::ParseAlgorithmList(list);
      if (!algorithms) return BadSetting("key_policy.allowed", algorithms.error().message);
      policy.allowed = *algorithms;
    } else if (k == "min_rsa_bits") {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() < 1024 || v.get<std::uint64_t>() > 16384) {
        return BadSetting("key_policy.min_rsa_bits", "must be a whole number from 1024 to 16384");
      }
      policy.min_rsa_bits = v.get<unsigned>();
    } else if (k == "allow_certificates") {
      if (!v.is_boolean()) return BadSetting("key_policy.allow_certificates", "must be true or false");
      policy.allow_certificates = v.get<bool>();
    } else {
      return BadSetting("key_policy." + k, "unknown setting");
    }
  }
  return policy;
}

Result<AccountsConfig> GetAccounts(const json& value) {
  if (!value.is_object()) return BadSetting("accounts", "must be an object such as {\"source\": \"passwd\"}");
  AccountsConfig a;
  bool have_source = false;
  for (const auto& [k, v] : value.items()) {
    std::string name = "accounts." + k;
    if (k == "source") {
      auto s = GetString(v, name);
      if (!s) return Fail(s.error());
      if (*s == "passwd") a.source = AccountSource::kPasswd;
      else if (*s == "directory") a.source = AccountSource::kDirectory;
      else return BadSetting(name, "must be \"passwd\" or \"directory\"");
      have_source = true;
    } else if (k == "path") {
      auto s = GetAbsolutePath(v, name);
      if (!s) return Fail(s.error());
      a.path = *s;
    } else if (k == "store") {
      auto s = GetTemplate(v, name);
      if (!s) return Fail(s.error());
      a.store_template = *s;
    } else if (k == "authorized_keys") {
      auto s = GetTemplate(v, name);
      if (!s) return Fail(s.error());
      a.authorized_keys_template = *s;
    } else {
      return BadSetting(name, "unknown setting");
    }
  }
  if (!have_source) return BadSetting("accounts.source", "is required: \"passwd\" or \"directory\"");
  if (a.source == AccountSource::kDirectory && a.path.empty()) {
    return BadSetting("accounts.path", "is required with \"source\": \"directory\"");
  }
  if (a.source == AccountSource::kPasswd &&
      (!a.path.empty() || value.contains("store") || value.contains("authorized_keys"))) {
    return BadSetting("accounts", "path, store and authorized_keys belong to the directory source; passwd "
                                  "accounts use the top-level store and authorized_keys");
  }
  return a;
}

Result<ChannelConfig> GetChannel(const json& value, std::string_view section, Channel default_channel,
                                 bool is_alerts) {
  if (!value.is_object()) return BadSetting(section, "must be an object such as {\"channel\": \"console\"}");
  ChannelConfig c;
  c.channel = default_channel;
  std::string prefix = std::string(section) + ".";
  for (const auto& [k, v] : value.items()) {
    std::string name = prefix + k;
    if (k == "channel") {
      auto s = GetString(v, name);
      if (!s) return Fail(s.error());
      if (*s == "twilio") c.channel = Channel::kTwilio;
      else if (*s == "command") c.channel = Channel::kCommand;
      else if (*s == "sendmail") c.channel = Channel::kSendmail;
      else if (*s == "console") c.channel = Channel::kConsole;
      else return BadSetting(name, "must be \"twilio\", \"command\", \"sendmail\" or \"console\"");
    } else if (k == "command") {
      if (!v.is_array()) return BadSetting(name, "must be a list of strings: the program and its arguments");
      if (v.size() > kMaxCommandArgs) return BadSetting(name, "has more than 32 items");
      c.command.clear();
      for (const auto& item : v) {
        auto s = GetString(item, name);
        if (!s) return Fail(s.error());
        c.command.push_back(*s);
      }
      if (!c.command.empty() && (c.command[0].empty() || c.command[0][0] != '/')) {
        return BadSetting(name, "the program (the first item) must be an absolute path; no shell is used");
      }
    } else if (k == "sendmail") {
      auto s = GetAbsolutePath(v, name);
      if (!s) return Fail(s.error());
      c.sendmail = *s;
    } else if (k == "from") {
      auto s = GetNonEmpty(v, name);
      if (!s) return Fail(s.error());
      c.from = *s;
    } else if (k == "to" && is_alerts) {
      auto s = GetString(v, name);  // "": admin_user
      if (!s) return Fail(s.error());
      c.to = *s;
    } else {
      return BadSetting(name, "unknown setting");
    }
  }
  if (c.channel == Channel::kCommand && c.command.empty()) {
    return BadSetting(prefix + "command", "is required with \"channel\": \"command\"");
  }
  return c;
}

Result<RateLimits> GetRateLimits(const json& value) {
  if (!value.is_object()) return BadSetting("rate_limits", "must be an object");
  RateLimits r;
  for (const auto& [k, v] : value.items()) {
    std::string name = "rate_limits." + k;
    if (k == "logins_per_account_per_hour") {
      auto n = GetInteger(v, name, 1, 10000);
      if (!n) return Fail(n.error());
      r.logins_per_account_per_hour = static_cast<unsigned>(*n);
    } else if (k == "logins_per_client_per_hour") {
      auto n = GetInteger(v, name, 1, 100000);
      if (!n) return Fail(n.error());
      r.logins_per_client_per_hour = static_cast<unsigned>(*n);
    } else if (k == "verify_tries") {
      auto n = GetInteger(v, name, 1, 10);
      if (!n) return Fail(n.error());
      r.verify_tries = static_cast<unsigned>(*n);
    } else if (k == "certificates_per_account_per_hour") {
      auto n = GetInteger(v, name, 1, 100000);
      if (!n) return Fail(n.error());
      r.certificates_per_account_per_hour = static_cast<unsigned>(*n);
    } else {
      return BadSetting(name, "unknown setting");
    }
  }
  return r;
}

// Seconds as sshd_config writes time (TIME FORMATS): digits with an
// optional unit s, m, h, d or w, repeated ("7d", "1h30m"); or a whole
// number of seconds.
Result<std::int64_t> GetDuration(const json& value, std::string_view name, std::int64_t min, std::int64_t max) {
  std::string range = "must be a duration from " + std::to_string(min) + " to " + std::to_string(max) +
                      " seconds: a number of seconds, or a text such as \"12h\", \"7d\" or \"1w\"";
  if (value.is_number_integer()) return GetInteger(value, name, min, max);
  if (!value.is_string()) return BadSetting(name, range);
  const std::string text = value.get<std::string>();
  std::int64_t total = 0;
  std::size_t i = 0;
  if (text.empty()) return BadSetting(name, range);
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > max) return BadSetting(name, range);
      ++i;
    }
    if (i == start) return BadSetting(name, range);
    std::int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's': case 'S': unit = 1; break;
        case 'm': case 'M': unit = 60; break;
        case 'h': case 'H': unit = 3600; break;
        case 'd': case 'D': unit = 86400; break;
        case 'w': case 'W': unit = 7 * 86400; break;
        default: return BadSetting(name, range);
      }
      ++i;
    }
    total += n * unit;
    if (total > max) return BadSetting(name, range);
  }
  if (total < min) return BadSetting(name, range);
  return total;
}

// A list of strings; `check` validates each item.
template <typename Check>
Result<std::vector<std::string>> GetStringList(const json& value, std::string_view name, Check check) {
  if (!value.is_array()) return BadSetting(name, "must be a list of strings");
  if (value.size() > kMaxListItems) return BadSetting(name, "has more than " + std::to_string(kMaxListItems) + " items");
  std::vector<std::string> out;
  for (const auto& item : value) {
    auto s = GetString(item, name);
    if (!s) return Fail(s.error());
    if (auto ok = check(*s); !ok) return Fail(ok.error());
    if (std::find(out.begin(), out.end(), *s) != out.end()) return BadSetting(name, "lists an item twice");
    out.push_back(*s);
  }
  return out;
}

// Role names: what a person types after --role and what key ids hold.
bool IsRoleName(const std::string& s) {
  if (s.empty() || s.size() > 32 || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// A principal template: printable ASCII without commas or blanks (OpenSSH
// separates principals with commas), %u for the account, %% for a percent.
Result<void> CheckPrincipalTemplate(const std::string& s, std::string_view name) {
  if (s.empty() || s.size() > kMaxPrincipalTemplateBytes) {
    return BadSetting(name, "each principal is 1 to " + std::to_string(kMaxPrincipalTemplateBytes) + " characters");
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ',' || c <= 0x20 || c >= 0x7f) {
      return BadSetting(name, "a principal holds no comma, blank or control character (printable ASCII only)");
    }
    if (c == '%') {
      if (i + 1 >= s.size() || (s[i + 1] != 'u' && s[i + 1] != '%')) {
        return BadSetting(name, "only %u (the account's name) and %% may follow a % in a principal");
      }
      ++i;
    }
  }
  return {};
}

Result<RoleConfig> GetRole(const json& value, std::size_t index) {
  std::string where = "ca.roles[" + std::to_string(index) + "]";
  if (!value.is_object()) return BadSetting(where, "must be an object such as {\"name\": \"login\", ...}");
  RoleConfig role;
  auto name_it = value.find("name");
  if (name_it == value.end()) return BadSetting(where + ".name", "is required");
  auto name = GetString(*name_it, where + ".name");
  if (!name) return Fail(name.error());
  if (!IsRoleName(*name)) {
    return BadSetting(where + ".name", "must be 1 to 32 characters a-z, 0-9, _ and -, starting with a letter");
  }
  role.name = *name;
  where = "ca.roles." + role.name;
  bool have_principals = false;
  for (const auto& [k, v] : value.items()) {
    std::string setting = where + "." + k;
    if (k == "name") continue;
    if (k == "principals") {
      auto list = GetStringList(v, setting, [&setting](const std::string& s) { return CheckPrincipalTemplate(s, setting); });
      if (!list) return Fail(list.error());
      if (list->empty()) return BadSetting(setting, "must not be empty: a certificate needs a principal");
      role.principals = *list;
      have_principals = true;
    } else if (k == "max_validity") {
      auto seconds = GetDuration(v, setting, 60, kMaxRoleValiditySeconds);
      if (!seconds) return Fail(seconds.error());
      role.max_validity = *seconds;
    } else if (k == "force_command") {
      auto s = GetString(v, setting);
      if (!s) return Fail(s.error());
      for (std::size_t i = 0; i < s->size(); ++i) {
        if ((*s)[i] != '%') continue;
        if (i + 1 >= s->size() || ((*s)[i + 1] != 'u' && (*s)[i + 1] != '%')) {
          return BadSetting(setting, "only %u (the account's name) and %% may follow a %; write a percent sign as %%");
        }
        ++i;
      }
      role.force_command = *s;
    } else if (k == "source_address") {
      auto list = GetStringList(v, setting, [](const std::string&) { return Result<void>{}; });
      if (!list) return Fail(list.error());
      std::string joined;
      for (const auto& cidr : *list) joined += (joined.empty() ? "" : ",") + cidr;
      if (!list->empty()) {
        if (auto ok = authkeys::ValidateCidrList(joined); !ok) {
          return BadSetting(setting, "must list networks in CIDR form such as \"10.0.0.0/8\" or \"2001:db8::/32\": " +
                                         ok.error().message);
        }
      }
      role.source_address = *list;
    } else if (k == "verify_required") {
      if (!v.is_boolean()) return BadSetting(setting, "must be true or false");
      role.verify_required = v.get<bool>();
    } else if (k == "extensions") {
      auto list = GetStringList(v, setting, [&setting](const std::string& s) -> Result<void> {
        for (const char* known : kCertificateExtensions) {
          if (s == known) return {};
        }
        std::string names;
        for (const char* known : kCertificateExtensions) names += (names.empty() ? "" : ", ") + std::string(known);
        return BadSetting(setting, "holds an extension OpenSSH does not know; the extensions are " + names);
      });
      if (!list) return Fail(list.error());
      role.extensions = *list;
    } else if (k == "accounts") {
      auto list = GetStringList(v, setting, [&setting](const std::string& s) -> Result<void> {
        if (s == "*") return {};
        if (auto ok = GetName(json(s), setting); !ok) return Fail(ok.error());
        return {};
      });
      if (!list) return Fail(list.error());
      role.accounts = *list;
    } else if (k == "groups") {
      auto list = GetStringList(v, setting, [&setting](const std::string& s) -> Result<void> {
        if (auto ok = GetName(json(s), setting); !ok) return Fail(ok.error());
        return {};
      });
      if (!list) return Fail(list.error());
      role.groups = *list;
    } else {
      return BadSetting(setting, "unknown setting; a role has name, principals, max_validity, force_command, "
                                 "source_address, verify_required, extensions, accounts and groups");
    }
  }
  if (!have_principals) return BadSetting(where + ".principals", "is required, e.g. [\"%u\"]");
  if (role.accounts.empty() && role.groups.empty()) {
    return BadSetting(where, "says nobody may ask for it: give accounts (\"*\" for every account) or groups");
  }
  return role;
}

Result<CaConfig> GetCa(const json& value) {
  if (!value.is_object()) return BadSetting("ca", "must be an object such as {\"dir\": \"/var/lib/keyward/ca\"}");
  CaConfig ca;
  for (const auto& [k, v] : value.items()) {
    std::string name = "ca." + k;
    if (k == "dir") {
      auto s = GetAbsolutePath(v, name);
      if (!s) return Fail(s.error());
      ca.dir = *s;
    } else if (k == "krl") {
      auto s = GetAbsolutePath(v, name);
      if (!s) return Fail(s.error());
      ca.krl = *s;
    } else if (k == "backdate") {
      auto n = GetDuration(v, name, 0, 86400);
      if (!n) return Fail(n.error());
      ca.backdate = *n;
    } else if (k == "roles") {
      if (!v.is_array()) return BadSetting(name, "must be a list of roles");
      if (v.size() > kMaxRoles) return BadSetting(name, "has more than " + std::to_string(kMaxRoles) + " roles");
      ca.roles.clear();
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto role = GetRole(v[i], i);
        if (!role) return Fail(role.error());
        for (const auto& other : ca.roles) {
          if (other.name == role->name) return BadSetting("ca.roles." + role->name, "is defined twice");
        }
        ca.roles.push_back(std::move(*role));
      }
    } else {
      return BadSetting(name, "unknown setting; \"ca\" has dir, krl, backdate and roles");
    }
  }
  return ca;
}

// Assigns a parsed value to its field, or passes the error on.
template <typename T, typename U>
Result<void> Set(Result<U> parsed, T& field) {
  if (!parsed) return Fail(parsed.error());
  field = static_cast<T>(*parsed);
  return {};
}

Result<void> ParseSetting(const std::string& name, const json& value, Config& config) {
  if (name == "store") return Set(GetTemplate(value, name), config.store_template);
  if (name == "authorized_keys") return Set(GetTemplate(value, name), config.authorized_keys_template);
  if (name == "key_policy") return Set(GetPolicy(value), config.key_policy);
  if (name == "admin_user") return Set(GetName(value, name), config.admin_user);
  if (name == "web_user") return Set(GetName(value, name), config.web_user);
  if (name == "notify_user") return Set(GetName(value, name), config.notify_user);
  if (name == "group") {
    if (value.is_string() && value.get<std::string>().empty()) {
      config.group.clear();
      return {};
    }
    return Set(GetName(value, name), config.group);
  }
  if (name == "socket") return Set(GetAbsolutePath(value, name), config.socket);
  if (name == "token_ttl") return Set(GetInteger(value, name, 30, 3600), config.token_ttl);
  if (name == "session_idle") return Set(GetInteger(value, name, 60, 86400), config.session_idle);
  if (name == "session_max") return Set(GetInteger(value, name, 60, 7 * 86400), config.session_max);
  if (name == "max_key_days") return Set(GetInteger(value, name, 0, 36500), config.max_key_days);
  if (name == "sms_number") return Set(GetString(value, name), config.sms_number);
  if (name == "twilio_sid") return Set(GetString(value, name), config.twilio_sid);
  if (name == "twilio_token") return Set(GetString(value, name), config.twilio_token);
  if (name == "twilio_base_url") {
    auto url = GetNonEmpty(value, name);
    if (url && !url->starts_with("https://") && !url->starts_with("http://")) {
      return BadSetting(name, "must be an http(s) URL");
    }
    return Set(std::move(url), config.twilio_base_url);
  }
  if (name == "accounts") return Set(GetAccounts(value), config.accounts);
  if (name == "codes") return Set(GetChannel(value, name, Channel::kTwilio, false), config.codes);
  if (name == "alerts") return Set(GetChannel(value, name, Channel::kSendmail, true), config.alerts);
  if (name == "rate_limits") return Set(GetRateLimits(value), config.rate_limits);
  if (name == "audit_log") return Set(GetAbsolutePath(value, name), config.audit_log);
  if (name == "state_dir") return Set(GetAbsolutePath(value, name), config.state_dir);
  if (name == "ca") return Set(GetCa(value), config.ca);
  return BadSetting(name, "unknown setting; see keywardd --write-config for every setting");
}

std::string Quoted(const std::string& s) { return json(s).dump(); }

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + Quoted(items[i]);
  return out + "]";
}

}  // namespace

const char* ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kTwilio: return "twilio";
    case Channel::kCommand: return "command";
    case Channel::kSendmail: return "sendmail";
    case Channel::kConsole: return "console";
  }
  return "console";
}

Result<Config> ParseConfig(std::string_view text) {
  // The JSON reader stops at a NUL byte: whatever follows it would be ignored.
  if (text.find('\0') != std::string_view::npos) return Fail("bad_config", "the configuration holds a NUL byte");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) return Fail("bad_config", "the configuration is not valid JSON");
  if (!doc.is_object()) return Fail("bad_config", "the configuration must be a JSON object");
  Config config;
  for (const auto& [name, value] : doc.items()) {
    if (auto ok = ParseSetting(name, value, config); !ok) return Fail(ok.error());
  }
  if (config.session_max < config.session_idle) {
    return BadSetting("session_max", "must not be shorter than session_idle");
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, bool must_exist) {
  auto text = fs::ReadFileOrStdin(path);
  if (!text) {
    if (!must_exist && text.error().message.find("No such file") != std::string::npos) {
      Result<Config> defaults(tl::in_place);
      return defaults;
    }
    return Fail(text.error());
  }
  auto config = ParseConfig(*text);
  if (!config) return Fail(config.error().code, path + ": " + config.error().message);
  return config;
}

Result<void> CheckDaemonConfig(const Config& c) {
  auto missing = [](std::string_view name, std::string why) { return BadSetting(name, "is required" + why); };
  if (c.admin_user.empty()) return missing("admin_user", ": the user who receives the alerts");
  if (c.web_user.empty()) return missing("web_user", ": the user keyward-web runs as");
  for (const ChannelConfig* ch : {&c.codes, &c.alerts}) {
    if (ch->channel != Channel::kTwilio) continue;
    if (c.twilio_sid.empty()) return missing("twilio_sid", " when a channel is \"twilio\"");
    if (c.twilio_token.empty()) return missing("twilio_token", " when a channel is \"twilio\"");
    if (c.sms_number.empty()) return missing("sms_number", " when a channel is \"twilio\" (the sending number)");
  }
  if (c.alerts.channel == Channel::kTwilio && c.alerts.to.empty()) {
    return missing("alerts.to", ": the administrator's phone number for \"twilio\" alerts");
  }
  return {};
}

std::string SampleConfig() {
  const Config d;
  std::string allowed;
  for (const AlgorithmWord& w : kAlgorithmWords) {
    if (d.key_policy.allowed.count(w.algorithm) == 0) continue;
    allowed += (allowed.empty() ? "" : ", ") + Quoted(w.word);
  }
  auto num = [](auto n) { return std::to_string(n); };
  std::string s;
  s += "// keyward's configuration: JSON, with // comments allowed. Every setting is\n"
       "// shown with its default; an unknown setting stops keywardd at start.\n"
       "{\n"
       "  // Required: who receives the alerts, and the user keyward-web runs as\n"
       "  // (the only uid besides root that keywardd serves on its socket).\n"
       "  \"admin_user\": \"root\",\n"
       "  \"web_user\": \"keyward-web\",\n"
       "  // Who sends codes and alerts (Twilio, the command, sendmail): keywardd\n"
       "  // runs them as this user, never as root.\n"
       "  \"notify_user\": " + Quoted(d.notify_user) + ",\n"
       "  // The socket's group; \"\" means web_user's primary group.\n"
       "  \"group\": \"\",\n"
       "  \"socket\": " + Quoted(d.socket) + ",\n"
       "\n"
       "  // Passwd accounts: where each store lives and where authorized_keys is\n"
       "  // rendered. %h home folder, %u user name, %% a percent sign.\n"
       "  \"store\": " + Quoted(d.store_template) + ",\n"
       "  \"authorized_keys\": " + Quoted(d.authorized_keys_template) + ",\n"
       "  // {\"source\": \"passwd\"} for system users, or\n"
       "  // {\"source\": \"directory\", \"path\": \"/srv/shared\", \"store\": \"%h\",\n"
       "  //  \"authorized_keys\": \"%h/authorized_keys\"}: each folder under path is an\n"
       "  // account (%h is the folder).\n"
       "  \"accounts\": {\"source\": \"passwd\"},\n"
       "  \"key_policy\": {\"allowed\": [" + allowed + "], \"min_rsa_bits\": " + num(d.key_policy.min_rsa_bits) +
       ", \"allow_certificates\": " + (d.key_policy.allow_certificates ? "true" : "false") + "},\n"
       "  // Longest expiry of a key added through keywardd, in days; 0: no limit.\n"
       "  \"max_key_days\": " + num(d.max_key_days) + ",\n"
       "\n"
       "  // Seconds a one-time code is good for; session lifetimes in seconds.\n"
       "  \"token_ttl\": " + num(d.token_ttl) + ",\n"
       "  \"session_idle\": " + num(d.session_idle) + ",\n"
       "  \"session_max\": " + num(d.session_max) + ",\n"
       "  \"rate_limits\": {\"logins_per_account_per_hour\": " + num(d.rate_limits.logins_per_account_per_hour) +
       ", \"logins_per_client_per_hour\": " + num(d.rate_limits.logins_per_client_per_hour) +
       ", \"verify_tries\": " + num(d.rate_limits.verify_tries) +
       ", \"certificates_per_account_per_hour\": " + num(d.rate_limits.certificates_per_account_per_hour) + "},\n"
       "\n"
       "  // How codes reach users: \"twilio\" (SMS to ~/.phonenumber), \"command\"\n"
       "  // (argv, no shell, recipient appended, message on standard input),\n"
       "  // \"sendmail\" (to the account's e-mail file) or \"console\" (keywardd's output).\n"
       "  \"codes\": {\"channel\": " + Quoted(ChannelName(d.codes.channel)) + ", \"command\": " +
       QuotedList(d.codes.command) + ", \"sendmail\": " + Quoted(d.codes.sendmail) + ", \"from\": " +
       Quoted(d.codes.from) + "},\n"
       "  // How every add and revoke reaches admin_user; \"to\" overrides the\n"
       "  // recipient (an address for sendmail, a number for twilio).\n"
       "  \"alerts\": {\"channel\": " + Quoted(ChannelName(d.alerts.channel)) + ", \"to\": " +
       Quoted(d.alerts.to) + ", \"command\": " + QuotedList(d.alerts.command) + ", \"sendmail\": " +
       Quoted(d.alerts.sendmail) + ", \"from\": " + Quoted(d.alerts.from) + "},\n"
       "  // Twilio's API: sms_number is the sending number (E.164); the token is a\n"
       "  // credential: keep this file mode 0600.\n"
       "  \"sms_number\": " + Quoted(d.sms_number) + ",\n"
       "  \"twilio_sid\": " + Quoted(d.twilio_sid) + ",\n"
       "  \"twilio_token\": " + Quoted(d.twilio_token) + ",\n"
       "  \"twilio_base_url\": " + Quoted(d.twilio_base_url) + ",\n"
       "\n"
       "  // keywardd's own audit log (JSON lines) and state folder.\n"
       "  \"audit_log\": " + Quoted(d.audit_log) + ",\n"
       "  \"state_dir\": " + Quoted(d.state_dir) + ",\n"
       "\n"
       "  // The SSH certificate authority (keyward ca, keywardd's sign_cert): dir\n"
       "  // holds the CA keys, the serial counter and issued.log (root only, 0700);\n"
       "  // krl is the revocation list sshd reads (RevokedKeys); certificates start\n"
       "  // backdate seconds before they are signed, against clock skew.\n"
       "  // A role: {\"name\": \"login\", \"principals\": [\"%u\"], \"max_validity\": \"7d\",\n"
       "  //   \"force_command\": \"\", \"source_address\": [\"10.0.0.0/8\"],\n"
       "  //   \"verify_required\": false, \"extensions\": [\"permit-pty\"],\n"
       "  //   \"accounts\": [\"*\"], \"groups\": [\"staff\"]}. %u is the account's name;\n"
       "  // extensions are no-touch-required, permit-X11-forwarding,\n"
       "  // permit-agent-forwarding, permit-port-forwarding, permit-pty, permit-user-rc.\n"
       "  \"ca\": {\"dir\": " + Quoted(d.ca.dir) + ", \"krl\": " + Quoted(d.ca.krl) +
       ", \"backdate\": " + num(d.ca.backdate) + ", \"roles\": []}\n"
       "}\n";
  return s;
}

}  // namespace keyward::config
