// keywardd's socket protocol (docs/protocol.md): one JSON object per line
// each way. The request parser is pure and strict: a line that is not
// exactly one flat object with a known "op", the fields that op takes and
// nothing else, each of the right type and within its limit, is refused,
// and the server closes that connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace keyward::daemon {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;  // one line, without its '\n'
inline constexpr std::size_t kMaxUserField = 64;            // longer than any valid name: "unknown", not malformed
inline constexpr std::size_t kMaxClientField = 128;         // an IPv6 address with a zone, or a label
inline constexpr std::size_t kMaxTokenField = 64;           // login and session handles: 64 hex digits
inline constexpr std::size_t kMaxCodeField = 32;
inline constexpr std::size_t kMaxKeyField = 16 * 1024;      // a public key line as pasted
inline constexpr std::size_t kMaxOwnerField = 254;
inline constexpr std::size_t kMaxDeviceField = 64;
inline constexpr std::size_t kMaxFileField = 512;
inline constexpr std::size_t kMaxRoleField = 64;            // role names are at most 32 bytes: longer is "unknown"
inline constexpr std::size_t kMaxValidityField = 64;        // "20261121101500Z:20261128101500Z" and the like
inline constexpr std::int64_t kMaxDays = 36500;

enum class Op { kLogin, kVerify, kListKeys, kAddKey, kRevokeKey, kLogout, kListRoles, kSignCert };
const char* OpName(Op op);

struct Request {
  Op op = Op::kLogin;
  std::string user;     // login
  std::string client;   // any: the end user's address, for limits and logs only
  std::string login;    // verify
  std::string code;     // verify
  std::string session;  // list_keys, add_key, revoke_key, logout, list_roles, sign_cert
  std::string key;      // add_key, sign_cert
  std::string owner;    // add_key
  std::string device;   // add_key
  std::int64_t days = 0;  // add_key, optional
  std::string file;     // revoke_key
  std::string role;     // sign_cert
  std::string validity; // sign_cert, optional ("+1d", as ssh-keygen -V)
};

// Parses one request line (without its '\n'). Errors have code
// "bad_request" and a message that names the problem but never repeats a
// value (it might be a code or a token).
Result<Request> ParseRequest(std::string_view line);

// Reply lines, '\n' included. Invalid UTF-8 in a value is replaced, never
// an error: replies must always be writable.
std::string FormatOk(nlohmann::json fields);
std::string FormatError(const Error& error);

}  // namespace keyward::daemon
