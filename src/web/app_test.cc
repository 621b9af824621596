// The pages and their rules, against a fake keywardd: CSRF on every POST,
// cookie attributes, errors shown on the form with the input kept (but
// never a private key), nothing asked of keywardd when a check fails.
#include "web/app.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ca/ca_signer.h"
#include "ca/certificate.h"
#include "web/cookies.h"

namespace keyward::web {
namespace {

class FakeBackend final : public Backend {
 public:
  std::vector<std::string> calls;
  std::string login_handle = "handle123";
  std::optional<unsigned> max_key_days;
  std::string last_user, last_client, last_code, last_login, last_file;
  daemon::AddKeyRequest last_add;
  std::optional<Error> login_error, verify_error, list_error, add_error, revoke_error;
  std::vector<daemon::KeyInfo> keys;

  Result<daemon::LoginReply> Login(const std::string& user, const std::string& client) override {
    calls.push_back("login");
    last_user = user;
    last_client = client;
    if (login_error) return Fail(*login_error);
    return daemon::LoginReply{login_handle, "If " + user + " exists, a code is on its way."};
  }
  Result<daemon::SessionReply> Verify(const std::string& login, const std::string& code,
                                      const std::string& client) override {
    calls.push_back("verify");
    last_login = login;
    last_code = code;
    last_client = client;
    if (verify_error) return Fail(*verify_error);
    return daemon::SessionReply{std::string(64, 'a'), "alice", 900};
  }
  Result<daemon::KeysReply> ListKeys(const std::string& session) override {
    calls.push_back("list_keys:" + session.substr(0, 4));
    if (list_error) return Fail(*list_error);
    return daemon::KeysReply{"alice", keys, max_key_days};
  }
  Result<daemon::ChangeReply> AddKey(const daemon::AddKeyRequest& request) override {
    calls.push_back("add_key");
    last_add = request;
    if (add_error) return Fail(*add_error);
    return daemon::ChangeReply{"alice@example.org+laptop+20261121+01.pub", "SHA256:abc"};
  }
  Result<daemon::ChangeReply> RevokeKey(const std::string& session, const std::string& file,
                                        const std::string& client) override {
    calls.push_back("revoke_key:" + session.substr(0, 4));
    last_file = file;
    last_client = client;
    if (revoke_error) return Fail(*revoke_error);
    return daemon::ChangeReply{file, "SHA256:abc"};
  }
  Result<void> Logout(const std::string& session) override {
    calls.push_back("logout:" + session.substr(0, 4));
    return {};
  }
  // list_roles and sign_cert.
  std::optional<Error> roles_error, sign_error;
  std::vector<daemon::RoleInfo> roles;
  std::string ca_status = "ready";
  daemon::SignCertRequest last_sign;
  std::string certificate = "ssh-ed25519-cert-v01@openssh.com AAAA alice@laptop";
  Result<daemon::RolesReply> ListRoles(const std::string& session) override {
    calls.push_back("list_roles:" + session.substr(0, 4));
    if (roles_error) return Fail(*roles_error);
    return daemon::RolesReply{"alice", roles, roles.empty() ? "" : ca_status};
  }
  Result<daemon::CertReply> SignCert(const daemon::SignCertRequest& request) override {
    calls.push_back("sign_cert");
    last_sign = request;
    if (sign_error) return Fail(*sign_error);
    daemon::CertReply r;
    r.account = "alice";
    r.certificate = certificate;
    r.serial = 17;
    r.key_id = "keyward:alice:" + request.role + ":17";
    r.role = request.role;
    r.principals = {"alice"};
    r.valid_after = 1790000000;
    r.valid_before = 1790604800;
    r.fingerprint = "SHA256:F+gPMF+U9FrzNmHDOJ0w5mj4mkxStD6+MDP9u9KAek4";
    return r;
  }
};

daemon::RoleInfo Role(std::string name, std::string command = "") {
  daemon::RoleInfo r;
  r.name = std::move(name);
  r.principals = {r.name == "login" ? "alice" : r.name};
  r.max_validity = 604800;
  r.max_validity_text = "1 week";
  r.force_command = std::move(command);
  return r;
}

const std::string kSession(64, 'a');

daemon::KeyInfo Key(std::string device, std::string state) {
  daemon::KeyInfo k;
  k.file = "alice@example.org+" + device + "+20261121+01.pub";
  k.owner = "alice@example.org";
  k.device = std::move(device);
  k.date = "20261121";
  k.type = "ssh-ed25519";
  k.bits = 256;
  k.fingerprint = "SHA256:F+gPMF+U9FrzNmHDOJ0w5mj4mkxStD6+MDP9u9KAek4";
  k.state = std::move(state);
  return k;
}

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(false); }

