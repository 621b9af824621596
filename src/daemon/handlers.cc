#include "daemon/handlers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/crypto.h>

#include "ca/issuer.h"
#include "ca/roles.h"
#include "ca/validity.h"
#include "daemon/as_user.h"
#include "daemon/background.h"
#include "daemon/factors.h"
#include "daemon/log.h"
#include "daemon/pasted_key.h"
#include "daemon/store_ops.h"
#include "factor/random.h"
#include "key/fingerprint.h"
#include "store/audit_log.h"
#include "store/key_name.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;

// The same words whoever asked: the reply must not tell who exists.
constexpr const char* kLoginMessage =
    "If that account exists and has a second factor, a code is on its way to it. If it uses an authenticator app, "
    "enter the app's code.";

constexpr std::int64_t kHour = 3600;

tl::unexpected<Error> NoSession() {
  return Fail("no_session", "Your session has ended. Log in again.");
}

tl::unexpected<Error> RateLimited() {
  return Fail("rate_limited", "Too many logins were asked for. Wait an hour, then try again.");
}

// The session named by the request, or no_session. Every request that acts
// on an account goes through here; the account comes from the session only.
Result<AccountPlace> SessionAccount(Daemon& d, Call& call) {
  auto active = d.sessions().Check(call.request.session);
  if (!active) return NoSession();
  call.account = active->account;
  auto place = d.accounts().Find(active->account);
  if (!place) {
    Log("account " + Shown(active->account) + ": " + place.error().message);
    return Fail("store_failed", "This account cannot be reached right now. Try again later.");
  }
  if (!place->has_value()) {
    // Removed while the session lived: the session goes with it.
    d.sessions().Close(call.request.session);
    return NoSession();
  }
  return std::move(**place);
}

// A failed store operation: logged in full, told to the web user in words
// it can act on (store_ops.h).
tl::unexpected<Error> StoreFailure(const Call& call, const Error& e) {
  Error shown = PublicStoreError(e);
  if (shown.code == "store_failed") Log("account " + Shown(call.account) + ": " + e.code + ": " + e.message);
  return Fail(std::move(shown));
}

// The factors of an account, read by a child with its rights; for nobody,
// a child that reads nothing, so that both cost a fork.
Factors ReadAccountFactors(const std::optional<AccountPlace>& place) {
  Result<json> read;
  if (place) {
    const AccountPlace p = *place;
    read = RunAsUser(p.account, [p]() -> Result<json> {
      auto f = ReadFactors(p.account.home, p.account.uid, p.email_file);
      if (!f) return Fail(f.error());
      return FactorsToJson(*f);
    });
  } else {
    store::Account self{"keywardd", geteuid(), getegid(), "/"};
    read = RunAsUser(self, []() -> Result<json> { return FactorsToJson(Factors{}); });
  }
  if (!read) return {};
  auto f = FactorsFromJson(*read);
  return f ? std::move(*f) : Factors{};
}

std::string CodeBody(const std::string& account, const std::string& code, std::int64_t ttl) {
  return "keyward code for " + account + ": " + code + "\nIt is good for " + std::to_string(ttl / 60) +
         " minutes. If you did not ask for it, tell your administrator.";
}

struct Route {
  Op op;
  Handler handler;
};

// What keyward-web may ask.
constexpr Route kWebRoutes[] = {
    {Op::kLogin, HandleLogin},         {Op::kVerify, HandleVerify},       {Op::kListKeys, HandleListKeys},
    {Op::kAddKey, HandleAddKey},       {Op::kRevokeKey, HandleRevokeKey}, {Op::kLogout, HandleLogout},
    {Op::kListRoles, HandleListRoles}, {Op::kSignCert, HandleSignCert},
};
// Root may ask the same (for tools and tests on the machine itself); the
// gate and the administrator's requests will get their own tables.
constexpr Route kRootRoutes[] = {
    {Op::kLogin, HandleLogin},         {Op::kVerify, HandleVerify},       {Op::kListKeys, HandleListKeys},
    {Op::kAddKey, HandleAddKey},       {Op::kRevokeKey, HandleRevokeKey}, {Op::kLogout, HandleLogout},
    {Op::kListRoles, HandleListRoles}, {Op::kSignCert, HandleSignCert},
};

