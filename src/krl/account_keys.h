// Every key in every account's revoked/ folder, for the KRL: a key revoked
// in a store stays refused by sshd even if someone pastes it back into an
// authorized_keys file by hand.
//
// Accounts come from the configuration: system users (each user's store
// from store_template, read with that user's own rights: as root, a child
// process drops to the user first, so that nothing planted in a home can
// make root read elsewhere) or the folders under accounts.path. A store
// that is missing, unreadable or broken is skipped with a warning; it never
// stops the KRL from being built.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "config/config.h"

namespace keyward::krl {

// Limits on what one account's child process may send back.
inline constexpr std::size_t kMaxRevokedKeysPerAccount = 1'000'000;
inline constexpr std::size_t kMaxRevokedBytesPerAccount = std::size_t{256} << 20;

struct AccountRevokedKeys {
  std::vector<Bytes> keys;  // plain key blobs, canonical
  std::vector<std::string> warnings;
  std::size_t accounts = 0;        // stores read
  std::size_t without_store = 0;   // accounts with no store folder
};

AccountRevokedKeys RevokedKeysOfAccounts(const config::Config& config);

}  // namespace keyward::krl
