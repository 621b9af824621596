#include "daemon/client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace keyward::daemon {

namespace {

using nlohmann::json;

// keywardd answers within RunAsUser's timeout; this is a little longer.
constexpr int kReplyTimeoutSeconds = 30;
constexpr std::size_t kMaxReplyBytes = std::size_t{64} << 20;

tl::unexpected<Error> BadReply(const std::string& why) {
  return Fail("bad_reply", "keywardd's reply could not be read: " + why);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The result object of a reply line, or keywardd's error as it sent it.
Result<json> Parse(const std::string& line) {
  json reply = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) return BadReply("not a JSON object");
  auto ok = reply.find("ok");
  if (ok == reply.end() || !ok->is_boolean()) return BadReply("no \"ok\"");
  if (ok->get<bool>()) return reply;
  auto e = reply.find("error");
  if (e == reply.end() || !e->is_object() || !e->contains("code") || !(*e)["code"].is_string() ||
      !e->contains("message") || !(*e)["message"].is_string()) {
    return BadReply("an error without a code and a message");
  }
  return Fail((*e)["code"].get<std::string>(), (*e)["message"].get<std::string>());
}

Result<std::string> String(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return BadReply(std::string("no string \"") + name + "\"");
  return it->get<std::string>();
}

Result<std::int64_t> Integer(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return BadReply(std::string("no number \"") + name + "\"");
  return it->get<std::int64_t>();
}

Result<ChangeReply> Change(const Result<json>& reply) {
  if (!reply) return Fail(reply.error());
  auto file = String(*reply, "file");
  if (!file) return Fail(file.error());
  auto fingerprint = String(*reply, "fingerprint");
  if (!fingerprint) return Fail(fingerprint.error());
  return ChangeReply{*file, *fingerprint};
}

Result<KeyInfo> Key(const json& k) {
  if (!k.is_object()) return BadReply("a key that is not an object");
  KeyInfo info;
  struct Text {
    const char* name;
    std::string KeyInfo::*member;
  };
  static constexpr Text kTexts[] = {{"file", &KeyInfo::file},   {"owner", &KeyInfo::owner},
                                    {"device", &KeyInfo::device}, {"date", &KeyInfo::date},
                                    {"type", &KeyInfo::type},   {"fingerprint", &KeyInfo::fingerprint},
                                    {"state", &KeyInfo::state}, {"comment", &KeyInfo::comment}};
  for (const Text& t : kTexts) {
    auto s = String(k, t.name);
    if (!s) return Fail(s.error());
    info.*(t.member) = std::move(*s);
  }
  auto serial = Integer(k, "serial");
  if (!serial) return Fail(serial.error());
  auto bits = Integer(k, "bits");
  if (!bits || *bits < 0) return BadReply("no number \"bits\"");
  info.serial = static_cast<int>(*serial);
  info.bits = static_cast<unsigned>(*bits);
  auto expiry = k.find("expiry");
  if (expiry != k.end() && expiry->is_string()) info.expiry = expiry->get<std::string>();
  else if (expiry != k.end() && !expiry->is_null()) return BadReply("\"expiry\" is neither a string nor null");
  return info;
}

Result<std::vector<std::string>> Strings(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return BadReply(std::string("no list \"") + name + "\"");
  std::vector<std::string> out;
  for (const json& s : *it) {
    if (!s.is_string()) return BadReply(std::string("a value in \"") + name + "\" that is not a string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<std::uint64_t> Unsigned(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_unsigned()) return BadReply(std::string("no number \"") + name + "\"");
  return it->get<std::uint64_t>();
}

Result<RoleInfo> Role(const json& r) {
  if (!r.is_object()) return BadReply("a role that is not an object");
  RoleInfo role;
  auto name = String(r, "name");
  if (!name) return Fail(name.error());
  role.name = *name;
  auto principals = Strings(r, "principals");
  if (!principals) return Fail(principals.error());
  role.principals = *principals;
  auto max = Integer(r, "max_validity");
  if (!max) return Fail(max.error());
  role.max_validity = *max;
  auto text = String(r, "max_validity_text");
  if (!text) return Fail(text.error());
  role.max_validity_text = *text;
  auto command = String(r, "force_command");
  if (!command) return Fail(command.error());
  role.force_command = *command;
  auto sources = Strings(r, "source_address");
  if (!sources) return Fail(sources.error());
  role.source_address = *sources;
  auto verify = r.find("verify_required");
  if (verify == r.end() || !verify->is_boolean()) return BadReply("no boolean \"verify_required\"");
  role.verify_required = verify->get<bool>();
  auto extensions = Strings(r, "extensions");
  if (!extensions) return Fail(extensions.error());
  role.extensions = *extensions;
  return role;
}

json WithClient(json request, const std::string& client) {
  if (!client.empty()) request["client"] = client;
  return request;
}

}  // namespace

Result<Client> Client::Connect(const std::string& socket_path) {
  struct sockaddr_un addr {};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return Fail("bad_socket", "the socket path is empty or too long");
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail("connect_failed", std::string("socket: ") + std::strerror(errno));
  fs::UniqueFd socket_fd(fd);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return Fail("connect_failed", "cannot connect to keywardd at " + socket_path + ": " + std::strerror(errno));
  }
  struct timeval tv {kReplyTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return Client(std::move(socket_fd));
}