  void Make(bool secure) {
    auto pages = Pages::Load(90);
    ASSERT_TRUE(pages.has_value()) << pages.error().message;
    CsrfSigner::Key key;
    key.fill(7);
    app_.emplace(std::move(*pages), CsrfSigner(key), backend_, AppOptions{secure, 90});
  }

  WebResponse Get(const std::string& path, const std::string& cookies = "") {
    WebRequest r;
    r.method = "GET";
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string query = path.substr(q + 1);
      auto eq = query.find('=');
      r.fields[query.substr(0, eq)] = query.substr(eq + 1);
    }
    r.cookies = cookies;
    r.client = "203.0.113.9";
    return app_->Handle(r);
  }

  WebResponse Post(const std::string& path, std::map<std::string, std::string, std::less<>> fields,
                   const std::string& cookies) {
    WebRequest r;
    r.method = "POST";
    r.path = path;
    r.fields = std::move(fields);
    r.cookies = cookies;
    r.client = "203.0.113.9";
    return app_->Handle(r);
  }

  // The value of the hidden csrf field in a page.
  static std::string Token(const std::string& body) {
    const std::string mark = "name=\"csrf\" value=\"";
    auto at = body.find(mark);
    if (at == std::string::npos) return {};
    return body.substr(at + mark.size(), kCsrfTokenChars);
  }

  // The code form's hidden "login" field.
  static std::string Check(const std::string& body) {
    const std::string mark = "name=\"login\" value=\"";
    auto at = body.find(mark);
    if (at == std::string::npos) return {};
    return body.substr(at + mark.size(), 16);
  }

  // "name=value" of the Set-Cookie for `name`.
  static std::string CookieFrom(const WebResponse& r, const std::string& name) {
    for (const auto& c : r.set_cookies) {
      if (c.rfind(name + "=", 0) == 0) return c.substr(0, c.find(';'));
    }
    return {};
  }

  // Signs in as alice: returns the session cookie header.
  std::string SignIn() {
    WebResponse page = Get("/");
    std::string anon = CookieFrom(page, "kw_csrf");
    WebResponse code = Post("/login", {{"user", "alice"}, {"csrf", Token(page.body)}}, anon);
    std::string login = CookieFrom(code, "kw_login");
    WebResponse done =
        Post("/verify", {{"code", "123456"}, {"csrf", Token(code.body)}, {"login", Check(code.body)}}, anon + "; " + login);
    EXPECT_EQ(done.status, 303);
    return CookieFrom(done, "kw_session");
  }

  std::string KeysToken(const std::string& session_cookie) { return Token(Get("/keys", session_cookie).body); }

  FakeBackend backend_;
  std::optional<App> app_;
};

TEST_F(AppTest, LoginPage) {
  WebResponse r = Get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.cacheable);
  EXPECT_NE(r.body.find("action=\"/login\""), std::string::npos);
  EXPECT_NE(r.body.find("<label for=\"user\">"), std::string::npos);
  EXPECT_EQ(Token(r.body).size(), kCsrfTokenChars);
  ASSERT_EQ(r.set_cookies.size(), 1u);
  EXPECT_NE(r.set_cookies[0].find("; Path=/; HttpOnly; SameSite=Strict"), std::string::npos) << r.set_cookies[0];
  EXPECT_EQ(r.set_cookies[0].find("Secure"), std::string::npos);
  // A returning browser keeps its cookie; the token is new on every page.
  std::string anon = CookieFrom(r, "kw_csrf");
  WebResponse again = Get("/", anon);
  EXPECT_TRUE(again.set_cookies.empty());
  EXPECT_NE(Token(again.body), Token(r.body));
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AppTest, FastLoginPageIsTheRenderedOne) {
  auto pages = Pages::Load(90);
  ASSERT_TRUE(pages);
  EXPECT_EQ(pages->FastLoginPage("tok"), pages->LoginPage("tok"));
}

TEST_F(AppTest, EveryPageFillsEveryPlaceholder) {
  auto pages = Pages::Load(0);
  ASSERT_TRUE(pages);
  std::vector<daemon::KeyInfo> keys = {Key("laptop", "active"), Key("old", "revoked")};
  KeysView view;
  view.csrf = "t";
  view.account = "alice";
  view.keys = &keys;
  daemon::RolesReply roles{"alice", {Role("login"), Role("deploy", "/usr/local/bin/deploy")}, "ready"};
  KeysView with_roles = view;
  with_roles.roles = &roles;
  with_roles.cert_error = "e";
  daemon::CertReply cert;
  cert.certificate = "c";
  cert.principals = {"alice"};
  CertView cert_view{"t", "alice", &cert, "id_ed25519"};
  for (const std::string& page :
       {pages->LoginPage("t", "u", "e", "n"), pages->CodePage("t", "0123456789abcdef", "m", "e"), pages->KeysPage(view),
        pages->KeysPage(with_roles), pages->CertPage(cert_view), pages->MessagePage("h", "t", "/", "l")}) {
    EXPECT_EQ(page.find("{{"), std::string::npos) << page;
    EXPECT_EQ(page.find("}}"), std::string::npos) << page;
    EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  }
}

