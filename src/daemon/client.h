// The client side of keywardd's socket protocol (docs/protocol.md), used by
// keyward-web, keyward-gate and the tests. One method per request, named as
// the request is: request "add_key", client AddKey, handler HandleAddKey.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "fs/safe_file.h"

namespace keyward::daemon {

struct LoginReply {
  std::string login;    // handle for Verify
  std::string message;  // the same for every user name
};

struct SessionReply {
  std::string session;
  std::string account;
  std::int64_t expires_in = 0;
};

struct KeyInfo {
  std::string file, owner, device, date, type, fingerprint, state, comment;
  int serial = 0;
  unsigned bits = 0;
  std::optional<std::string> expiry;  // "2026-12-01T00:00:00Z"
};

struct KeysReply {
  std::string account;
  std::vector<KeyInfo> keys;
  std::optional<unsigned> max_key_days;  // keywardd's policy (0: keys may never expire)
};

struct ChangeReply {
  std::string file;
  std::string fingerprint;
};

struct AddKeyRequest {
  std::string session;
  std::string key;     // the public key line as pasted
  std::string owner;   // e-mail
  std::string device;
  int days = 0;        // 0: no expiry
  std::string client;  // end user's address
};

struct RoleInfo {
  std::string name;
  std::vector<std::string> principals;  // for this account
  std::int64_t max_validity = 0;        // seconds
  std::string max_validity_text;        // "7 days"
  std::string force_command;            // "" for none
  std::vector<std::string> source_address;
  bool verify_required = false;
  std::vector<std::string> extensions;
};

struct RolesReply {
  std::string account;
  std::vector<RoleInfo> roles;  // the roles this account may ask for
  std::string ca;               // "ready", "missing", "locked", "unavailable"; "" without roles
};

struct SignCertRequest {
  std::string session;
  std::string role;
  std::string key;       // the public key line as pasted
  std::string validity;  // "" for the role's longest, or as ssh-keygen -V takes it ("+1d")
  std::string client;
};

struct CertReply {
  std::string account;      // the session's account
  std::string certificate;  // "<type> <base64> <comment>", one line without '\n'
  std::uint64_t serial = 0;
  std::string key_id;
  std::string role;
  std::vector<std::string> principals;
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;
  std::string fingerprint;  // of the certified key
};

// One connection to keywardd; requests are sent one at a time. Errors from
// keywardd come back as Error{code, message} with its stable code.
class Client {
 public:
  static Result<Client> Connect(const std::string& socket_path);

  Result<LoginReply> Login(const std::string& user, const std::string& client);
  Result<SessionReply> Verify(const std::string& login, const std::string& code, const std::string& client);
  Result<KeysReply> ListKeys(const std::string& session);
  Result<ChangeReply> AddKey(const AddKeyRequest& request);
  Result<ChangeReply> RevokeKey(const std::string& session, const std::string& file, const std::string& client);
  Result<void> Logout(const std::string& session);
  Result<RolesReply> ListRoles(const std::string& session);
  Result<CertReply> SignCert(const SignCertRequest& request);

  // Sends one raw request line (without '\n') and returns the raw reply
  // line; for tests of malformed input.
  Result<std::string> RoundTrip(const std::string& line);

 private:
  explicit Client(fs::UniqueFd fd) : fd_(std::move(fd)) {}
  fs::UniqueFd fd_;
  std::string buffer_;
};

}  // namespace keyward::daemon
