// The two message channels of the configuration: codes to users, alerts to
// the administrator (daemon/notifier.h implements each kind).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "config/config.h"
#include "daemon/factors.h"
#include "daemon/notifier.h"

namespace keyward::daemon {

struct Channels {
  std::unique_ptr<Notifier> codes;
  std::unique_ptr<Notifier> alerts;
  config::Channel codes_kind = config::Channel::kConsole;
  std::string alerts_to;  // the administrator, as the alert channel addresses them
};

// Builds both, checking what the notifiers will need (Twilio's settings,
// addresses) so that a bad setting stops keywardd at start, not at the
// first login. `console_fd` is where "console" writes.
Result<Channels> MakeChannels(const config::Config& config, int console_fd);

// Where the code channel reaches an account: its phone for twilio, its
// e-mail for sendmail, either (phone first) for command and console.
// nullopt: the account has no factor this channel can use.
std::optional<std::string> CodeRecipient(config::Channel channel, const Factors& factors);

}  // namespace keyward::daemon