TEST_F(AppTest, PostWithoutOrWithWrongCsrfIs403AndAsksNothing) {
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  std::string token = Token(page.body);
  EXPECT_EQ(Post("/login", {{"user", "alice"}}, anon).status, 403);
  EXPECT_EQ(Post("/login", {{"user", "alice"}, {"csrf", ""}}, anon).status, 403);
  EXPECT_EQ(Post("/login", {{"user", "alice"}, {"csrf", std::string(kCsrfTokenChars, '0')}}, anon).status, 403);
  EXPECT_EQ(Post("/login", {{"user", "alice"}, {"csrf", token}}, "").status, 403) << "no cookie";
  EXPECT_EQ(Post("/login", {{"user", "alice"}, {"csrf", token}}, "kw_csrf=0123456789abcdef").status, 403)
      << "another browser's cookie";
  EXPECT_EQ(Post("/verify", {{"code", "1"}}, anon + "; kw_login=handle123").status, 403);
  EXPECT_TRUE(backend_.calls.empty());
  WebResponse denied = Post("/login", {{"user", "alice"}}, anon);
  EXPECT_NE(denied.body.find("This form has expired"), std::string::npos);
  EXPECT_EQ(Post("/login", {{"user", "alice"}, {"csrf", token}}, anon).status, 200);
}

TEST_F(AppTest, FullFlow) {
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  WebResponse code = Post("/login", {{"user", " alice "}, {"csrf", Token(page.body)}}, anon);
  EXPECT_EQ(code.status, 200);
  EXPECT_EQ(backend_.last_user, "alice");
  EXPECT_EQ(backend_.last_client, "203.0.113.9");
  EXPECT_NE(code.body.find("action=\"/verify\""), std::string::npos);
  EXPECT_NE(code.body.find("If alice exists"), std::string::npos);
  std::string login = CookieFrom(code, "kw_login");
  EXPECT_EQ(login, "kw_login=handle123");

  EXPECT_EQ(Check(code.body), App::LoginCheck("handle123"));
  WebResponse done =
      Post("/verify", {{"code", "123 456"}, {"csrf", Token(code.body)}, {"login", Check(code.body)}}, anon + "; " + login);
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.location, "/keys");
  EXPECT_EQ(backend_.last_code, "123456");
  EXPECT_EQ(backend_.last_login, "handle123");
  ASSERT_EQ(done.set_cookies.size(), 2u);
  EXPECT_EQ(done.set_cookies[0], "kw_session=" + kSession + "; Path=/; Max-Age=900; HttpOnly; SameSite=Strict");
  EXPECT_EQ(done.set_cookies[1], "kw_login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  for (const auto& c : done.set_cookies) EXPECT_EQ(c.find("123456"), std::string::npos) << "the code in a cookie";

  std::string session = "kw_session=" + kSession;
  backend_.keys = {Key("laptop", "active"), Key("<script>alert(1)</script>", "revoked")};
  WebResponse keys = Get("/keys", session);
  EXPECT_EQ(keys.status, 200);
  EXPECT_FALSE(keys.cacheable);
  EXPECT_NE(keys.body.find("SHA256:F+gPMF+U9FrzNmHDOJ0w5mj4mkxStD6+MDP9u9KAek4"), std::string::npos);
  EXPECT_NE(keys.body.find("2026-11-21"), std::string::npos);
  EXPECT_EQ(keys.body.find("<script>"), std::string::npos);
  EXPECT_NE(keys.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // One revoke form: the revoked key has none.
  EXPECT_EQ(keys.body.find("action=\"/revoke\""), keys.body.rfind("action=\"/revoke\""));
  EXPECT_NE(keys.body.find("action=\"/revoke\""), std::string::npos);
  EXPECT_NE(keys.body.find("enctype=\"multipart/form-data\""), std::string::npos);

  std::string token = Token(keys.body);
  WebResponse added = Post("/add",
                           {{"csrf", token},
                            {"key", "ssh-ed25519 AAAA alice@laptop"},
                            {"device", "laptop"},
                            {"owner", "alice@example.org"},
                            {"days", "30"}},
                           session);
  EXPECT_EQ(added.status, 303);
  EXPECT_EQ(added.location, "/keys?notice=added");
  EXPECT_EQ(backend_.last_add.session, kSession);
  EXPECT_EQ(backend_.last_add.key, "ssh-ed25519 AAAA alice@laptop");
  EXPECT_EQ(backend_.last_add.device, "laptop");
  EXPECT_EQ(backend_.last_add.owner, "alice@example.org");
  EXPECT_EQ(backend_.last_add.days, 30);
  EXPECT_EQ(backend_.last_add.client, "203.0.113.9");
  EXPECT_NE(Get("/keys?notice=added", session).body.find("The key was added"), std::string::npos);

  WebResponse revoked = Post("/revoke", {{"csrf", token}, {"file", "alice@example.org+laptop+20261121+01.pub"}}, session);
  EXPECT_EQ(revoked.status, 303);
  EXPECT_EQ(revoked.location, "/keys?notice=revoked");
  EXPECT_EQ(backend_.last_file, "alice@example.org+laptop+20261121+01.pub");

  WebResponse out = Post("/logout", {{"csrf", token}}, session);
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.location, "/?notice=signed_out");
  ASSERT_EQ(out.set_cookies.size(), 1u);
  EXPECT_EQ(out.set_cookies[0], "kw_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

TEST_F(AppTest, UploadedFileIsTheKey) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  WebResponse r = Post("/add",
                       {{"csrf", token}, {"key", ""}, {"keyfile", "ssh-ed25519 AAAA file\n"}, {"device", "d"}, {"owner", "o@x"}},
                       session);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(backend_.last_add.key, "ssh-ed25519 AAAA file");
  EXPECT_EQ(backend_.last_add.days, 0);
  backend_.calls.clear();
  r = Post("/add", {{"csrf", token}, {"key", "a"}, {"keyfile", "b"}, {"device", "d"}, {"owner", "o@x"}}, session);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("not both"), std::string::npos);
  EXPECT_EQ(std::count(backend_.calls.begin(), backend_.calls.end(), "add_key"), 0);
}

