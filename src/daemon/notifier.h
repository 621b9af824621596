// How codes reach users and alerts reach the administrator. One interface,
// one implementation per channel; the daemon picks them from the
// configuration. Implementations never log the message text, nor put it or
// a credential in an Error (the body holds codes).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::daemon {

inline constexpr std::size_t kMaxMessageBytes = 16 * 1024;  // subject + body, any channel
inline constexpr std::size_t kMaxSmsBodyChars = 1600;        // Twilio's limit for one message
inline constexpr std::size_t kMaxRecipientBytes = 254;       // RFC 5321's longest address
inline constexpr std::size_t kMaxTwilioReplyBytes = 64 * 1024;

struct Message {
  std::string to;       // E.164 number, e-mail address, or user name (command/console)
  std::string subject;  // for e-mail
  std::string body;
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;  // "twilio", "command", "sendmail", "console"
  // Blocks until the message is handed over or the channel's timeout ends.
  // Safe to call from several threads at once.
  virtual Result<void> Send(const Message& message) = 0;
  // The longest subject + body this channel carries in one message (bytes;
  // one SMS: its character limit, which no longer UTF-8 text reaches).
  virtual std::size_t max_message_bytes() const { return kMaxMessageBytes; }
};

// Recipient rules, checked by each channel before anything is sent (and
// usable by the daemon when it reads ~/.phonenumber).
//   E.164: '+', then 8 to 15 digits, the first not 0.
bool IsE164(std::string_view number);
//   An address sendmail takes as one argument and one header value: local@domain,
//   printable ASCII without spaces, quotes, angle brackets or commas, not
//   starting with '-' (it would be read as an option).
Result<void> ValidateEmailAddress(std::string_view address);
//   A command-line argument: 1..kMaxRecipientBytes printable bytes (UTF-8 allowed),
//   no control characters, not starting with '-'.
Result<void> ValidateArgumentRecipient(std::string_view to);

struct TwilioSettings {
  std::string base_url = "https://api.twilio.com";  // tests point it at a local server
  std::string account_sid;
  std::string auth_token;
  std::string from;  // the sending number (sms_number), or an alphanumeric sender ID
  long timeout_seconds = 10;
};

// For the configuration check at start: base_url is https (plain http only
// to a loopback address, for tests), the SID is 1..64 letters and digits,
// the token is set, `from` is E.164 or an alphanumeric sender ID (1..11
// letters, digits and spaces, at least one letter), the timeout is 1..120 s.
// Messages name the setting, never the token.
Result<void> ValidateTwilioSettings(const TwilioSettings& settings);

// POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json with HTTP Basic
// auth (sid:token) and the form fields From, To, Body (libcurl). TLS peer
// and host verification on, no redirects, http(s) only. Success is any 2xx
// (Twilio answers 201); otherwise "twilio_rejected" with the HTTP status
// and Twilio's JSON "code" and "message", or "twilio_unreachable" /
// "twilio_timeout". `to` must be E.164. Settings are checked on every Send.
std::unique_ptr<Notifier> MakeTwilioNotifier(TwilioSettings settings);

// Runs argv (no shell; argv[0] an absolute path) with `input` on standard
// input and the recipient already in argv. Standard output and error go to
// /dev/null (what a script echoes might be the code); no descriptor of ours
// but 0-2 reaches the child; signals and the signal mask are reset; the
// environment is PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
// and LANG=C.UTF-8 only; the child leads its own process group, which is
// killed whole (SIGKILL) at the timeout. Fails on exec failure, non-zero
// exit, a signal, or the timeout; errors name argv[0] only (arguments may
// hold credentials).
Result<void> RunCommandWithInput(const std::vector<std::string>& argv, std::string_view input,
                                 std::chrono::milliseconds timeout);

// Runs argv with the recipient appended as the last argument and the body
// on standard input; fails on a non-zero exit or after the timeout.
std::unique_ptr<Notifier> MakeCommandNotifier(std::vector<std::string> argv,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Pipes an RFC 5322 message (From, To, Subject, MIME headers for UTF-8
// text, Auto-Submitted; the MTA adds Date and Message-ID) to
// `<sendmail_path> -i -- <to>`. `from` and `to` must pass
// ValidateEmailAddress; a subject with CR or LF is refused.
std::unique_ptr<Notifier> MakeSendmailNotifier(std::string sendmail_path, std::string from,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(30));
// Writes the message to a file descriptor (the demo: codes on the console),
// one block per message:
//   keyward message to <to>: <subject>
//     <body line>
//     ...
// Control characters other than newlines are shown as '?'. The fd is not
// owned (not closed).
std::unique_ptr<Notifier> MakeConsoleNotifier(int fd);

}  // namespace keyward::daemon
