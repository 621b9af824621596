#include "web/pages.h"

#include <algorithm>
#include <ctime>

#include "base/bytes.h"
#include "key/crypto.h"
#include "web/assets.h"

namespace keyward::web {

namespace {

// Every template the pages use; Load refuses to start without one.
constexpr std::string_view kTemplateNames[] = {
    "layout.html",      "login.html",       "code.html",         "keys.html",
    "keys_table.html",  "key_row.html",     "revoke_form.html",  "logout_form.html",
    "message.html",     "no_keys.html",     "cert_form.html",    "cert_unavailable.html",
    "role_choice.html", "role_choice_checked.html", "cert_result.html",
};

// Stands for the CSRF token in the login page rendered at start: only
// characters that escaping leaves alone, and nothing a page would say.
constexpr std::string_view kTokenMark = "KEYWARD-CSRF-TOKEN-MARK";

// "20261121" as "2026-11-21"; anything else as it came.
std::string ShowDate(std::string_view yyyymmdd) {
  if (yyyymmdd.size() != 8) return std::string(yyyymmdd);
  return std::string(yyyymmdd.substr(0, 4)) + "-" + std::string(yyyymmdd.substr(4, 2)) + "-" +
         std::string(yyyymmdd.substr(6, 2));
}

// keywardd's "2026-12-01T00:00:00Z" as its date; no expiry as "never".
std::string ShowExpiry(const std::optional<std::string>& expiry) {
  if (!expiry || expiry->empty()) return "never";
  if (expiry->size() >= 10 && (*expiry)[4] == '-' && (*expiry)[7] == '-') return expiry->substr(0, 10);
  return *expiry;
}

std::string ShowState(std::string_view state) {
  if (state == "active") return "Active";
  if (state == "expired") return "Expired";
  if (state == "revoked") return "Revoked";
  if (state == "invalid") return "Invalid: ask the administrator";
  return std::string(state);
}

std::string Hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

// What a role gives, in a sentence: "Log in as alice. At most 7 days."
std::string RoleDescription(const daemon::RoleInfo& role) {
  std::string as;
  for (const auto& p : role.principals) as += (as.empty() ? "" : ", ") + p;
  std::string text = "Log in as " + as + ".";
  if (!role.force_command.empty()) text += " Runs only " + role.force_command + ".";
  if (!role.source_address.empty()) {
    std::string from;
    for (const auto& s : role.source_address) from += (from.empty() ? "" : ", ") + s;
    text += " Only from " + from + ".";
  }
  if (role.verify_required) text += " The security key must verify you (PIN or touch).";
  text += " Valid for at most " + role.max_validity_text + ".";
  return text;
}

// Why the form is not offered, when keywardd's CA cannot sign.
std::string_view CaStatusText(std::string_view status) {
  if (status == "missing") {
    return "Certificates are not available yet: the administrator has not set up the certificate authority.";
  }
  if (status == "locked") {
    return "Certificates cannot be signed here: the certificate authority's key is protected by a passphrase. Ask "
           "the administrator.";
  }
  return "Certificates cannot be signed right now. Try again later.";
}

// "2026-11-21 10:00 UTC".
std::string UtcMinute(std::uint64_t t) {
  if (t == ~std::uint64_t{0}) return "forever";
  std::time_t tt = static_cast<std::time_t>(std::min<std::uint64_t>(t, 253402300799ULL));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return std::string(buf, n);
}

}  // namespace

std::string Pages::DaysHint(unsigned max_key_days) {
  if (max_key_days == 0) return "Leave it empty for a key that does not expire.";
  return "At most " + std::to_string(max_key_days) + " days. Leave it empty for the longest the policy allows.";
}

Result<Pages> Pages::Load(int max_key_days) {
  Pages pages;
  for (std::string_view name : kTemplateNames) {
    auto text = FindAsset(name);
    if (!text) return Fail("missing_asset", "web/" + std::string(name) + " is not compiled into keyward-web");
    auto t = Template::Compile(*text);
    if (!t) return Fail(t.error().code, "web/" + std::string(name) + ": " + t.error().message);
    pages.templates_.emplace(std::string(name), std::move(*t));
  }
  auto css = FindAsset("style.css");
  if (!css) return Fail("missing_asset", "web/style.css is not compiled into keyward-web");
  pages.css_ = std::string(*css);
  auto icon = FindAsset("favicon.svg");
  if (!icon) return Fail("missing_asset", "web/favicon.svg is not compiled into keyward-web");
  pages.icon_ = std::string(*icon);
  auto digest = key::Sha256(AsBytes(pages.css_));
  pages.css_version_ = Hex(ByteView(digest.data(), 6));

  pages.max_days_ = max_key_days > 0 ? std::to_string(max_key_days) : std::string();
  pages.days_hint_ = DaysHint(static_cast<unsigned>(std::max(max_key_days, 0)));

  std::string login = pages.LoginPage(kTokenMark);
  std::size_t at = login.find(kTokenMark);
  if (at == std::string::npos || login.find(kTokenMark, at + 1) != std::string::npos) {
    return Fail("bad_template", "web/login.html must use {{csrf}} exactly once");
  }
  pages.login_head_ = login.substr(0, at);
  pages.login_tail_ = login.substr(at + kTokenMark.size());
  return pages;
}

std::string Pages::Layout(std::string_view title, const SafeHtml& body, const SafeHtml& nav) const {
  return T("layout.html")
      .Render({{"title", title}, {"css_version", css_version_}, {"nav", nav}, {"body", body}})
      .str();
}

std::string Pages::LoginPage(std::string_view csrf, std::string_view user, std::string_view error,
                             std::string_view notice) const {
  SafeHtml body = T("login.html").Render({{"csrf", csrf},
                                          {"user", user},
                                          {"error", error},
                                          {"notice", notice},
                                          {"user_invalid", error.empty() ? "false" : "true"}});
  return Layout("Sign in", body, SafeHtml());
}

std::string Pages::FastLoginPage(std::string_view csrf) const {
  std::string page;
  page.reserve(login_head_.size() + csrf.size() + login_tail_.size());
  page.append(login_head_).append(csrf).append(login_tail_);
  return page;
}

std::string Pages::CodePage(std::string_view csrf, std::string_view login_check, std::string_view message,
                            std::string_view error) const {
  SafeHtml body = T("code.html").Render({{"csrf", csrf},
                                         {"login", login_check},
                                         {"message", message},
                                         {"error", error},
                                         {"code_invalid", error.empty() ? "false" : "true"}});
  return Layout("Enter your code", body, SafeHtml());
}

SafeHtml Pages::KeyRow(const daemon::KeyInfo& key, std::string_view csrf) const {
  SafeHtml action;
  if (key.state != "revoked") {
    action = T("revoke_form.html")
                 .Render({{"csrf", csrf}, {"file", key.file}, {"device", key.device}, {"fingerprint", key.fingerprint}});
  }
  std::string date = ShowDate(key.date), bits = std::to_string(key.bits), expiry = ShowExpiry(key.expiry),
              state = ShowState(key.state);
  return T("key_row.html")
      .Render({{"owner", key.owner},
               {"device", key.device},
               {"date", date},
               {"type", key.type},
               {"bits", bits},
               {"fingerprint", key.fingerprint},
               {"expiry", expiry},
               {"state", key.state},
               {"state_text", state},
               {"action", action}});
}

std::string Pages::KeysPage(const KeysView& view) const {
  SafeHtml table;
  if (view.keys == nullptr || view.keys->empty()) {
    table = T("no_keys.html").Render({});
  } else {
    SafeHtml rows;
    std::size_t active = 0;
    for (const auto& key : *view.keys) {
      rows += KeyRow(key, view.csrf);
      if (key.state == "active") ++active;
    }
    std::string caption = std::to_string(view.keys->size()) + (view.keys->size() == 1 ? " key, " : " keys, ") +
                          std::to_string(active) + " active. Revoking a key stops SSH logins with it at once.";
    table = T("keys_table.html").Render({{"caption", caption}, {"rows", rows}});
  }
  std::string max_days = max_days_, days_hint = days_hint_;
  if (view.max_key_days) {
    max_days = *view.max_key_days > 0 ? std::to_string(*view.max_key_days) : std::string();
    days_hint = DaysHint(*view.max_key_days);
  }
  SafeHtml body = T("keys.html").Render({{"account", view.account},
                                         {"notice", view.notice},
                                         {"keys_error", view.keys_error},
                                         {"add_error", view.add_error},
                                         {"table", table},
                                         {"csrf", view.csrf},
                                         {"key", view.form.key},
                                         {"key_invalid", view.form.key_invalid ? "true" : "false"},
                                         {"device", view.form.device},
                                         {"owner", view.form.owner},
                                         {"days", view.form.days},
                                         {"max_days", max_days},
                                         {"days_hint", days_hint},
                                         {"cert", CertSection(view)}});
  SafeHtml nav = T("logout_form.html").Render({{"csrf", view.csrf}, {"account", view.account}});
  return Layout("Your SSH keys", body, nav);
}

SafeHtml Pages::CertSection(const KeysView& view) const {
  if (view.roles == nullptr || view.roles->roles.empty()) return SafeHtml();
  if (view.roles->ca != "ready") {
    return T("cert_unavailable.html").Render({{"text", CaStatusText(view.roles->ca)}});
  }
  // The role chosen before an error stays chosen; else the first one.
  bool known = false;
  for (const auto& role : view.roles->roles) known = known || role.name == view.cert_form.role;
  SafeHtml choices;
  for (std::size_t i = 0; i < view.roles->roles.size(); ++i) {
    const daemon::RoleInfo& role = view.roles->roles[i];
    bool checked = known ? role.name == view.cert_form.role : i == 0;
    std::string description = RoleDescription(role);
    choices += T(checked ? "role_choice_checked.html" : "role_choice.html")
                   .Render({{"name", role.name}, {"description", description}});
  }
  return T("cert_form.html")
      .Render({{"csrf", view.csrf},
               {"cert_error", view.cert_error},
               {"role_choices", choices},
               {"cert_key", view.cert_form.key},
               {"cert_key_invalid", view.cert_form.key_invalid ? "true" : "false"},
               {"cert_validity", view.cert_form.validity},
               {"cert_validity_invalid", view.cert_form.validity_invalid ? "true" : "false"}});
}

std::string Pages::CertPage(const CertView& view) const {
  const daemon::CertReply& c = *view.cert;
  std::string principals;
  for (const auto& p : c.principals) principals += (principals.empty() ? "" : ", ") + p;
  const std::string file_name = std::string(view.file_base) + "-cert.pub";
  const std::string valid = "from " + UtcMinute(c.valid_after) + " to " + UtcMinute(c.valid_before);
  const std::string serial = std::to_string(c.serial);
  const std::string notice = "Signed: the role " + c.role + ", serial " + serial + ", valid until " +
                             UtcMinute(c.valid_before) + ". Download it and save it beside your key.";
  const std::string principal = c.principals.empty() ? std::string(view.account) : c.principals.front();
  SafeHtml body = T("cert_result.html")
                      .Render({{"notice", notice},
                               {"csrf", view.csrf},
                               {"file_base", view.file_base},
                               {"file_name", file_name},
                               {"certificate", c.certificate},
                               {"principal", principal},
                               {"role", c.role},
                               {"principals", principals},
                               {"valid", valid},
                               {"serial", serial},
                               {"key_id", c.key_id},
                               {"fingerprint", c.fingerprint}});
  SafeHtml nav = T("logout_form.html").Render({{"csrf", view.csrf}, {"account", view.account}});
  return Layout("Your certificate", body, nav);
}

std::string Pages::MessagePage(std::string_view heading, std::string_view text, std::string_view link,
                               std::string_view link_text) const {
  SafeHtml body =
      T("message.html").Render({{"heading", heading}, {"text", text}, {"link", link}, {"link_text", link_text}});
  return Layout(heading, body, SafeHtml());
}

}  // namespace keyward::web