TEST_F(AppTest, SessionCsrfIsBoundToTheSession) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  backend_.calls.clear();
  std::string other = "kw_session=" + std::string(64, 'b');
  EXPECT_EQ(Post("/add", {{"csrf", token}, {"key", "k"}, {"device", "d"}, {"owner", "o"}}, other).status, 403);
  EXPECT_EQ(Post("/revoke", {{"csrf", token}, {"file", "f"}}, other).status, 403);
  EXPECT_EQ(Post("/logout", {{"csrf", token}}, other).status, 403);
  // An anonymous page's token does not work for a session's forms.
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  EXPECT_EQ(Post("/revoke", {{"csrf", Token(page.body)}, {"file", "f"}}, session + "; " + anon).status, 403);
  EXPECT_EQ(Post("/revoke", {{"file", "f"}}, session).status, 403);
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(AppTest, ErrorsStayOnTheFormWithTheInput) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  backend_.add_error = Error{"duplicate_key", "This key is already on the account."};
  WebResponse r = Post("/add",
                       {{"csrf", token}, {"key", "ssh-ed25519 AAAA x"}, {"device", "lap\"top"}, {"owner", "a@b"}, {"days", "7"}},
                       session);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("This key is already on the account."), std::string::npos);
  EXPECT_NE(r.body.find(">ssh-ed25519 AAAA x</textarea>"), std::string::npos);
  EXPECT_NE(r.body.find("value=\"lap&quot;top\""), std::string::npos);
  EXPECT_NE(r.body.find("value=\"a@b\""), std::string::npos);
  EXPECT_NE(r.body.find("value=\"7\""), std::string::npos);
  EXPECT_NE(r.body.find("role=\"alert\" aria-live=\"assertive\">This key is already"), std::string::npos);
}

TEST_F(AppTest, PrivateKeyIsNeverShownAgain) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  const std::string secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
  backend_.add_error = Error{"private_key", "That is a private key: paste the .pub file."};
  for (const char* field : {"key", "keyfile"}) {
    WebResponse r = Post("/add", {{"csrf", token}, {field, secret}, {"device", "laptop"}, {"owner", "a@b"}}, session);
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(r.body.find("That is a private key: paste the .pub file."), std::string::npos);
    EXPECT_EQ(r.body.find("b3BlbnNzaC1rZXktdjEAAAAA"), std::string::npos) << field;
    EXPECT_NE(r.body.find("value=\"laptop\""), std::string::npos);
  }
}

TEST_F(AppTest, FormChecksBeforeKeywardd) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  backend_.calls.clear();
  auto add = [&](std::map<std::string, std::string, std::less<>> fields) {
    fields["csrf"] = token;
    return Post("/add", std::move(fields), session);
  };
  EXPECT_EQ(add({{"key", ""}, {"device", "d"}}).status, 422);
  EXPECT_EQ(add({{"key", "k"}, {"days", "0"}}).status, 422);
  EXPECT_EQ(add({{"key", "k"}, {"days", "-3"}}).status, 422);
  EXPECT_EQ(add({{"key", "k"}, {"days", "7x"}}).status, 422);
  EXPECT_EQ(add({{"key", std::string(kMaxKeyBytes + 1, 'k')}}).status, 422);
  EXPECT_EQ(add({{"key", "k"}, {"device", std::string(kMaxFieldBytes + 1, 'd')}}).status, 422);
  EXPECT_EQ(std::count(backend_.calls.begin(), backend_.calls.end(), "add_key"), 0);
}

