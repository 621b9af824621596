// keyward's configuration: one JSON file (/etc/keyward.conf by default),
// read strictly. An unknown setting, a wrong type or a bad value is an error
// that names the setting.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "key/policy.h"

namespace keyward::config {

inline constexpr const char* kDefaultConfigPath = "/etc/keyward.conf";
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

struct Config {
  // Where an account's store lives and where its authorized_keys is
  // rendered; sshd's tokens: %h home, %u user name, %% a percent sign.
  std::string store_template = "%h/.ssh";
  std::string authorized_keys_template = "%h/.ssh/authorized_keys";
  key::KeyPolicy key_policy;
};

Result<Config> ParseConfig(std::string_view json_text);

// Reads `path`; when `must_exist` is false a missing file gives defaults.
Result<Config> LoadConfig(const std::string& path, bool must_exist);

}  // namespace keyward::config
