#include "web/app.h"

#include <charconv>
#include <cstdio>

#include "key/crypto.h"
#include "key/public_key.h"
#include "web/cookies.h"

namespace keyward::web {

namespace {

// How long the login handle's cookie lives; keywardd decides how long the
// code is good for (token_ttl), this only has to outlast it.
constexpr long kLoginCookieSeconds = 30 * 60;

std::string_view Field(const WebRequest& request, std::string_view name) {
  auto it = request.fields.find(name);
  return it == request.fields.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Notices are chosen by a code in the URL, never taken from it.
std::string_view NoticeText(std::string_view code) {
  if (code == "added") return "The key was added. New SSH logins can use it now.";
  if (code == "revoked") return "The key was revoked. SSH logins with it are refused from now on.";
  if (code == "signed_out") return "You are signed out.";
  if (code == "ended") return "Your session has ended. Sign in again to continue.";
  if (code == "restart") return "Your sign-in took too long. Enter your user name again.";
  return {};
}

// What people type around a code: "123 456", "123-456".
std::string CleanCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != ' ' && c != '-' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

// A private key must never travel back into a page (or a browser's cache of
// it), whatever keywardd says about it.
bool LooksPrivate(std::string_view text) {
  return text.find("PRIVATE KEY") != std::string_view::npos || text.find("PuTTY-User-Key-File") != std::string_view::npos;
}

int StatusFor(const Error& error) { return error.code == "rate_limited" ? 429 : 422; }

bool PlainFileBase(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

// keywardd's refusals that are about the key pasted (the field is marked).
bool IsCertKeyError(std::string_view code) {
  return code != "unknown_role" && code != "role_not_allowed" && code != "bad_validity" && code != "no_ca" &&
         code != "ca_locked" && code != "ca_unavailable" && code != "rate_limited" && code != "busy" &&
         code != "internal" && code != "store_failed";
}

}  // namespace

std::string CertificateFileBase(std::string_view uploaded_name, std::string_view key_type) {
  std::string_view base = uploaded_name;
  if (auto slash = base.find_last_of("/\\"); slash != std::string_view::npos) base.remove_prefix(slash + 1);
  if (base.ends_with(".pub")) base.remove_suffix(4);
  if (base.ends_with("-cert")) base.remove_suffix(5);
  if (PlainFileBase(base)) return std::string(base);
  struct Default {
    std::string_view prefix, name;
  };
  static constexpr Default kDefaults[] = {
      {"ssh-ed25519", "id_ed25519"},   {"sk-ssh-ed25519", "id_ed25519_sk"}, {"ecdsa-sha2-", "id_ecdsa"},
      {"sk-ecdsa-sha2-", "id_ecdsa_sk"}, {"ssh-rsa", "id_rsa"},              {"ssh-dss", "id_dsa"},
  };
  for (const Default& d : kDefaults) {
    if (key_type.starts_with(d.prefix)) return std::string(d.name);
  }
  return "id_key";
}

App::App(Pages pages, CsrfSigner csrf, Backend& backend, AppOptions options)
    : pages_(std::move(pages)),
      csrf_(csrf),
      backend_(backend),
      options_(options),
      session_cookie_(CookieName("kw_session", options.secure_cookies)),
      login_cookie_(CookieName("kw_login", options.secure_cookies)),
      csrf_cookie_(CookieName("kw_csrf", options.secure_cookies)) {}

WebResponse App::Handle(const WebRequest& request) const {
  const std::string& path = request.path;
  if (request.method == "GET" || request.method == "HEAD") {
    if (path == "/") return LoginForm(request);
    if (path == "/keys") return KeysPage(request);
    if (path == "/verify") return CodeForm(request);
    if (path == "/style.css") {
      WebResponse r;
      r.content_type = "text/css; charset=utf-8";
      r.body = std::string(pages_.css());
      r.cacheable = true;
      return r;
    }
    if (path == "/favicon.svg" || path == "/favicon.ico") {
      // Browsers ask for /favicon.ico whatever the page says; both get the
      // page's icon (an SVG; browsers go by the type, not the name).
      WebResponse r;
      r.content_type = "image/svg+xml";
      r.body = std::string(pages_.icon());
      r.cacheable = true;
      return r;
    }
    if (path == "/healthz") {
      WebResponse r;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "ok";
      return r;
    }
    // A bookmarked or reloaded form target: back to where forms start.
    if (path == "/login") return Redirect("/");
    if (path == "/add" || path == "/revoke" || path == "/logout" || path == "/cert" || path == "/cert/download") {
      return Redirect("/keys");
    }
  } else if (request.method == "POST") {
    if (path == "/login") return PostLogin(request);
    if (path == "/verify") return PostVerify(request);
    if (path == "/add") return PostAdd(request);
    if (path == "/revoke") return PostRevoke(request);
    if (path == "/logout") return PostLogout(request);
    if (path == "/cert") return PostCert(request);
    if (path == "/cert/download") return PostCertDownload(request);
  }
  const bool form_target = path == "/login" || path == "/add" || path == "/revoke" || path == "/logout" ||
                           path == "/verify" || path == "/cert" || path == "/cert/download";
  bool known = form_target || path == "/" || path == "/keys" || path == "/style.css" || path == "/healthz" ||
               path == "/favicon.svg" || path == "/favicon.ico";
  if (!known) return ErrorPage(404);
  WebResponse r = ErrorPage(405);
  r.allow = form_target ? "GET, HEAD, POST" : "GET, HEAD";
  return r;
}

WebResponse App::ErrorPage(int status) const {
  switch (status) {
    case 404:
      return Message(404, "Page not found", "There is no page here.", "/", "Go to the sign-in page");
    case 405:
      return Message(405, "Not allowed", "This page cannot be used that way.", "/", "Go to the sign-in page");
    case 413:
      return Message(413, "Too large",
                     "What you sent is larger than keyward accepts (64 KiB). A public key is much smaller: "
                     "choose the .pub file, or paste its one line.",
                     "/keys", "Back to your keys");
    case 414:
    case 431:
      return Message(status, "Too large", "The request was too large.", "/", "Go to the sign-in page");
    case 400:
      return Message(400, "Bad request", "The browser sent a request keyward cannot read.", "/",
                     "Go to the sign-in page");
    default:
      return Message(status, "Something went wrong", "keyward could not answer that request. Try again.", "/",
                     "Go to the sign-in page");
  }
}

// ----------------------------------------------------------------- helpers

std::string App::AnonymousBinding(const WebRequest& request, WebResponse& response) const {
  if (auto value = FindCookie(request.cookies, csrf_cookie_)) return std::string(*value);
  auto fresh = RandomHex(16);
  if (!fresh) return {};
  response.set_cookies.push_back(SetCookie(csrf_cookie_, *fresh, CookieOptions{options_.secure_cookies, -1}));
  return *fresh;
}

bool App::CheckAnonymous(const WebRequest& request) const {
  auto binding = FindCookie(request.cookies, csrf_cookie_);
  return binding && csrf_.Check(CsrfScope::kAnonymous, *binding, Field(request, "csrf"));
}

bool App::CheckSession(const WebRequest& request, std::string_view session) const {
  return csrf_.Check(CsrfScope::kSession, session, Field(request, "csrf"));
}

std::string App::Session(const WebRequest& request) const {
  auto value = FindCookie(request.cookies, session_cookie_);
  return value ? std::string(*value) : std::string();
}

WebResponse App::Message(int status, std::string_view heading, std::string_view text, std::string_view link,
                         std::string_view link_text) const {
  WebResponse r;
  r.status = status;
  r.body = pages_.MessagePage(heading, text, link, link_text);
  return r;
}

WebResponse App::Forbidden() const {
  return Message(403, "This form has expired",
                 "keyward could not confirm that this form came from its own page. Go back, reload the page, "
                 "and try again.",
                 "/", "Go to the sign-in page");
}

WebResponse App::Unavailable(const Error& error) const {
  return Message(503, "Try again in a minute", error.code == kUnavailable ? error.message
                                                                        : "keyward cannot answer right now.",
                 "/", "Go to the sign-in page");
}

WebResponse App::Redirect(std::string location) const {
  WebResponse r;
  r.status = 303;
  r.location = std::move(location);
  return r;
}

WebResponse App::SignedOut(std::string_view notice) const {
  WebResponse r = Redirect("/?notice=" + std::string(notice));
  r.set_cookies.push_back(ClearCookie(session_cookie_, options_.secure_cookies));
  return r;
}

// --------------------------------------------------------- signing in

WebResponse App::LoginForm(const WebRequest& request) const {
  if (!Session(request).empty()) return Redirect("/keys");
  WebResponse r;
  std::string binding = AnonymousBinding(request, r);
  if (binding.empty()) return Unavailable(Error{"no_random", ""});
  std::string token = csrf_.Issue(CsrfScope::kAnonymous, binding);
  std::string_view notice = NoticeText(Field(request, "notice"));
  r.body = notice.empty() ? pages_.FastLoginPage(token) : pages_.LoginPage(token, {}, {}, notice);
  return r;
}

WebResponse App::PostLogin(const WebRequest& request) const {
  if (!CheckAnonymous(request)) return Forbidden();
  std::string binding(*FindCookie(request.cookies, csrf_cookie_));
  std::string token = csrf_.Issue(CsrfScope::kAnonymous, binding);
  std::string user(Trim(Field(request, "user")));
  auto again = [&](int status, std::string_view error) {
    WebResponse r;
    r.status = status;
    r.body = pages_.LoginPage(token, user.size() <= kMaxFieldBytes ? user : std::string(), error);
    return r;
  };
  if (user.empty()) return again(422, "Enter your user name.");
  if (user.size() > kMaxFieldBytes) return again(422, "That user name is too long.");

  auto reply = backend_.Login(user, request.client);
  if (!reply) {
    if (reply.error().code == kUnavailable) return Unavailable(reply.error());
    return again(StatusFor(reply.error()), reply.error().message);
  }
  if (!IsCookieValue(reply->login)) {
    std::fprintf(stderr, "keyward-web: keywardd sent a login handle that cannot be a cookie\n");
    return Unavailable(Error{"bad_reply", ""});
  }
  WebResponse r;
  r.set_cookies.push_back(SetCookie(login_cookie_, reply->login, CookieOptions{options_.secure_cookies, kLoginCookieSeconds}));
  r.body = pages_.CodePage(token, LoginCheck(reply->login), reply->message, {});
  return r;
}

std::string App::LoginCheck(std::string_view login) {
  // Names the login without giving its handle away: the first 64 bits of
  // its SHA-256, in hex.
  auto digest = key::Sha256(AsBytes(login));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

WebResponse App::CodeForm(const WebRequest& request) const {
  auto login = FindCookie(request.cookies, login_cookie_);
  if (!login) return Redirect("/");
  WebResponse r;
  std::string binding = AnonymousBinding(request, r);
  if (binding.empty()) return Unavailable(Error{"no_random", ""});
  r.body = pages_.CodePage(csrf_.Issue(CsrfScope::kAnonymous, binding), LoginCheck(*login),
                           "Enter the code we sent you, or the code from your authenticator app.", {});
  return r;
}

WebResponse App::PostVerify(const WebRequest& request) const {
  if (!CheckAnonymous(request)) return Forbidden();
  auto login = FindCookie(request.cookies, login_cookie_);
  if (!login) return Redirect("/?notice=restart");
  std::string binding(*FindCookie(request.cookies, csrf_cookie_));
  const std::string check = LoginCheck(*login);
  auto again = [&](int status, std::string_view error) {
    WebResponse r;
    r.status = status;
    r.body = pages_.CodePage(csrf_.Issue(CsrfScope::kAnonymous, binding), check, {}, error);
    return r;
  };
  // The browser holds one pending login. A form from a tab whose login was
  // replaced by a newer one (another tab, another user name) must not spend
  // its code, and a try, on the newer login.
  if (Field(request, "login") != check) {
    WebResponse r;
    r.status = 409;
    r.body = pages_.LoginPage(csrf_.Issue(CsrfScope::kAnonymous, binding), {},
                              "This page belongs to an older sign-in: another one was started since in this browser "
                              "(another tab or window). Use the newest page, or enter your user name again.");
    return r;
  }
  std::string code = CleanCode(Field(request, "code"));
  if (code.empty()) return again(422, "Enter the code.");
  if (code.size() > kMaxFieldBytes) return again(422, "That is not a code we sent.");

  auto reply = backend_.Verify(std::string(*login), code, request.client);
  if (!reply) {
    if (reply.error().code == kUnavailable) return Unavailable(reply.error());
    return again(StatusFor(reply.error()), reply.error().message);
  }
  if (!IsCookieValue(reply->session)) {
    std::fprintf(stderr, "keyward-web: keywardd sent a session token that cannot be a cookie\n");
    return Unavailable(Error{"bad_reply", ""});
  }
  WebResponse r = Redirect("/keys");
  long max_age = reply->expires_in > 0 ? static_cast<long>(reply->expires_in) : -1;
  r.set_cookies.push_back(SetCookie(session_cookie_, reply->session, CookieOptions{options_.secure_cookies, max_age}));
  r.set_cookies.push_back(ClearCookie(login_cookie_, options_.secure_cookies));
  return r;
}

// ------------------------------------------------------------ the keys

WebResponse App::RenderKeys(const std::string& session, std::string_view notice, std::string_view keys_error,
                            std::string_view add_error, const KeyForm& form, int status, const CertForm& cert_form,
                            std::string_view cert_error) const {
  auto keys = backend_.ListKeys(session);
  if (!keys) {
    if (keys.error().code == "no_session") return SignedOut("ended");
    return Unavailable(keys.error());
  }
  // The roles only add a section: without them (or a keywardd that does
  // not know list_roles) the page is the keys page as before.
  auto roles = backend_.ListRoles(session);
  if (!roles && roles.error().code == "no_session") return SignedOut("ended");
  if (!roles && roles.error().code != kUnavailable) {
    std::fprintf(stderr, "keyward-web: list_roles: %s: %s\n", roles.error().code.c_str(),
                 roles.error().message.c_str());
  }
  std::string token = csrf_.Issue(CsrfScope::kSession, session);
  KeysView view;
  view.csrf = token;
  view.account = keys->account;
  view.notice = notice;
  view.keys_error = keys_error;
  view.add_error = add_error;
  view.keys = &keys->keys;
  view.form = form;
  view.max_key_days = keys->max_key_days;
  if (roles) view.roles = &*roles;
  view.cert_form = cert_form;
  view.cert_error = cert_error;
  WebResponse r;
  r.status = status;
  r.body = pages_.KeysPage(view);
  return r;
}

WebResponse App::KeysPage(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/");
  return RenderKeys(session, NoticeText(Field(request, "notice")), {}, {}, KeyForm{}, 200);
}

WebResponse App::PostAdd(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/?notice=ended");
  if (!CheckSession(request, session)) return Forbidden();

  std::string_view pasted = Trim(Field(request, "key"));
  std::string_view uploaded = Trim(Field(request, "keyfile"));
  KeyForm form;
  form.device = std::string(Trim(Field(request, "device")));
  form.owner = std::string(Trim(Field(request, "owner")));
  form.days = std::string(Trim(Field(request, "days")));
  std::string_view key = uploaded.empty() ? pasted : uploaded;
  form.key = LooksPrivate(key) || key.size() > kMaxKeyBytes ? std::string() : std::string(key);

  auto again = [&](std::string_view error, bool key_problem) {
    form.key_invalid = key_problem;
    return RenderKeys(session, {}, {}, error, form, 422);
  };
  if (!pasted.empty() && !uploaded.empty()) return again("Paste the key or choose its file, not both.", true);
  if (key.empty()) return again("Paste your public key, or choose its .pub file.", true);
  if (key.size() > kMaxKeyBytes) return again("That is too long for a public key: paste the one line of the .pub file.", true);
  if (form.device.size() > kMaxFieldBytes || form.owner.size() > kMaxFieldBytes) {
    form.device.clear();
    form.owner.clear();
    return again("The device name or the e-mail address is too long.", false);
  }
  long days = 0;
  if (!form.days.empty()) {
    auto [end, ec] = std::from_chars(form.days.data(), form.days.data() + form.days.size(), days);
    if (ec != std::errc() || end != form.days.data() + form.days.size() || days < 1 || days > kMaxExpiryDays) {
      form.days.clear();
      return again("Enter the expiry as a whole number of days, or leave it empty.", false);
    }
  }

  daemon::AddKeyRequest add;
  add.session = session;
  add.key = std::string(key);
  add.owner = form.owner;
  add.device = form.device;
  add.days = static_cast<int>(days);
  add.client = request.client;
  auto reply = backend_.AddKey(add);
  if (reply) return Redirect("/keys?notice=added");
  const Error& error = reply.error();
  if (error.code == "no_session") return SignedOut("ended");
  if (error.code == kUnavailable) return Unavailable(error);
  if (error.code == "private_key") form.key.clear();
  bool key_problem = error.code != "bad_device" && error.code != "bad_owner" && error.code != "bad_days" &&
                     error.code != "rate_limited";
  return again(error.message, key_problem);
}

WebResponse App::PostRevoke(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/?notice=ended");
  if (!CheckSession(request, session)) return Forbidden();
  std::string file(Field(request, "file"));
  if (file.empty() || file.size() > kMaxFieldBytes) {
    return RenderKeys(session, {}, "Choose the key to revoke from the table.", {}, KeyForm{}, 422);
  }
  auto reply = backend_.RevokeKey(session, file, request.client);
  if (reply) return Redirect("/keys?notice=revoked");
  if (reply.error().code == "no_session") return SignedOut("ended");
  if (reply.error().code == kUnavailable) return Unavailable(reply.error());
  return RenderKeys(session, {}, reply.error().message, {}, KeyForm{}, StatusFor(reply.error()));
}

WebResponse App::PostCert(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/?notice=ended");
  if (!CheckSession(request, session)) return Forbidden();

  std::string_view pasted = Trim(Field(request, "certkey"));
  std::string_view uploaded = Trim(Field(request, "certkeyfile"));
  std::string_view key = uploaded.empty() ? pasted : uploaded;
  CertForm form;
  form.role = std::string(Trim(Field(request, "role")));
  form.validity = std::string(Trim(Field(request, "validity")));
  form.key = LooksPrivate(key) || key.size() > kMaxKeyBytes ? std::string() : std::string(key);
  auto again = [&](std::string_view error, bool key_problem, bool validity_problem) {
    form.key_invalid = key_problem;
    form.validity_invalid = validity_problem;
    return RenderKeys(session, {}, {}, {}, KeyForm{}, 422, form, error);
  };
  if (form.role.size() > kMaxFieldBytes) form.role.clear();
  if (form.validity.size() > kMaxValidityBytes) {
    form.validity.clear();
    return again("That validity is too long: write it as +1d or +8h, or leave it empty.", false, true);
  }
  if (form.role.empty()) return again("Choose the role the certificate is for.", false, false);
  if (!pasted.empty() && !uploaded.empty()) return again("Paste the key or choose its file, not both.", true, false);
  if (key.empty()) return again("Paste your public key, or choose its .pub file.", true, false);
  if (key.size() > kMaxKeyBytes) {
    return again("That is too long for a public key: paste the one line of the .pub file.", true, false);
  }

  daemon::SignCertRequest sign;
  sign.session = session;
  sign.role = form.role;
  sign.key = std::string(key);
  sign.validity = form.validity;
  sign.client = request.client;
  auto reply = backend_.SignCert(sign);
  if (!reply) {
    const Error& error = reply.error();
    if (error.code == "no_session") return SignedOut("ended");
    if (error.code == kUnavailable) return Unavailable(error);
    if (error.code == "private_key") form.key.clear();
    WebResponse r = again(error.message, IsCertKeyError(error.code), error.code == "bad_validity");
    if (error.code == "rate_limited") r.status = 429;
    return r;
  }
  auto name_it = request.file_names.find("certkeyfile");
  std::string_view uploaded_name = uploaded.empty() || name_it == request.file_names.end() ? std::string_view()
                                                                                           : name_it->second;
  std::string type = reply->certificate.substr(0, reply->certificate.find(' '));
  std::string file_base = CertificateFileBase(uploaded_name, type);
  std::string token = csrf_.Issue(CsrfScope::kSession, session);
  CertView view;
  view.csrf = token;
  view.account = reply->account;
  view.cert = &*reply;
  view.file_base = file_base;
  WebResponse r;
  r.body = pages_.CertPage(view);
  return r;
}

WebResponse App::PostCertDownload(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/?notice=ended");
  if (!CheckSession(request, session)) return Forbidden();
  // Only a certificate goes out, whatever was posted: it is read (and its
  // CA signature verified) before it is sent back.
  std::string_view text = Trim(Field(request, "certificate"));
  auto refuse = [this] {
    return Message(422, "Not a certificate",
                   "keyward can only offer a certificate it has just signed for download. Sign it again.", "/keys",
                   "Back to your keys");
  };
  if (text.empty() || text.size() > kMaxKeyBytes || text.find_first_of("\r\n") != std::string_view::npos) {
    return refuse();
  }
  auto parsed = key::ReadKeyText(text);
  if (!parsed || !parsed->key.is_certificate()) return refuse();
  std::string file = CertificateFileBase(Field(request, "name"), parsed->key.type_name()) + "-cert.pub";
  WebResponse r;
  r.content_type = "text/plain; charset=utf-8";
  r.content_disposition = "attachment; filename=\"" + file + "\"";
  r.body = std::string(text) + "\n";
  return r;
}

WebResponse App::PostLogout(const WebRequest& request) const {
  std::string session = Session(request);
  if (session.empty()) return Redirect("/");
  if (!CheckSession(request, session)) return Forbidden();
  // The cookie goes whatever keywardd says: signing out must always work
  // in this browser, and an unknown session is as good as ended.
  if (auto ok = backend_.Logout(session); !ok && ok.error().code == kUnavailable) {
    std::fprintf(stderr, "keyward-web: logout could not reach keywardd; the session ends by its timeout\n");
  }
  return SignedOut("signed_out");
}

}  // namespace keyward::web