TEST_F(AppTest, LoginErrorsKeepTheUserName) {
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  backend_.login_error = Error{"rate_limited", "Too many codes were asked for. Wait an hour."};
  WebResponse r = Post("/login", {{"user", "bob<b>"}, {"csrf", Token(page.body)}}, anon);
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("Too many codes were asked for."), std::string::npos);
  EXPECT_NE(r.body.find("value=\"bob&lt;b&gt;\""), std::string::npos);
  EXPECT_NE(r.body.find("aria-invalid=\"true\""), std::string::npos);
  EXPECT_EQ(Post("/login", {{"user", "  "}, {"csrf", Token(r.body)}}, anon).status, 422);
}

TEST_F(AppTest, WrongCodeStaysOnTheCodePage) {
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  WebResponse code = Post("/login", {{"user", "alice"}, {"csrf", Token(page.body)}}, anon);
  backend_.verify_error = Error{"bad_code", "That code is wrong or has expired. Ask for a new one."};
  WebResponse r = Post("/verify", {{"code", "000000"}, {"csrf", Token(code.body)}, {"login", Check(code.body)}},
                       anon + "; kw_login=handle123");
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(r.set_cookies.empty());
  EXPECT_NE(r.body.find("That code is wrong"), std::string::npos);
  EXPECT_NE(r.body.find("action=\"/verify\""), std::string::npos);
  // Without the login cookie: start again.
  WebResponse lost = Post("/verify", {{"code", "1"}, {"csrf", Token(r.body)}}, anon);
  EXPECT_EQ(lost.status, 303);
  EXPECT_EQ(lost.location, "/?notice=restart");
}

TEST_F(AppTest, EndedSessionGoesBackToSignIn) {
  backend_.list_error = Error{"no_session", "Your session has ended."};
  WebResponse r = Get("/keys", "kw_session=" + kSession);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.location, "/?notice=ended");
  ASSERT_EQ(r.set_cookies.size(), 1u);
  EXPECT_NE(r.set_cookies[0].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Get("/keys").location, "/");
  EXPECT_NE(Get("/?notice=ended").body.find("Your session has ended"), std::string::npos);
  EXPECT_EQ(Get("/?notice=<script>").body.find("<script>"), std::string::npos);
}

TEST_F(AppTest, KeywarddDown) {
  backend_.list_error = Error{kUnavailable, "keyward cannot answer right now. Try again in a minute."};
  WebResponse r = Get("/keys", "kw_session=" + kSession);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("Try again in a minute"), std::string::npos);
}

// Two tabs, one browser: the second login replaces the first's cookie; the
// first tab's form is refused without spending its code on the second login.
TEST_F(AppTest, AFormOfAReplacedLoginIsRefused) {
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "kw_csrf");
  WebResponse first = Post("/login", {{"user", "alice"}, {"csrf", Token(page.body)}}, anon);
  backend_.login_handle = "handle456";
  WebResponse second = Post("/login", {{"user", "bob"}, {"csrf", Token(page.body)}}, anon);
  ASSERT_NE(Check(first.body), Check(second.body));
  std::string newest = CookieFrom(second, "kw_login");
  backend_.calls.clear();
  WebResponse stale =
      Post("/verify", {{"code", "123456"}, {"csrf", Token(first.body)}, {"login", Check(first.body)}}, anon + "; " + newest);
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(stale.body.find("another one was started"), std::string::npos);
  EXPECT_TRUE(backend_.calls.empty()) << "the code must not reach keywardd";
  WebResponse missing = Post("/verify", {{"code", "123456"}, {"csrf", Token(second.body)}}, anon + "; " + newest);
  EXPECT_EQ(missing.status, 409);
  WebResponse ok =
      Post("/verify", {{"code", "123456"}, {"csrf", Token(second.body)}, {"login", Check(second.body)}}, anon + "; " + newest);
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(backend_.last_login, "handle456");
}

// The expiry hint follows keywardd's policy, not keyward-web's flags.
TEST_F(AppTest, TheExpiryHintIsTheDaemonsPolicy) {
  std::string session = SignIn();
  WebResponse unset = Get("/keys", session);  // an older keywardd: keyward-web's own setting (90)
  EXPECT_NE(unset.body.find("At most 90 days."), std::string::npos);
  backend_.max_key_days = 30;
  WebResponse limited = Get("/keys", session);
  EXPECT_NE(limited.body.find("At most 30 days."), std::string::npos);
  EXPECT_NE(limited.body.find("max=\"30\""), std::string::npos);
  EXPECT_EQ(limited.body.find("does not expire"), std::string::npos);
  backend_.max_key_days = 0;
  EXPECT_NE(Get("/keys", session).body.find("Leave it empty for a key that does not expire."), std::string::npos);
}

