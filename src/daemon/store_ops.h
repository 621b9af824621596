// The store operations keywardd performs for a session. Each runs in the
// account's worker (user_workers.h), with the account's rights, through
// store::Store (the only code that changes a store), and returns its result
// as JSON in the protocol's shape (docs/protocol.md).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "daemon/accounts.h"
#include "key/policy.h"
#include "store/store.h"

namespace keyward::daemon {

store::StoreContext MakeStoreContext(const AccountPlace& place, const key::KeyPolicy& policy,
                                     const std::string& client, std::int64_t now);

// {"keys": [...]}: active, expired, invalid and revoked keys; none for an
// account whose store was never set up.
Result<nlohmann::json> ListKeysWork(const store::StoreContext& context);
// {"file": ..., "fingerprint": ...}. Sets the store up first when it does
// not exist; refuses ("store_not_ready") while the store is empty and
// authorized_keys holds keys keyward does not manage.
Result<nlohmann::json> AddKeyWork(const store::StoreContext& context, const store::AddRequest& request);
// {"file": ..., "fingerprint": ...}, and with `want_key` also "key": the
// revoked key as "<type> <base64>" read back from revoked/ (for the KRL;
// "" when it cannot be read).
Result<nlohmann::json> RevokeKeyWork(const store::StoreContext& context, const std::string& file, bool want_key);

// The requests a worker serves, one JSON object each (`client` and `now`
// with every one): what the daemon sends, and how the worker reads it.
nlohmann::json ListKeysRequest(const std::string& client, std::int64_t now);
nlohmann::json AddKeyRequest(const std::string& client, std::int64_t now, const store::AddRequest& request);
nlohmann::json RevokeKeyRequest(const std::string& client, std::int64_t now, const std::string& file, bool want_key);
// In the worker: the operation a request names, on `place` under `policy`.
Result<nlohmann::json> ServeStoreRequest(const AccountPlace& place, const key::KeyPolicy& policy,
                                         const nlohmann::json& request);

// The error a web user sees for a failed store operation: the parser's and
// the policy's refusals as they are; trouble with the store's files (owner,
// mode, symlinks, I/O) as "store_failed", logged in full by the caller.
Error PublicStoreError(const Error& error);

}  // namespace keyward::daemon