// The account's Unix groups, for roles given to groups: passwd accounts
// only; a directory account is a folder and has none (roles name it in
// their "accounts" list).
std::vector<std::string> AccountGroups(const Daemon& d, const std::string& account) {
  if (d.config().accounts.source == config::AccountSource::kDirectory) return {};
  return ca::GroupsOfSystemAccount(account);
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// A validity the role refuses, in words for the page.
tl::unexpected<Error> ValidityTooLong(const config::RoleConfig& role) {
  return Fail("bad_validity", "The role " + role.name + " gives certificates of at most " +
                                  DurationText(role.max_validity) + ". Ask for less (such as +1d or +8h), or leave "
                                  "the validity empty for the longest the role allows.");
}

}  // namespace

Result<json> HandleLogin(Daemon& d, Call& call) {
  const std::string& user = call.request.user;
  call.account = user;
  // Both limits are checked before either is counted, so that a refused
  // login costs the other key nothing.
  if (!d.per_client().Allowed(call.client) || !d.per_account().Allowed(user)) return RateLimited();
  d.per_client().Record(call.client);
  d.per_account().Record(user);

  auto found = d.accounts().Find(user);
  std::optional<AccountPlace> place;
  if (!found) Log("login: account " + Shown(user) + ": " + found.error().message);
  else place = std::move(*found);
  Factors f = ReadAccountFactors(place);
  for (const std::string& why : f.ignored) Log("account " + Shown(user) + ": ignored " + why);

  Result<std::string> handle;
  std::optional<std::string> to;
  if (place && !f.totp_secret.empty()) {
    // TOTP first: nothing to send, nothing to intercept, nothing to pay.
    handle = d.codes().StartTotp(user, std::move(f.totp_secret));
  } else if (place && (to = CodeRecipient(d.channels().codes_kind, f))) {
    auto code = factor::RandomDigits(factor::kCodeDigits);
    if (!code) return Fail(code.error());
    handle = d.codes().StartCode(user, *code);
    if (handle) {
      Message m{*to, "keyward code", CodeBody(user, *code, d.config().token_ttl)};
      Notifier* notifier = d.channels().codes.get();
      auto sent = RunInBackground("code for " + user, [notifier, m] { return notifier->Send(m); });
      if (!sent) Log("login: " + sent.error().message);
    }
    OPENSSL_cleanse(code->data(), code->size());
  } else {
    handle = d.codes().StartNobody();
  }
  if (!handle) return Fail(handle.error());
  return json{{"login", *handle}, {"message", kLoginMessage}};
}

Result<json> HandleVerify(Daemon& d, Call& call) {
  auto outcome = d.codes().Verify(call.request.login, call.request.code);
  switch (outcome.verdict) {
    case factor::Verdict::kOk:
      break;
    case factor::Verdict::kBadCode:
      return Fail("bad_code", "That code is wrong. Check it and try again, or ask for a new one.");
    case factor::Verdict::kExpired:
      return Fail("expired", "That code has expired or was used already. Ask for a new one.");
    case factor::Verdict::kTooManyTries:
      return Fail("too_many_tries", "Too many wrong codes were tried. Ask for a new one.");
  }
  call.account = outcome.account;
  auto session = d.sessions().Open(outcome.account);
  if (!session) return Fail(session.error());
  auto active = d.sessions().Check(*session);
  return json{{"session", *session},
              {"account", outcome.account},
              {"expires_in", active ? active->expires_in : d.config().session_idle}};
}

Result<json> HandleListKeys(Daemon& d, Call& call) {
  auto place = SessionAccount(d, call);
  if (!place) return Fail(place.error());
  auto keys = d.StoreWork(*place, ListKeysRequest(call.client, d.clocks().wall()));
  if (!keys) return StoreFailure(call, keys.error());
  json reply = std::move(*keys);
  reply["account"] = place->account.name;
  // The page's expiry field follows the daemon's policy, whatever
  // keyward-web was started with.
  reply["max_key_days"] = d.config().max_key_days;
  return reply;
}