TEST_F(AppTest, SecureCookies) {
  Make(true);
  WebResponse page = Get("/");
  std::string anon = CookieFrom(page, "__Host-kw_csrf");
  ASSERT_FALSE(anon.empty());
  EXPECT_NE(page.set_cookies[0].find("; Secure"), std::string::npos);
  WebResponse code = Post("/login", {{"user", "alice"}, {"csrf", Token(page.body)}}, anon);
  std::string login = CookieFrom(code, "__Host-kw_login");
  ASSERT_FALSE(login.empty());
  WebResponse done =
      Post("/verify", {{"code", "1"}, {"csrf", Token(code.body)}, {"login", Check(code.body)}}, anon + "; " + login);
  ASSERT_EQ(done.status, 303);
  for (const auto& c : done.set_cookies) {
    EXPECT_EQ(c.rfind("__Host-", 0), 0u) << c;
    EXPECT_NE(c.find("; HttpOnly; SameSite=Strict; Secure"), std::string::npos) << c;
  }
  // The plain name is not read when cookies are secure.
  EXPECT_EQ(Get("/keys", "kw_session=" + kSession).location, "/");
}

TEST_F(AppTest, StaticRoutesAndErrors) {
  WebResponse css = Get("/style.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_TRUE(css.cacheable);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_NE(Get("/").body.find("/style.css?v="), std::string::npos);
  for (const char* icon : {"/favicon.svg", "/favicon.ico"}) {
    WebResponse r = Get(icon);
    EXPECT_EQ(r.status, 200) << icon;
    EXPECT_EQ(r.content_type, "image/svg+xml");
    EXPECT_TRUE(r.cacheable);
    EXPECT_EQ(r.body.rfind("<svg", 0), 0u);
  }
  EXPECT_NE(Get("/").body.find("<link rel=\"icon\" href=\"/favicon.svg\""), std::string::npos);
  WebResponse health = Get("/healthz");
  EXPECT_EQ(health.body, "ok");
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/add").status, 303);
  EXPECT_EQ(Post("/keys", {}, "").status, 405);
  EXPECT_EQ(Post("/keys", {}, "").allow, "GET, HEAD");
  EXPECT_EQ(Post("/nope", {}, "").status, 404);
  EXPECT_EQ(app_->ErrorPage(413).status, 413);
  EXPECT_NE(app_->ErrorPage(413).body.find("64 KiB"), std::string::npos);
}

// --------------------------------------------------------- certificates

TEST_F(AppTest, TheKeysPageOffersTheAccountsRoles) {
  std::string session = SignIn();
  WebResponse none = Get("/keys", session);
  EXPECT_EQ(none.body.find("Get a certificate"), std::string::npos) << "no roles, no section";
  backend_.roles = {Role("login"), Role("deploy", "/usr/local/bin/deploy")};
  WebResponse page = Get("/keys", session);
  EXPECT_NE(page.body.find("Get a certificate"), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/cert\""), std::string::npos);
  // The first role is chosen; each says what it gives.
  EXPECT_NE(page.body.find("value=\"login\" aria-describedby=\"role-login-hint\" checked>"), std::string::npos);
  EXPECT_NE(page.body.find("value=\"deploy\" aria-describedby=\"role-deploy-hint\">"), std::string::npos);
  EXPECT_NE(page.body.find("Log in as alice. Valid for at most 1 week."), std::string::npos);
  EXPECT_NE(page.body.find("Runs only /usr/local/bin/deploy."), std::string::npos);
  // Both forms carry the session's token.
  EXPECT_EQ(Token(page.body).size(), kCsrfTokenChars);
  // A CA that cannot sign: the reason, no form.
  backend_.ca_status = "missing";
  WebResponse missing = Get("/keys", session);
  EXPECT_NE(missing.body.find("has not set up the certificate authority"), std::string::npos);
  EXPECT_EQ(missing.body.find("action=\"/cert\""), std::string::npos);
  // keywardd without list_roles: the keys page as before.
  backend_.roles_error = Error{"bad_request", "unknown op"};
  WebResponse old = Get("/keys", session);
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(old.body.find("Get a certificate"), std::string::npos);
}

