// keyward-web's pages, rendered from the templates in web/. The templates
// are compiled once, at start (a missing or broken template stops the
// program there, not in front of a user); the login page with nothing to
// report is rendered once around its CSRF token, which is all that changes
// from one request to the next.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "daemon/client.h"
#include "web/html.h"

namespace keyward::web {

// What the "add a key" form holds when it is shown again after an error.
struct KeyForm {
  std::string key, device, owner, days;
  bool key_invalid = false;
};

// What the "get a certificate" form holds when it is shown again after an
// error.
struct CertForm {
  std::string role, key, validity;
  bool key_invalid = false;
  bool validity_invalid = false;
};

struct KeysView {
  std::string_view csrf;
  std::string_view account;
  std::string_view notice;      // after a redirect: "The key was added", ...
  std::string_view keys_error;  // about the table (a failed revoke)
  std::string_view add_error;   // about the add form
  const std::vector<daemon::KeyInfo>* keys = nullptr;
  KeyForm form;
  std::optional<unsigned> max_key_days;  // keywardd's word; unset: keyward-web's own setting
  // The roles the account may ask for (none, or unreachable: no section).
  const daemon::RolesReply* roles = nullptr;
  CertForm cert_form;
  std::string_view cert_error;
};

// The page a signed certificate is shown on.
struct CertView {
  std::string_view csrf;
  std::string_view account;
  const daemon::CertReply* cert = nullptr;
  std::string_view file_base;  // "id_ed25519": the certificate is <file_base>-cert.pub
};

class Pages {
 public:
  // max_key_days: the policy's longest expiry (0: no limit), for the form's hint.
  static Result<Pages> Load(int max_key_days);

  std::string LoginPage(std::string_view csrf, std::string_view user = {}, std::string_view error = {},
                        std::string_view notice = {}) const;
  // The same as LoginPage(csrf), from the copy rendered at start.
  std::string FastLoginPage(std::string_view csrf) const;
  // `login_check` names the pending login the form belongs to (see
  // App::LoginCheck).
  std::string CodePage(std::string_view csrf, std::string_view login_check, std::string_view message,
                       std::string_view error) const;
  std::string KeysPage(const KeysView& view) const;
  std::string CertPage(const CertView& view) const;
  std::string MessagePage(std::string_view heading, std::string_view text, std::string_view link,
                          std::string_view link_text) const;

  std::string_view css() const { return css_; }
  std::string_view icon() const { return icon_; }
  // Changes with the style sheet; it is in the style sheet's URL so that
  // browsers may cache it for a year and still see a new one at once.
  const std::string& css_version() const { return css_version_; }

 private:
  Pages() = default;
  std::string Layout(std::string_view title, const SafeHtml& body, const SafeHtml& nav) const;
  SafeHtml KeyRow(const daemon::KeyInfo& key, std::string_view csrf) const;
  SafeHtml CertSection(const KeysView& view) const;

  std::map<std::string, Template, std::less<>> templates_;
  const Template& T(std::string_view name) const { return templates_.find(name)->second; }
  std::string css_;
  std::string icon_;  // web/favicon.svg
  std::string css_version_;
  static std::string DaysHint(unsigned max_key_days);
  std::string max_days_, days_hint_;
  std::string login_head_, login_tail_;  // the login page around its token
};

}  // namespace keyward::web