Result<json> HandleAddKey(Daemon& d, Call& call) {
  const Request& r = call.request;
  auto place = SessionAccount(d, call);
  if (!place) return Fail(place.error());
  if (auto ok = store::ValidateEmail(r.owner); !ok) return Fail(ok.error());
  if (auto ok = store::ValidateDevice(r.device); !ok) return Fail(ok.error());
  std::int64_t days = r.days;
  const std::int64_t max_days = d.config().max_key_days;
  if (max_days > 0 && days == 0) days = max_days;  // the policy wants every key to expire
  if (max_days > 0 && days > max_days) {
    return Fail("bad_days", "Keys may be added for at most " + std::to_string(max_days) + " days here.");
  }
  std::int64_t now = d.clocks().wall();
  store::AddRequest add;
  add.owner = r.owner;
  add.device = r.device;
  add.key_text = r.key;
  if (days > 0) add.expires = static_cast<std::uint64_t>(now + days * 86400);
  auto added = d.StoreWork(*place, AddKeyRequest(call.client, now, add));
  if (!added) return StoreFailure(call, added.error());
  const std::string file = added->value("file", "");
  const std::string fingerprint = added->value("fingerprint", "");
  d.alerts().Report({"add", place->account.name, r.device, file, fingerprint, r.client, now, 0, {}, {}});
  return json{{"file", file}, {"fingerprint", fingerprint}};
}

Result<json> HandleRevokeKey(Daemon& d, Call& call) {
  const Request& r = call.request;
  auto place = SessionAccount(d, call);
  if (!place) return Fail(place.error());
  auto name = store::ParseKeyFileName(r.file);
  if (!name) return Fail("bad_file", "That is not the name of a key file; pick a key from the list.");
  std::int64_t now = d.clocks().wall();
  const std::string file = r.file;
  // Only when a KRL is published does the revoke need the key itself (one
  // stat; nothing more when there is none).
  const bool publish = d.krl().Published();
  auto revoked = d.StoreWork(*place, RevokeKeyRequest(call.client, now, file, publish));
  if (!revoked) return StoreFailure(call, revoked.error());
  const std::string fingerprint = revoked->value("fingerprint", "");
  d.alerts().Report({"revoke", place->account.name, name->device, file, fingerprint, r.client, now, 0, {}, {}});
  if (publish) {
    std::vector<krl::Revocation> records;
    const std::string key = revoked->value("key", "");
    if (!key.empty()) {
      krl::Revocation rec;
      rec.kind = krl::Revocation::Kind::kKey;
      rec.time = now;
      rec.who = "keywardd:" + place->account.name;
      rec.key = key;
      records.push_back(std::move(rec));
    } else {
      Log("account " + place->account.name + ": the revoked key " + Shown(file) +
          " could not be read back; the KRL gets it from revoked/ only");
    }
    d.krl().Queue(std::move(records));
  }
  return json{{"file", file}, {"fingerprint", fingerprint}};
}

Result<json> HandleLogout(Daemon& d, Call& call) {
  // Idempotent: logging out of an ended session is not an error.
  if (auto active = d.sessions().Check(call.request.session)) call.account = active->account;
  d.sessions().Close(call.request.session);
  return json::object();
}

Result<json> HandleListRoles(Daemon& d, Call& call) {
  auto place = SessionAccount(d, call);
  if (!place) return Fail(place.error());
  const std::string& account = place->account.name;
  json roles = RolesJson(d.config().ca, account, AccountGroups(d, account));
  // The CA's state only matters (and is only looked at) when there is a
  // role to offer.
  std::string status = roles.empty() ? "" : d.ca().Status();
  return json{{"account", account}, {"roles", std::move(roles)}, {"ca", status}};
}

