#include "config/config.h"

#include <nlohmann/json.hpp>

#include "fs/read_file.h"

namespace keyward::config {

namespace {

using nlohmann::json;

tl::unexpected<Error> BadSetting(std::string_view name, std::string why) {
  return Fail("bad_config", "setting \"" + std::string(name) + "\": " + std::move(why));
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
        if (!item.is_string()) return BadSetting("key_policy.allowed", "must be a list of algorithm names");
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

}  // namespace

Result<Config> ParseConfig(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) return Fail("bad_config", "the configuration is not valid JSON");
  if (!doc.is_object()) return Fail("bad_config", "the configuration must be a JSON object");
  Config config;
  for (const auto& [name, value] : doc.items()) {
    if (name == "store") {
      auto t = GetTemplate(value, name);
      if (!t) return Fail(t.error());
      config.store_template = *t;
    } else if (name == "authorized_keys") {
      auto t = GetTemplate(value, name);
      if (!t) return Fail(t.error());
      config.authorized_keys_template = *t;
    } else if (name == "key_policy") {
      auto p = GetPolicy(value);
      if (!p) return Fail(p.error());
      config.key_policy = *p;
    } else {
      return BadSetting(name, "unknown setting; see keywardd --write-config for every setting");
    }
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, bool must_exist) {
  auto text = fs::ReadFileOrStdin(path);
  if (!text) {
    if (!must_exist && text.error().message.find("No such file") != std::string::npos) return Config{};
    return Fail(text.error());
  }
  auto config = ParseConfig(*text);
  if (!config) return Fail(config.error().code, path + ": " + config.error().message);
  return config;
}

}  // namespace keyward::config