TEST_F(AppTest, SigningACertificateShowsItAndHowToUseIt) {
  backend_.roles = {Role("login"), Role("deploy", "/usr/local/bin/deploy")};
  std::string session = SignIn();
  std::string token = KeysToken(session);
  WebResponse r = Post("/cert",
                       {{"csrf", token},
                        {"role", "deploy"},
                        {"certkey", ""},
                        {"certkeyfile", "ssh-ed25519 AAAA alice@laptop\n"},
                        {"validity", " +1h "}},
                       session);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(backend_.last_sign.session, kSession);
  EXPECT_EQ(backend_.last_sign.role, "deploy");
  EXPECT_EQ(backend_.last_sign.key, "ssh-ed25519 AAAA alice@laptop");
  EXPECT_EQ(backend_.last_sign.validity, "+1h");
  EXPECT_EQ(backend_.last_sign.client, "203.0.113.9");
  EXPECT_FALSE(r.cacheable);
  EXPECT_NE(r.body.find("<h1>Your certificate</h1>"), std::string::npos);
  EXPECT_NE(r.body.find(">ssh-ed25519-cert-v01@openssh.com AAAA alice@laptop</textarea>"), std::string::npos);
  // No file name came with the upload here: ssh-keygen's default name.
  EXPECT_NE(r.body.find("Download id_ed25519-cert.pub"), std::string::npos);
  EXPECT_NE(r.body.find("ssh alice@HOST"), std::string::npos);
  EXPECT_NE(r.body.find("ssh-keygen -L -f ~/.ssh/id_ed25519-cert.pub"), std::string::npos);
  EXPECT_NE(r.body.find("keyward:alice:deploy:17"), std::string::npos);
  EXPECT_NE(r.body.find("2026-09-21 14:13 UTC"), std::string::npos);  // 1790000000
  EXPECT_NE(r.body.find("action=\"/cert/download\""), std::string::npos);
  EXPECT_EQ(Token(r.body).size(), kCsrfTokenChars);

  // An uploaded file's own name is kept.
  WebRequest upload;
  upload.method = "POST";
  upload.path = "/cert";
  upload.cookies = session;
  upload.fields = {{"csrf", token}, {"role", "login"}, {"certkeyfile", "ssh-ed25519 AAAA k"}};
  upload.file_names = {{"certkeyfile", "work_laptop.pub"}};
  WebResponse named = app_->Handle(upload);
  EXPECT_NE(named.body.find("Download work_laptop-cert.pub"), std::string::npos);
  EXPECT_NE(named.body.find("name=\"name\" value=\"work_laptop\""), std::string::npos);
}

TEST_F(AppTest, CertificateErrorsStayOnTheForm) {
  backend_.roles = {Role("login")};
  std::string session = SignIn();
  std::string token = KeysToken(session);
  backend_.sign_error = Error{"bad_validity", "The role login gives certificates of at most 1 week."};
  WebResponse r = Post("/cert", {{"csrf", token}, {"role", "login"}, {"certkey", "ssh-ed25519 AAAA x"}, {"validity", "+9d"}},
                       session);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("id=\"cert-error\" role=\"alert\" aria-live=\"assertive\">The role login gives"),
            std::string::npos);
  EXPECT_NE(r.body.find(">ssh-ed25519 AAAA x</textarea>"), std::string::npos);
  EXPECT_NE(r.body.find("value=\"+9d\""), std::string::npos);
  EXPECT_NE(r.body.find("aria-invalid=\"true\">"), std::string::npos);  // the validity field
  // A private key never comes back, whatever keywardd says.
  const std::string secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
  backend_.sign_error = Error{"private_key", "That is a private key: paste the .pub file instead."};
  for (const char* field : {"certkey", "certkeyfile"}) {
    WebResponse p = Post("/cert", {{"csrf", token}, {"role", "login"}, {field, secret}}, session);
    EXPECT_EQ(p.status, 422);
    EXPECT_NE(p.body.find("That is a private key: paste the .pub file instead."), std::string::npos);
    EXPECT_EQ(p.body.find("b3BlbnNzaC1rZXktdjEAAAAA"), std::string::npos) << field;
  }
  // Checked before keywardd is asked.
  backend_.calls.clear();
  EXPECT_EQ(Post("/cert", {{"csrf", token}, {"role", ""}, {"certkey", "k"}}, session).status, 422);
  EXPECT_EQ(Post("/cert", {{"csrf", token}, {"role", "login"}, {"certkey", ""}}, session).status, 422);
  EXPECT_EQ(Post("/cert", {{"csrf", token}, {"role", "login"}, {"certkey", "a"}, {"certkeyfile", "b"}}, session).status,
            422);
  EXPECT_EQ(Post("/cert", {{"csrf", token}, {"role", "login"}, {"certkey", "k"}, {"validity", std::string(65, '1')}},
                 session)
                .status,
            422);
  EXPECT_EQ(std::count(backend_.calls.begin(), backend_.calls.end(), "sign_cert"), 0);
  // Without the token: 403, nothing asked.
  EXPECT_EQ(Post("/cert", {{"role", "login"}, {"certkey", "k"}}, session).status, 403);
  EXPECT_EQ(Post("/cert", {{"csrf", std::string(kCsrfTokenChars, '0')}, {"role", "login"}, {"certkey", "k"}}, session)
                .status,
            403);
  EXPECT_EQ(std::count(backend_.calls.begin(), backend_.calls.end(), "sign_cert"), 0);
  backend_.sign_error = Error{"no_session", "Your session has ended."};
  EXPECT_EQ(Post("/cert", {{"csrf", token}, {"role", "login"}, {"certkey", "k"}}, session).location, "/?notice=ended");
}

