// The pages and their rules, against a fake keywardd: CSRF on every POST,
// cookie attributes, errors shown on the form with the input kept (but
// never a private key), nothing asked of keywardd when a check fails.
#include "web/app.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

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
};

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
  for (const std::string& page :
       {pages->LoginPage("t", "u", "e", "n"), pages->CodePage("t", "0123456789abcdef", "m", "e"), pages->KeysPage(view),
        pages->MessagePage("h", "t", "/", "l")}) {
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

}  // namespace
}  // namespace keyward::web
