// The certificate authority commands of the CLI:
//
//   keyward ca init [--type ed25519|ecdsa|rsa] [--bits N] [--passphrase-file F] [--host]
//                   [--config F] [--ca-dir DIR]
//   keyward ca sign [--host] [--role R [--account A]] [-n PRINCIPALS] [-V VALIDITY] [-I KEY_ID]
//                   [-O OPTION]... [--passphrase-file F] [-q] [--config F] [--ca-dir DIR] KEY.pub...
//   keyward ca inspect FILE              (as ssh-keygen -L -f FILE prints it)
//   keyward ca list [--json] [--account A] [--config F] [--ca-dir DIR]
//   keyward ca revoke ...                (src/cli/krl_commands.h)
//
// The Run* functions do the work and return what to print; RegisterCaCommands
// puts the `ca` group on the CLI11 parser. A command runs from its CLI11
// callback and ends the parse with CLI::RuntimeError(exit status), CLI11's
// own way for a callback to set the exit status (CLI11_PARSE in main()
// returns it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/fingerprint.h"

namespace CLI {
class App;
}

namespace keyward::cli {

// Where the CA lives: --config (default /etc/keyward.conf if present) and
// --ca-dir (default: the configuration's ca.dir).
struct CaWhere {
  std::string config_path;
  std::string ca_dir;
};

struct CaInitRequest {
  CaWhere where;
  std::string type = "ed25519";
  unsigned bits = 0;
  std::string passphrase_file;  // empty: no passphrase
  bool host = false;
};
CommandOutput RunCaInit(const CaInitRequest& request);

struct CaSignRequest {
  CaWhere where;
  bool host = false;
  std::string role;                  // empty: no role (then -n and -V are required)
  std::string account;               // with a role; empty: the calling user
  std::string principals;            // -n a,b,c
  std::string validity;              // -V, as ssh-keygen takes it
  std::string key_id;                // -I; empty: keyward:<account>:<role>:<serial>
  std::vector<std::string> options;  // -O, as ssh-keygen takes them
  std::string passphrase_file;
  std::vector<std::string> key_files;
  bool quiet = false;
  std::int64_t now = 0;              // 0: the clock
  std::string requested_by;          // empty: the calling user
  std::string client;                // empty: $SSH_CONNECTION's address, or "local"
};
// Signs every key or none: all input is checked, the CA loaded once, the
// serials reserved as one block, the issuance log appended and synced once,
// and only then are the KEY-cert.pub files written.
CommandOutput RunCaSign(const CaSignRequest& request);

// What ssh-keygen -L -f prints for `content` (read from `display_name`, or
// standard input when `from_stdin`): stdout, stderr and the exit status.
CommandOutput InspectCertificates(std::string_view content, std::string_view display_name, bool from_stdin);
CommandOutput RunCaInspect(const std::string& file);  // "-": standard input

struct CaListRequest {
  CaWhere where;
  bool json = false;
  std::string account;  // only this account's certificates
};
CommandOutput RunCaList(const CaListRequest& request);

// The -cert.pub path ssh-keygen writes for a public key file: "id.pub" ->
// "id-cert.pub", anything else gets "-cert.pub" appended.
std::string CertificatePathFor(std::string_view key_file);

// Adds the `ca` group (init, sign, inspect, list, and revoke from
// krl_commands.h) to the main parser.
void RegisterCaCommands(CLI::App& app);

}  // namespace keyward::cli