// A certificate from a real CA, as keywardd's reply carries it.
std::string RealCertificateLine() {
  auto ca = ca::CaSigner::Generate(ca::CaKeySpec{});
  auto subject = ca::CaSigner::Generate(ca::CaKeySpec{});
  if (!ca || !subject) return {};
  ca::CertificateRequest r;
  r.subject = subject->public_key();
  r.serial = 5;
  r.key_id = "keyward:alice:login:5";
  r.principals = {"alice"};
  r.valid_after = 1;
  r.valid_before = 2;
  auto blob = ca::SignCertificate(*ca, r);
  if (!blob) return {};
  std::string line = ca::CertificateLine(r.subject, *blob, "alice@laptop");
  line.pop_back();
  return line;
}

TEST_F(AppTest, TheDownloadIsTheCertificateAsAFile) {
  std::string session = SignIn();
  std::string token = KeysToken(session);
  const std::string line = RealCertificateLine();
  ASSERT_FALSE(line.empty());
  backend_.calls.clear();
  WebResponse r = Post("/cert/download", {{"csrf", token}, {"name", "id_ed25519"}, {"certificate", line}}, session);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.content_disposition, "attachment; filename=\"id_ed25519-cert.pub\"");
  EXPECT_EQ(r.body, line + "\n");
  EXPECT_FALSE(r.cacheable);
  EXPECT_TRUE(backend_.calls.empty()) << "a download asks keywardd nothing";
  // A path is cut to its last part; a name that is not a plain file name
  // falls back to the type's default.
  WebResponse cut = Post("/cert/download", {{"csrf", token}, {"name", "../../etc/passwd"}, {"certificate", line}}, session);
  EXPECT_EQ(cut.content_disposition, "attachment; filename=\"passwd-cert.pub\"");
  for (const char* name : {"a\"b", ".hidden", "", "x y", "a\r\nSet-Cookie: x=y"}) {
    WebResponse d = Post("/cert/download", {{"csrf", token}, {"name", name}, {"certificate", line}}, session);
    EXPECT_EQ(d.content_disposition, "attachment; filename=\"id_ed25519-cert.pub\"") << name;
  }
  // Only a certificate goes out: not a plain key, not HTML, not two lines.
  for (const std::string& bad : {std::string("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPBQiEDhnaZ0/YvfV9RTndPIjtvoZOIuqpTEqJpi98Ev"),
                                 std::string("<script>alert(1)</script>"), line + "\n" + line, std::string()}) {
    WebResponse d = Post("/cert/download", {{"csrf", token}, {"name", "k"}, {"certificate", bad}}, session);
    EXPECT_EQ(d.status, 422) << bad;
    EXPECT_TRUE(d.content_disposition.empty());
  }
  EXPECT_EQ(Post("/cert/download", {{"name", "k"}, {"certificate", line}}, session).status, 403);
  EXPECT_EQ(Post("/cert/download", {{"csrf", token}, {"certificate", line}}, "").status, 303);
  EXPECT_EQ(Get("/cert").location, "/keys");
  EXPECT_EQ(Get("/cert/download").location, "/keys");
}

TEST(CertificateFileBase, UploadedNameOrTheTypesDefault) {
  EXPECT_EQ(CertificateFileBase("id_ed25519.pub", "ssh-ed25519"), "id_ed25519");
  EXPECT_EQ(CertificateFileBase("C:\\Users\\a\\work.pub", "ssh-rsa"), "work");
  EXPECT_EQ(CertificateFileBase("/home/a/.ssh/laptop.pub", "ssh-rsa"), "laptop");
  EXPECT_EQ(CertificateFileBase("laptop-cert.pub", "ssh-rsa"), "laptop");
  EXPECT_EQ(CertificateFileBase("", "ssh-ed25519-cert-v01@openssh.com"), "id_ed25519");
  EXPECT_EQ(CertificateFileBase("", "sk-ssh-ed25519-cert-v01@openssh.com"), "id_ed25519_sk");
  EXPECT_EQ(CertificateFileBase("", "ecdsa-sha2-nistp384-cert-v01@openssh.com"), "id_ecdsa");
  EXPECT_EQ(CertificateFileBase("", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"), "id_ecdsa_sk");
  EXPECT_EQ(CertificateFileBase("", "ssh-rsa-cert-v01@openssh.com"), "id_rsa");
  EXPECT_EQ(CertificateFileBase("my key.pub", "ssh-rsa"), "id_rsa");
  EXPECT_EQ(CertificateFileBase(".pub", "x"), "id_key");
  EXPECT_EQ(CertificateFileBase(std::string(65, 'a'), "ssh-rsa"), "id_rsa");
}

}  // namespace
}  // namespace keyward::web
