#include "web/backend.h"

#include <cstdio>

namespace keyward::web {

namespace {

// daemon::Client's own errors (as opposed to keywardd's answers): the
// socket is missing, the daemon hung up or sent something unreadable. The
// administrator gets the details on stderr; the person at the browser gets
// "try again later", not a socket path.
bool IsTransportError(const Error& error) {
  return error.code == "connect_failed" || error.code == "bad_reply" || error.code == "bad_socket";
}

template <typename T>
Result<T> Checked(Result<T> result, const char* op) {
  if (result || !IsTransportError(result.error())) return result;
  std::fprintf(stderr, "keyward-web: %s: %s\n", op, result.error().message.c_str());
  return Fail(kUnavailable, "keyward cannot answer right now. Try again in a minute.");
}

}  // namespace

Result<daemon::Client> SocketBackend::Connect() { return Checked(daemon::Client::Connect(socket_path_), "connect"); }

Result<daemon::LoginReply> SocketBackend::Login(const std::string& user, const std::string& client) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->Login(user, client), "login");
}

Result<daemon::SessionReply> SocketBackend::Verify(const std::string& login, const std::string& code,
                                                   const std::string& client) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->Verify(login, code, client), "verify");
}

Result<daemon::KeysReply> SocketBackend::ListKeys(const std::string& session) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->ListKeys(session), "list_keys");
}

Result<daemon::ChangeReply> SocketBackend::AddKey(const daemon::AddKeyRequest& request) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->AddKey(request), "add_key");
}

Result<daemon::ChangeReply> SocketBackend::RevokeKey(const std::string& session, const std::string& file,
                                                     const std::string& client) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->RevokeKey(session, file, client), "revoke_key");
}

Result<void> SocketBackend::Logout(const std::string& session) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->Logout(session), "logout");
}

Result<daemon::RolesReply> SocketBackend::ListRoles(const std::string& session) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->ListRoles(session), "list_roles");
}

Result<daemon::CertReply> SocketBackend::SignCert(const daemon::SignCertRequest& request) {
  auto c = Connect();
  if (!c) return Fail(c.error());
  return Checked(c->SignCert(request), "sign_cert");
}

}  // namespace keyward::web
