// What keyward-web asks keywardd. An interface so that the pages can be
// tested without a daemon; the real one (SocketBackend) speaks
// docs/protocol.md through daemon::Client.
#pragma once

#include <string>

#include "base/error.h"
#include "daemon/client.h"

namespace keyward::web {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<daemon::LoginReply> Login(const std::string& user, const std::string& client) = 0;
  virtual Result<daemon::SessionReply> Verify(const std::string& login, const std::string& code,
                                              const std::string& client) = 0;
  virtual Result<daemon::KeysReply> ListKeys(const std::string& session) = 0;
  virtual Result<daemon::ChangeReply> AddKey(const daemon::AddKeyRequest& request) = 0;
  virtual Result<daemon::ChangeReply> RevokeKey(const std::string& session, const std::string& file,
                                                const std::string& client) = 0;
  virtual Result<void> Logout(const std::string& session) = 0;
  virtual Result<daemon::RolesReply> ListRoles(const std::string& session) = 0;
  virtual Result<daemon::CertReply> SignCert(const daemon::SignCertRequest& request) = 0;
};

// The error code SocketBackend gives when keywardd cannot be reached or
// breaks off; the page then says "try again later" instead of a message.
inline constexpr const char* kUnavailable = "keywardd_unavailable";

// One connection per request: requests are rare (a person clicking), a
// Unix-socket connect costs microseconds, and no connection is shared
// between the server's threads.
class SocketBackend final : public Backend {
 public:
  explicit SocketBackend(std::string socket_path) : socket_path_(std::move(socket_path)) {}

  Result<daemon::LoginReply> Login(const std::string& user, const std::string& client) override;
  Result<daemon::SessionReply> Verify(const std::string& login, const std::string& code,
                                      const std::string& client) override;
  Result<daemon::KeysReply> ListKeys(const std::string& session) override;
  Result<daemon::ChangeReply> AddKey(const daemon::AddKeyRequest& request) override;
  Result<daemon::ChangeReply> RevokeKey(const std::string& session, const std::string& file,
                                        const std::string& client) override;
  Result<void> Logout(const std::string& session) override;
  Result<daemon::RolesReply> ListRoles(const std::string& session) override;
  Result<daemon::CertReply> SignCert(const daemon::SignCertRequest& request) override;

 private:
  Result<daemon::Client> Connect();
  std::string socket_path_;
};

}  // namespace keyward::web