Result<std::string> Client::RoundTrip(const std::string& line) {
  if (!fd_.valid()) return Fail("connect_failed", "the connection to keywardd is closed");
  std::string out = line + "\n";
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fd_ = fs::UniqueFd();
      return Fail("connect_failed", std::string("cannot send to keywardd: ") + std::strerror(errno));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  for (;;) {
    std::size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string reply = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return reply;
    }
    if (buffer_.size() > kMaxReplyBytes) {
      fd_ = fs::UniqueFd();
      return BadReply("longer than the limit");
    }
    char buf[65536];
    ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n == 0 ? "keywardd closed the connection"
                               : (errno == EAGAIN || errno == EWOULDBLOCK ? "keywardd did not answer in time"
                                                                          : std::strerror(errno));
      fd_ = fs::UniqueFd();
      return Fail("connect_failed", why);
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

namespace {

Result<json> Ask(Client& client, const json& request) {
  auto line = client.RoundTrip(Dump(request));
  if (!line) return Fail(line.error());
  return Parse(*line);
}

}  // namespace

Result<LoginReply> Client::Login(const std::string& user, const std::string& client) {
  auto reply = Ask(*this, WithClient({{"op", "login"}, {"user", user}}, client));
  if (!reply) return Fail(reply.error());
  auto login = String(*reply, "login");
  if (!login) return Fail(login.error());
  auto message = String(*reply, "message");
  if (!message) return Fail(message.error());
  return LoginReply{*login, *message};
}

Result<SessionReply> Client::Verify(const std::string& login, const std::string& code, const std::string& client) {
  auto reply = Ask(*this, WithClient({{"op", "verify"}, {"login", login}, {"code", code}}, client));
  if (!reply) return Fail(reply.error());
  auto session = String(*reply, "session");
  if (!session) return Fail(session.error());
  auto account = String(*reply, "account");
  if (!account) return Fail(account.error());
  auto expires_in = Integer(*reply, "expires_in");
  if (!expires_in) return Fail(expires_in.error());
  return SessionReply{*session, *account, *expires_in};
}

Result<KeysReply> Client::ListKeys(const std::string& session) {
  auto reply = Ask(*this, {{"op", "list_keys"}, {"session", session}});
  if (!reply) return Fail(reply.error());
  auto account = String(*reply, "account");
  if (!account) return Fail(account.error());
  auto keys = reply->find("keys");
  if (keys == reply->end() || !keys->is_array()) return BadReply("no list \"keys\"");
  KeysReply out;
  out.account = *account;
  if (auto days = reply->find("max_key_days"); days != reply->end()) {
    if (!days->is_number_unsigned() || days->get<std::uint64_t>() > 36500) return BadReply("a bad \"max_key_days\"");
    out.max_key_days = days->get<unsigned>();
  }
  for (const json& k : *keys) {
    auto info = Key(k);
    if (!info) return Fail(info.error());
    out.keys.push_back(std::move(*info));
  }
  return out;
}

Result<ChangeReply> Client::AddKey(const AddKeyRequest& r) {
  json request = {{"op", "add_key"}, {"session", r.session}, {"key", r.key},
                  {"owner", r.owner}, {"device", r.device},   {"days", r.days}};
  return Change(Ask(*this, WithClient(std::move(request), r.client)));
}

Result<ChangeReply> Client::RevokeKey(const std::string& session, const std::string& file,
                                      const std::string& client) {
  return Change(Ask(*this, WithClient({{"op", "revoke_key"}, {"session", session}, {"file", file}}, client)));
}

Result<RolesReply> Client::ListRoles(const std::string& session) {
  auto reply = Ask(*this, {{"op", "list_roles"}, {"session", session}});
  if (!reply) return Fail(reply.error());
  RolesReply out;
  auto account = String(*reply, "account");
  if (!account) return Fail(account.error());
  out.account = *account;
  auto ca = String(*reply, "ca");
  if (!ca) return Fail(ca.error());
  out.ca = *ca;
  auto roles = reply->find("roles");
  if (roles == reply->end() || !roles->is_array()) return BadReply("no list \"roles\"");
  for (const json& r : *roles) {
    auto role = Role(r);
    if (!role) return Fail(role.error());
    out.roles.push_back(std::move(*role));
  }
  return out;
}

Result<CertReply> Client::SignCert(const SignCertRequest& r) {
  json request = {{"op", "sign_cert"}, {"session", r.session}, {"role", r.role}, {"key", r.key}};
  if (!r.validity.empty()) request["validity"] = r.validity;
  auto reply = Ask(*this, WithClient(std::move(request), r.client));
  if (!reply) return Fail(reply.error());
  CertReply out;
  struct Text {
    const char* name;
    std::string CertReply::*member;
  };
  static constexpr Text kTexts[] = {{"account", &CertReply::account},
                                    {"certificate", &CertReply::certificate},
                                    {"key_id", &CertReply::key_id},
                                    {"role", &CertReply::role},
                                    {"fingerprint", &CertReply::fingerprint}};
  for (const Text& t : kTexts) {
    auto s = String(*reply, t.name);
    if (!s) return Fail(s.error());
    out.*(t.member) = std::move(*s);
  }
  if (out.certificate.find_first_of("\r\n") != std::string::npos) return BadReply("a certificate of several lines");
  auto serial = Unsigned(*reply, "serial");
  if (!serial) return Fail(serial.error());
  out.serial = *serial;
  auto after = Unsigned(*reply, "valid_after");
  if (!after) return Fail(after.error());
  out.valid_after = *after;
  auto before = Unsigned(*reply, "valid_before");
  if (!before) return Fail(before.error());
  out.valid_before = *before;
  auto principals = Strings(*reply, "principals");
  if (!principals) return Fail(principals.error());
  out.principals = *principals;
  return out;
}

Result<void> Client::Logout(const std::string& session) {
  auto reply = Ask(*this, {{"op", "logout"}, {"session", session}});
  if (!reply) return Fail(reply.error());
  return {};
}

}  // namespace keyward::daemon