Result<json> HandleSignCert(Daemon& d, Call& call) {
  const Request& r = call.request;
  auto place = SessionAccount(d, call);
  if (!place) return Fail(place.error());
  const std::string& account = place->account.name;

  const config::RoleConfig* role = ca::FindRole(d.config().ca, r.role);
  if (role == nullptr) {
    return Fail("unknown_role", "There is no role by that name here. Choose one of the roles this page offers.");
  }
  const std::vector<std::string> groups = AccountGroups(d, account);
  if (!ca::AccountMayUseRole(*role, account, groups)) {
    return Fail("role_not_allowed", "This account may not ask for the role " + role->name +
                                        ". Choose one of the roles this page offers, or ask the administrator.");
  }
  // Each certificate is synced, logged, audited and alerted: a session must
  // not be able to flood the issuance log or the administrator.
  if (!d.certificates().Allowed(account)) {
    return Fail("rate_limited", "This account has asked for many certificates in the last hour. Try again later.");
  }
  auto current = d.ca().Current();
  if (!current) return Fail(current.error());
  const ca::OpenedCa& authority = **current;

  auto pasted = ParsePastedKey(r.key, d.config().key_policy);
  if (!pasted) return Fail(PublicStoreError(pasted.error()));

  const std::int64_t now = d.clocks().wall();
  ca::RoleRequest rr;
  rr.account = account;
  rr.groups = groups;
  rr.now = now;
  rr.backdate = d.config().ca.backdate;
  if (!r.validity.empty()) {
    auto v = ca::ParseValidity(r.validity, now, d.config().ca.backdate);
    if (!v) {
      return Fail("bad_validity", "keyward cannot read that validity. Write it as ssh-keygen -V takes it, such as "
                                  "+1d or +8h, or leave it empty for the longest the role allows (" +
                                      DurationText(role->max_validity) + ").");
    }
    rr.validity = *v;
  }
  auto request = ca::RequestForRole(*role, rr, pasted->key);
  if (!request) {
    const Error& e = request.error();
    if (e.code == "validity_too_long") return ValidityTooLong(*role);
    if (e.code == "bad_validity") {
      return Fail("bad_validity", "That validity would end before it starts. Ask for one such as +1d, or leave it "
                                  "empty.");
    }
    if (e.code == "bad_account") {
      return Fail("role_not_allowed", "This account's name cannot be written into a certificate. Ask the "
                                      "administrator.");
    }
    if (e.code == "certificate_as_subject") return Fail(PublicStoreError({"certificate", e.message}));
    // The role's own settings fail for this account (a principal template):
    // the administrator's to fix.
    Log("sign_cert: role " + role->name + " for " + account + ": " + e.code + ": " + e.message);
    return Fail("ca_unavailable", "The role " + role->name + " cannot be signed for this account; the "
                                  "administrator has been told.");
  }

  ca::IssueContext context;
  context.role = role->name;
  context.account = account;
  context.requested_by = "keywardd:" + account;
  context.client = call.client;
  context.now = now;
  std::vector<ca::CertificateRequest> requests;
  requests.push_back(std::move(*request));
  auto issued = ca::IssueCertificates(authority.dir.get(), authority.signer, std::move(requests), context);
  if (!issued || issued->size() != 1) {
    if (!issued) Log("sign_cert: account " + account + ": " + issued.error().code + ": " + issued.error().message);
    return Fail("ca_unavailable", "The certificate could not be signed; the administrator has been told. Try again "
                                  "later.");
  }
  d.certificates().Record(account);
  const ca::IssuedCertificate& cert = issued->front();
  std::string line = ca::CertificateLine(pasted->key, cert.blob, pasted->comment);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  const ca::IssuanceRecord& rec = cert.record;

  Change change;
  change.action = "sign_cert";
  change.account = account;
  change.device = role->name;
  change.file = rec.key_id;
  change.fingerprint = rec.fingerprint;
  change.client = r.client;
  change.time = now;
  change.serial = rec.serial;
  change.principals = JoinComma(rec.principals);
  change.valid = store::FormatUtcTimestamp(static_cast<std::int64_t>(rec.valid_after)) + " to " +
                 store::FormatUtcTimestamp(static_cast<std::int64_t>(rec.valid_before));
  d.alerts().Report(change);

  return json{{"account", account},
              {"certificate", line},
              {"serial", rec.serial},
              {"key_id", rec.key_id},
              {"role", role->name},
              {"principals", rec.principals},
              {"valid_after", rec.valid_after},
              {"valid_before", rec.valid_before},
              {"fingerprint", rec.fingerprint}};
}

