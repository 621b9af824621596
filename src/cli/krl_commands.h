// The KRL commands of the CLI:
//
//   keyward krl build [--config F] [--out KRL] [--spec FILE]... [--ca CA.pub|none] [--no-accounts] [--ca-dir DIR]
//   keyward krl check KRL KEYFILE...      (ssh-keygen -Q -f KRL KEYFILE..., same output and exit status)
//   keyward krl show KRL                  (what a KRL revokes, readably)
//   keyward ca revoke [--host] (--serial N|A-B | --key-id ID | --key FILE)... [--config F] [--ca-dir DIR] [--out KRL]
//
// The Run* functions do the work and return what to print; the Register*
// functions put the commands on the CLI11 parser. A registered command runs
// from its CLI11 callback and ends the parse with CLI::RuntimeError(exit
// status), CLI11's own way for a callback to set the program's exit status
// (CLI11_PARSE in main() turns it into the return value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/fingerprint.h"

namespace CLI {
class App;
}

namespace keyward::krl {
struct Krl;
}

namespace keyward::cli {

struct KrlCheckRequest {
  std::string krl;
  std::vector<std::string> keys;
  // How ssh-keygen's stdout would be buffered: 0 for a terminal (line by
  // line), else the block size. When ssh-keygen dies on a key it cannot
  // load, the results it had not flushed yet are lost, and keyward prints
  // the same.
  std::size_t stdout_block = 0;
};
CommandOutput RunKrlCheck(const KrlCheckRequest& request);

CommandOutput RunKrlShow(const std::string& krl_path);
// The listing `krl show` prints.
std::string FormatKrlListing(const krl::Krl& krl);

struct KrlBuildRequest {
  std::string config_path;  // empty: /etc/keyward.conf if it exists
  std::string ca_dir;       // empty: the configuration's ca.dir
  std::string out;          // empty: the configuration's ca.krl
  std::vector<std::string> specs;
  std::string spec_ca;      // CA.pub or "none" for the specs' serial:/id: lines
  bool no_accounts = false;
  std::int64_t now = 0;
};
CommandOutput RunKrlBuild(const KrlBuildRequest& request);

struct CaRevokeRequest {
  std::string config_path;
  std::string ca_dir;
  std::string out;
  bool host = false;                  // the host CA instead of the user CA
  std::vector<std::string> serials;   // "N" or "A-B"
  std::vector<std::string> key_ids;
  std::vector<std::string> key_files;
  std::int64_t now = 0;
};
CommandOutput RunCaRevoke(const CaRevokeRequest& request);

// "N" or "A-B", decimal, 1 <= A <= B < 2^64.
bool ParseSerialArgument(const std::string& text, std::uint64_t& first, std::uint64_t& last);

// Adds `krl` with build, check and show to the main parser.
void RegisterKrlCommands(CLI::App& app);

// Adds `revoke` to the `ca` command group.
void RegisterCaRevokeCommand(CLI::App& ca_group);

}  // namespace keyward::cli
