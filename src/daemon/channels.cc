#include "daemon/channels.h"

namespace keyward::daemon {

namespace {

tl::unexpected<Error> BadSetting(const std::string& name, const std::string& why) {
  return Fail("bad_config", "setting \"" + name + "\": " + why);
}

Result<std::unique_ptr<Notifier>> Make(const config::Config& c, const config::ChannelConfig& ch,
                                       const std::string& section, int console_fd) {
  switch (ch.channel) {
    case config::Channel::kTwilio: {
      TwilioSettings t;
      t.base_url = c.twilio_base_url;
      t.account_sid = c.twilio_sid;
      t.auth_token = c.twilio_token;
      t.from = c.sms_number;
      // The notifier's messages name the setting, never the token.
      if (auto ok = ValidateTwilioSettings(t); !ok) return Fail("bad_config", ok.error().message);
      return MakeTwilioNotifier(std::move(t));
    }
    case config::Channel::kCommand:
      return MakeCommandNotifier(ch.command);
    case config::Channel::kSendmail:
      if (auto ok = ValidateEmailAddress(ch.from); !ok) return BadSetting(section + ".from", ok.error().message);
      return MakeSendmailNotifier(ch.sendmail, ch.from);
    case config::Channel::kConsole:
      return MakeConsoleNotifier(console_fd);
  }
  return BadSetting(section + ".channel", "unknown channel");
}

}  // namespace

Result<Channels> MakeChannels(const config::Config& c, int console_fd) {
  Channels out;
  auto codes = Make(c, c.codes, "codes", console_fd);
  if (!codes) return Fail(codes.error());
  auto alerts = Make(c, c.alerts, "alerts", console_fd);
  if (!alerts) return Fail(alerts.error());
  out.codes = std::move(*codes);
  out.alerts = std::move(*alerts);
  out.codes_kind = c.codes.channel;

  // The administrator's address on the alert channel.
  out.alerts_to = c.alerts.to;
  switch (c.alerts.channel) {
    case config::Channel::kTwilio:
      if (!IsE164(out.alerts_to)) return BadSetting("alerts.to", "must be a phone number (E.164) for twilio");
      break;
    case config::Channel::kSendmail:
      if (out.alerts_to.empty()) out.alerts_to = c.admin_user;  // local delivery
      if (auto ok = ValidateEmailAddress(out.alerts_to); !ok) return BadSetting("alerts.to", ok.error().message);
      break;
    case config::Channel::kCommand:
    case config::Channel::kConsole:
      if (out.alerts_to.empty()) out.alerts_to = c.admin_user;
      if (auto ok = ValidateArgumentRecipient(out.alerts_to); !ok) {
        return BadSetting("alerts.to", ok.error().message);
      }
      break;
  }
  return out;
}

std::optional<std::string> CodeRecipient(config::Channel channel, const Factors& f) {
  switch (channel) {
    case config::Channel::kTwilio:
      if (!f.phone.empty()) return f.phone;
      break;
    case config::Channel::kSendmail:
      if (!f.email.empty()) return f.email;
      break;
    case config::Channel::kCommand:
    case config::Channel::kConsole:
      if (!f.phone.empty()) return f.phone;
      if (!f.email.empty()) return f.email;
      break;
  }
  return std::nullopt;
}

}  // namespace keyward::daemon
