// keyward's configuration: one JSON file (/etc/keyward.conf by default),
// read strictly, one schema for every program. An unknown setting, a wrong
// type or a bad value is an error that names the setting (and never echoes
// a value: one of them is a credential).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "key/policy.h"

namespace keyward::config {

inline constexpr const char* kDefaultConfigPath = "/etc/keyward.conf";
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
inline constexpr std::size_t kMaxCommandArgs = 32;

// Where accounts come from: system users, or folders under a path (shared
// accounts and the demo: the account "alice" is the folder <path>/alice).
enum class AccountSource { kPasswd, kDirectory };

struct AccountsConfig {
  AccountSource source = AccountSource::kPasswd;
  std::string path;  // the directory source's folder
  // Directory accounts keep their store in their folder (%h is the folder)
  // unless these say otherwise; the top-level templates are for passwd.
  std::string store_template = "%h";
  std::string authorized_keys_template = "%h/authorized_keys";
};

// How a message leaves keywardd (src/daemon/notifier.h).
enum class Channel { kTwilio, kCommand, kSendmail, kConsole };
const char* ChannelName(Channel channel);

struct ChannelConfig {
  ChannelConfig() = default;
  explicit ChannelConfig(Channel c) : channel(c) {}

  Channel channel = Channel::kTwilio;
  std::vector<std::string> command;              // "command": argv, no shell
  std::string sendmail = "/usr/sbin/sendmail";   // "sendmail": the program
  std::string from = "keyward@localhost";        // "sendmail": the From address
  std::string to;                                // alerts only: the recipient
};

struct RateLimits {
  unsigned logins_per_account_per_hour = 10;
  unsigned logins_per_client_per_hour = 30;
  unsigned verify_tries = 5;  // wrong codes before a login is dead
  unsigned certificates_per_account_per_hour = 60;  // sign_cert: each is logged, audited and alerted
};

// The user-certificate extensions OpenSSH knows (PROTOCOL.certkeys), in
// byte order; a role may grant only these, and keyward signs only these
// (ca::IsKnownExtension).
inline constexpr const char* kCertificateExtensions[] = {
    "no-touch-required", "permit-X11-forwarding", "permit-agent-forwarding",
    "permit-port-forwarding", "permit-pty", "permit-user-rc",
};

// A role of the certificate authority: what a certificate for it says and
// who may ask for it (src/ca/roles.h resolves it for an account). In the
// file: "ca": {"roles": [{"name": "login", "principals": ["%u"],
// "max_validity": "7d", "extensions": ["permit-pty"], "accounts": ["*"]}]}.
struct RoleConfig {
  std::string name;                        // [a-z][a-z0-9_-]{0,31}
  std::vector<std::string> principals;     // required; templates: %u the account (checked first), %% a percent sign
  std::int64_t max_validity = 7 * 86400;   // seconds; in the file seconds or "12h", "7d", "1w" (60 s to 3650 d)
  std::string force_command;               // empty: none; a template like principals (%u, %%)
  std::vector<std::string> source_address; // CIDRs; empty: none
  bool verify_required = false;
  std::vector<std::string> extensions;     // granted on top of none, from kCertificateExtensions
  std::vector<std::string> accounts;       // accounts that may ask ("*": every account)
  std::vector<std::string> groups;         // or members of these Unix groups; one of the two is required
};

// The SSH certificate authority (keyward ca, sign_cert, krl).
struct CaConfig {
  std::string dir = "/var/lib/keyward/ca";   // CA keys, serial counter, issuance log, revocations; root only
  // The KRL sshd reads (RevokedKeys); in keywardd's state folder, which its
  // systemd unit may write (ProtectSystem=strict keeps /etc read-only).
  std::string krl = "/var/lib/keyward/keyward.krl";
  std::int64_t backdate = 300;               // seconds a certificate starts before it is signed (clock skew); 0 to 1d
  std::vector<RoleConfig> roles;
};

struct Config {
  // Where an account's store lives and where its authorized_keys is
  // rendered; sshd's tokens: %h home, %u user name, %% a percent sign.
  std::string store_template = "%h/.ssh";
  std::string authorized_keys_template = "%h/.ssh/authorized_keys";
  key::KeyPolicy key_policy;

  // keywardd and keyward-web. admin_user and web_user have no default:
  // CheckDaemonConfig refuses a configuration without them.
  std::string admin_user;               // receives the alerts
  std::string web_user;                 // the only non-root uid served on the socket
  std::string group;                    // the socket's group; empty: web_user's primary group
  std::string notify_user = "nobody";   // who runs the code and alert senders (when keywardd is root)
  std::string socket = "/run/keyward/keywardd.sock";
  std::int64_t token_ttl = 300;         // seconds a code is good for
  std::int64_t session_idle = 600;
  std::int64_t session_max = 3600;
  unsigned max_key_days = 0;            // 0: keys may never expire
  std::string sms_number;               // Twilio's From
  std::string twilio_sid;
  std::string twilio_token;             // a credential: never logged, never in an error
  std::string twilio_base_url = "https://api.twilio.com";
  AccountsConfig accounts;
  ChannelConfig codes;                  // how codes reach users
  ChannelConfig alerts{Channel::kSendmail};  // how changes reach admin_user
  RateLimits rate_limits;
  std::string audit_log = "/var/log/keyward/audit.log";
  std::string state_dir = "/var/lib/keyward";
  CaConfig ca;  // "ca": { "dir", "krl", "backdate", "roles": [ ... ] }
};

Result<Config> ParseConfig(std::string_view json_text);

// Reads `path`; when `must_exist` is false a missing file gives defaults.
Result<Config> LoadConfig(const std::string& path, bool must_exist);

// What keywardd needs beyond a well-formed file: the required settings,
// and the credentials of the channels it is told to use.
Result<void> CheckDaemonConfig(const Config& config);

// A complete sample: every setting with its default and a comment on each
// (JSON with // comments, which ParseConfig accepts).
std::string SampleConfig();

}  // namespace keyward::config
