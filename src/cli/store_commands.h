// The store commands of the CLI: init, add, list, revoke, reinstate,
// render, check, import, prune, and keys (sshd's AuthorizedKeysCommand).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/fingerprint.h"
#include "store/store.h"

namespace keyward::cli {

// Where and for whom: from the command line, then the configuration.
struct StoreOptions {
  std::string config_path;      // empty: /etc/keyward.conf if it exists
  std::string account;          // empty: the calling user
  std::string store_dir;        // empty: from the configuration's template
  std::string authorized_keys;  // empty: from the template, or <store>/authorized_keys with --store
  std::int64_t now = 0;
  bool keep_privileges = false;  // the caller drops them itself (init)
};

// Resolves the account and paths, and when running as root for another
// account, drops to that account's uid and gid before any file is touched.
Result<store::StoreContext> ResolveStoreContext(const StoreOptions& options);

struct AddOptions {
  std::string owner;
  std::string device;
  std::string key_file;  // "-" for standard input
  std::string expires;   // YYYY-MM-DD, YYYYMMDD[HHMM[SS]]
  int days = 0;
  bool restrict = false;
  std::string command;
  std::string from;
  std::vector<std::string> options;
};

CommandOutput RunInit(const StoreOptions& o);
CommandOutput RunAdd(const StoreOptions& o, const AddOptions& add);
CommandOutput RunList(const StoreOptions& o, bool all, bool json);
CommandOutput RunRevoke(const StoreOptions& o, const std::vector<std::string>& selector, bool reinstate);
CommandOutput RunRender(const StoreOptions& o);
CommandOutput RunCheck(const StoreOptions& o);
CommandOutput RunImport(const StoreOptions& o, const std::string& file, const std::string& owner);
CommandOutput RunPrune(const StoreOptions& o);
// Never fails loudly for sshd: an unknown user prints nothing, exit 0.
CommandOutput RunKeys(const StoreOptions& o, const std::string& user, const std::string& fingerprint);

// Parses --expires: YYYY-MM-DD or YYYYMMDD (midnight UTC that day, when the
// key stops working), YYYYMMDDHHMM[SS] (UTC).
Result<std::uint64_t> ParseExpiry(std::string_view text, std::int64_t now);

}  // namespace keyward::cli
