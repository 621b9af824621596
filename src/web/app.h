// keyward-web's routes, independent of the HTTP library: a parsed request
// in, a response out. The app holds no state of its own between requests
// (the session lives in keywardd, the login handle and the CSRF binding in
// cookies), decides nothing about keys or users, and asks keywardd through
// a Backend.
//
//   GET  /            sign-in form (user name)
//   POST /login       keywardd login  -> the code form
//   GET  /verify      the code form again (while a login is pending)
//   POST /verify      keywardd verify -> session cookie, 303 to /keys
//   GET  /keys        keywardd list_keys: the table and the "add" form
//   POST /add         keywardd add_key    -> 303 to /keys
//   POST /revoke      keywardd revoke_key -> 303 to /keys
//   POST /cert        keywardd sign_cert  -> the certificate page
//   POST /cert/download  the certificate the page shows, as a file
//                     (<key>-cert.pub); keywardd is not asked again
//   POST /logout      keywardd logout     -> 303 to /
//   GET  /style.css   the style sheet (cached for a year)
//   GET  /healthz     "ok"
// Every POST carries a CSRF token; a missing or wrong one gets the 403 page
// and nothing is asked of keywardd.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "web/backend.h"
#include "web/csrf.h"
#include "web/pages.h"

namespace keyward::web {

// Longest value of a form field, but the key; longer is refused before
// keywardd sees it (keywardd has its own limits).
inline constexpr std::size_t kMaxFieldBytes = 1024;
// Longest public key text accepted from the form: an RSA-16384 key with a
// long comment is under 3 KiB.
inline constexpr std::size_t kMaxKeyBytes = 16 * 1024;
// Longest expiry the form passes on (a century).
inline constexpr long kMaxExpiryDays = 36500;
// Longest validity text the certificate form passes on ("+1d", dates...).
inline constexpr std::size_t kMaxValidityBytes = 64;

// The name a certificate is offered under, without "-cert.pub": the
// uploaded file's name without ".pub" when it is a plain file name
// ([A-Za-z0-9._-], at most 64, not starting with '.'), else ssh-keygen's
// default for the key's type ("id_ed25519", "id_ecdsa", "id_rsa",
// "id_ed25519_sk", "id_ecdsa_sk"; "id_key" for others). `key_type` may be
// the certificate's type ("ssh-ed25519-cert-v01@openssh.com").
std::string CertificateFileBase(std::string_view uploaded_name, std::string_view key_type);

struct AppOptions {
  bool secure_cookies = false;  // TLS in front: cookies get Secure and the __Host- prefix
  int max_key_days = 0;         // for the form's hint only; keywardd enforces it
};

struct WebRequest {
  std::string method;  // "GET" (and HEAD) or "POST"
  std::string path;
  std::string cookies;  // the Cookie header
  // GET: the query; POST: the form fields (a file's content under its
  // field's name). The first value of each name.
  std::map<std::string, std::string, std::less<>> fields;
  // The file name a browser sent with an uploaded file, by field name.
  std::map<std::string, std::string, std::less<>> file_names;
  std::string client;  // the end user's address (see client_address.h)
};

struct WebResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::string location;                  // for redirects
  std::string allow;                     // for 405
  std::string content_disposition;       // "attachment; filename=\"...\"" for a download
  std::vector<std::string> set_cookies;  // Set-Cookie values
  bool cacheable = false;                // false: Cache-Control: no-store
};

class App {
 public:
  App(Pages pages, CsrfSigner csrf, Backend& backend, AppOptions options);

  WebResponse Handle(const WebRequest& request) const;

  // What the code form carries to name its pending login (16 hex digits).
  static std::string LoginCheck(std::string_view login);

  // The page for an error the HTTP layer produced itself (400, 413, ...).
  WebResponse ErrorPage(int status) const;

 private:
  WebResponse LoginForm(const WebRequest& request) const;
  WebResponse PostLogin(const WebRequest& request) const;
  WebResponse CodeForm(const WebRequest& request) const;
  WebResponse PostVerify(const WebRequest& request) const;
  WebResponse KeysPage(const WebRequest& request) const;
  WebResponse PostAdd(const WebRequest& request) const;
  WebResponse PostRevoke(const WebRequest& request) const;
  WebResponse PostLogout(const WebRequest& request) const;
  WebResponse PostCert(const WebRequest& request) const;
  WebResponse PostCertDownload(const WebRequest& request) const;

  // The anonymous CSRF cookie's value, or a new one (and its Set-Cookie).
  std::string AnonymousBinding(const WebRequest& request, WebResponse& response) const;
  bool CheckAnonymous(const WebRequest& request) const;
  bool CheckSession(const WebRequest& request, std::string_view session) const;
  std::string Session(const WebRequest& request) const;

  // The keys page with `add_error`/`keys_error`, or where the session is
  // gone, a redirect to sign in again.
  WebResponse RenderKeys(const std::string& session, std::string_view notice, std::string_view keys_error,
                         std::string_view add_error, const KeyForm& form, int status,
                         const CertForm& cert_form = {}, std::string_view cert_error = {}) const;
  WebResponse Message(int status, std::string_view heading, std::string_view text, std::string_view link,
                      std::string_view link_text) const;
  WebResponse Forbidden() const;
  WebResponse Unavailable(const Error& error) const;
  WebResponse Redirect(std::string location) const;
  WebResponse SignedOut(std::string_view notice) const;

  Pages pages_;
  CsrfSigner csrf_;
  Backend& backend_;
  AppOptions options_;
  std::string session_cookie_, login_cookie_, csrf_cookie_;
};

}  // namespace keyward::web