Handler FindHandler(CallerKind kind, Op op) {
  auto find = [op](const auto& routes) -> Handler {
    for (const Route& route : routes) {
      if (route.op == op) return route.handler;
    }
    return nullptr;
  };
  return kind == CallerKind::kRoot ? find(kRootRoutes) : find(kWebRoutes);
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const config::Config& config, Channels channels, Clocks clocks) {
  // keywardd's own state (the TOTP steps already used): root only.
  if (mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("bad_config", "cannot create state_dir " + config.state_dir + ": " + std::strerror(errno));
  }
  factor::CodeBookSettings settings;
  settings.ttl = config.token_ttl;
  settings.max_tries = config.rate_limits.verify_tries;
  settings.used_steps_file = config.state_dir + "/totp-used-steps";
  auto codes = factor::CodeBook::Create(settings, clocks.monotonic, clocks.wall);
  if (!codes) return Fail(codes.error());
  auto alerts = Alerts::Open(config.audit_log, channels.alerts.get(), channels.alerts_to);
  if (!alerts) return Fail(alerts.error());
  std::unique_ptr<Daemon> daemon(
      new Daemon(config, std::move(channels), std::move(clocks), std::move(*codes), std::move(*alerts)));
  // The CA key is read once, here (root), and kept.
  Log(daemon->ca_.Start());
  return daemon;
}

Daemon::Daemon(const config::Config& config, Channels channels, Clocks clocks, factor::CodeBook codes, Alerts alerts)
    : config_(config),
      clocks_(std::move(clocks)),
      accounts_(config),
      channels_(std::move(channels)),
      codes_(std::move(codes)),
      sessions_(factor::SessionSettings{config.session_idle, config.session_max, factor::kMaxSessions},
                clocks_.monotonic),
      per_account_(config.rate_limits.logins_per_account_per_hour, kHour, clocks_.monotonic),
      per_client_(config.rate_limits.logins_per_client_per_hour, kHour, clocks_.monotonic),
      certificates_(config.rate_limits.certificates_per_account_per_hour, kHour, clocks_.monotonic),
      alerts_(std::move(alerts)),
      ca_(config.ca),
      krl_(config_) {}

void Daemon::Tick() {
  krl_.Poll();
  alerts_.Poll();
  workers_.StopIdle();
}

Result<json> Daemon::StoreWork(const AccountPlace& place, const json& request) {
  // The worker keeps the place and the policy it was started with; a place
  // that changed (passwd edited) gets a new worker.
  const std::string where = std::to_string(place.account.uid) + ":" + std::to_string(place.account.gid) + ":" +
                            place.account.home + "\n" + place.store_dir + "\n" + place.authorized_keys;
  const key::KeyPolicy policy = config_.key_policy;
  WorkerServe serve = [place, policy](const json& r) { return ServeStoreRequest(place, policy, r); };
  return workers_.Ask(place.account, where, serve, request);
}

void Daemon::Drain(int seconds) {
  workers_.StopAll();
  alerts_.Drain(seconds);
  WaitForBackgroundJobs(seconds);
}

Outcome Daemon::Handle(const Caller& caller, const Request& request) {
  Call call{request, caller, request.client.empty() ? "uid:" + std::to_string(caller.uid) : request.client, {}};
  std::string who = std::string(caller.kind == CallerKind::kRoot ? "root" : "web") + " pid " +
                    std::to_string(caller.pid);
  Handler handler = FindHandler(caller.kind, request.op);
  if (handler == nullptr) {
    Log(who + " op=" + OpName(request.op) + ": not permitted for this caller; dropped");
    return {FormatError({"not_permitted", "This request is not permitted here."}), true};
  }
  auto result = handler(*this, call);
  // One line per request: what, for whom, from where, how it ended. Never
  // a code, a token or a key.
  std::string line = who + " op=" + OpName(request.op) + " account=" + Shown(call.account, 32) +
                     " client=" + Shown(call.client) + (result ? " ok" : " error=" + result.error().code);
  Log(line);
  if (!result) return {FormatError(result.error()), false};
  return {FormatOk(std::move(*result)), false};
}

}  // namespace keyward::daemon
