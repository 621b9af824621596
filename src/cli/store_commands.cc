#include "cli/store_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

#include "cli/terminal_text.h"
#include "config/config.h"
#include "fs/privilege.h"
#include "fs/read_file.h"
#include "key/fingerprint.h"
#include "store/audit_log.h"

namespace keyward::cli {

namespace {

CommandOutput Failed(const Error& e, int code = 1) {
  CommandOutput out;
  out.err = "keyward: " + e.message + "\n";
  out.exit_code = code;
  return out;
}

// Who is acting, for the audit log: the real user, and the sudo caller.
std::string Actor() {
  std::string who;
  if (auto a = store::CurrentAccount(); a && getuid() == geteuid()) {
    who = a->name;
  } else {
    who = "uid " + std::to_string(getuid());
  }
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && getuid() == 0) {
    if (store::ValidateUserName(sudo)) who += " (sudo by " + std::string(sudo) + ")";
  }
  return who;
}

std::string FormatSkipped(const std::vector<store::Skipped>& skipped, std::string_view heading) {
  std::string out;
  for (const auto& s : skipped) {
    out += std::string(heading) + " " + s.file + ": ";
    AppendTerminalSafe(s.reason, out);
    out += "\n";
  }
  return out;
}

std::string DescribeRender(const store::StoreContext& ctx, const store::RenderResult& r) {
  std::string out;
  if (!r.saved_copy.empty()) {
    out += "authorized_keys had been edited by hand; the old file is saved as " + r.saved_copy + "\n";
  }
  out += (r.changed ? "rendered " : "unchanged ") + ctx.authorized_keys + " (" + std::to_string(r.keys) + " keys)\n";
  out += FormatSkipped(r.skipped, "left out");
  return out;
}

Result<store::Store> OpenStore(const StoreOptions& o) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Fail(ctx.error());
  return store::Store::Open(*ctx);
}

std::string FormatDate(std::uint64_t t) {
  if (t == 0) return "-";
  return store::FormatUtcTimestamp(static_cast<std::int64_t>(t));
}

}  // namespace

Result<std::uint64_t> ParseExpiry(std::string_view text, std::int64_t now) {
  std::string digits;
  for (char c : text) {
    if (c == '-' && digits.size() != 4 && digits.size() != 6) {
      return Fail("bad_expiry", "write the expiry as YYYY-MM-DD or YYYYMMDD[HHMM[SS]] (UTC)");
    }
    if (c == '-') continue;
    if (c < '0' || c > '9') return Fail("bad_expiry", "write the expiry as YYYY-MM-DD or YYYYMMDD[HHMM[SS]] (UTC)");
    digits.push_back(c);
  }
  if (digits.size() != 8 && digits.size() != 12 && digits.size() != 14) {
    return Fail("bad_expiry", "write the expiry as YYYY-MM-DD or YYYYMMDD[HHMM[SS]] (UTC)");
  }
  std::tm tm{};
  auto num = [&](std::size_t at, std::size_t len) { return std::atoi(digits.substr(at, len).c_str()); };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (digits.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (digits.size() == 14) tm.tm_sec = num(12, 2);
  int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday, hour = tm.tm_hour, min = tm.tm_min, sec = tm.tm_sec;
  std::time_t t = timegm(&tm);
  // timegm normalises 2026-02-31 into March; refuse dates that do not exist.
  if (t <= 0 || tm.tm_year != year || tm.tm_mon != mon || tm.tm_mday != mday || tm.tm_hour != hour ||
      tm.tm_min != min || tm.tm_sec != sec) {
    return Fail("bad_expiry", "the expiry date " + std::string(text) + " does not exist");
  }
  if (t <= now) return Fail("bad_expiry", "the expiry " + std::string(text) + " is in the past");
  return static_cast<std::uint64_t>(t);
}

Result<store::StoreContext> ResolveStoreContext(const StoreOptions& o) {
  bool explicit_config = !o.config_path.empty();
  auto config = config::LoadConfig(explicit_config ? o.config_path : config::kDefaultConfigPath, explicit_config);
  if (!config) return Fail(config.error());
  store::StoreContext ctx;
  ctx.actor = Actor();
  ctx.now = o.now != 0 ? o.now : static_cast<std::int64_t>(std::time(nullptr));
  ctx.policy = config->key_policy;
  if (!o.account.empty()) {
    auto account = store::LookupAccount(o.account);
    if (!account) return Fail(account.error());
    if (!account->has_value()) return Fail("no_account", "there is no user \"" + o.account + "\" on this machine");
    ctx.account = std::move(**account);
  } else {
    auto account = store::CurrentAccount();
    if (!account) return Fail(account.error());
    ctx.account = std::move(*account);
  }
  if (!o.store_dir.empty()) {
    if (o.store_dir.front() != '/') {
      char cwd[4096];
      if (getcwd(cwd, sizeof cwd) == nullptr) return Fail("bad_path", "cannot resolve the current folder");
      ctx.store_dir = std::string(cwd) + "/" + o.store_dir;
    } else {
      ctx.store_dir = o.store_dir;
    }
    while (ctx.store_dir.size() > 1 && ctx.store_dir.back() == '/') ctx.store_dir.pop_back();
  } else {
    auto dir = store::ExpandPathTemplate(config->store_template, ctx.account);
    if (!dir) return Fail(dir.error());
    ctx.store_dir = *dir;
  }
  if (!o.authorized_keys.empty()) {
    ctx.authorized_keys = o.authorized_keys;
  } else if (!o.store_dir.empty()) {
    ctx.authorized_keys = ctx.store_dir + "/authorized_keys";
  } else {
    auto ak = store::ExpandPathTemplate(config->authorized_keys_template, ctx.account);
    if (!ak) return Fail(ak.error());
    ctx.authorized_keys = *ak;
  }
  // Root works on a user's files only with that user's rights, so that
  // nothing planted in a home folder can make it write elsewhere.
  if (!o.keep_privileges && geteuid() == 0 && ctx.account.uid != 0) {
    if (auto ok = fs::DropPrivileges(ctx.account.name, ctx.account.uid, ctx.account.gid); !ok) return Fail(ok.error());
  }
  return ctx;
}

namespace {

// A central store (/var/lib/keyward/%u) lives in a root-owned folder the
// user cannot write: root makes the user's folder there and hands it over,
// before dropping to the user for everything else. Inside a home the user
// makes it.
Result<void> MakeCentralStoreFolder(const store::StoreContext& ctx) {
  const std::string& home = ctx.account.home;
  bool in_home = ctx.store_dir.size() > home.size() && ctx.store_dir.compare(0, home.size(), home) == 0 &&
                 ctx.store_dir[home.size()] == '/';
  if (in_home || geteuid() != 0 || ctx.account.uid == 0) return {};
  auto [parent, name] = store::SplitPath(ctx.store_dir);
  auto parent_fd = fs::OpenDirectory(parent, fs::Ownership{0}, "the folder of the key stores");
  if (!parent_fd) return Fail(parent_fd.error());
  // Readable by a dedicated AuthorizedKeysCommandUser: public keys only.
  if (mkdirat(parent_fd->get(), name.c_str(), 0755) != 0) {
    if (errno == EEXIST) return {};
    return Fail("mkdir_failed", "cannot create " + ctx.store_dir + ": " + std::strerror(errno));
  }
  if (fchownat(parent_fd->get(), name.c_str(), ctx.account.uid, ctx.account.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Fail("chown_failed", "cannot give " + ctx.store_dir + " to " + ctx.account.name);
  }
  return {};
}

}  // namespace

CommandOutput RunInit(const StoreOptions& o) {
  StoreOptions root_first = o;
  root_first.keep_privileges = true;
  auto ctx = ResolveStoreContext(root_first);
  if (!ctx) return Failed(ctx.error());
  // Only a store placed by the administrator's configuration is created by
  // root; a path given with --store is made by the user or not at all.
  if (o.store_dir.empty()) {
    if (auto ok = MakeCentralStoreFolder(*ctx); !ok) return Failed(ok.error());
  }
  if (geteuid() == 0 && ctx->account.uid != 0) {
    if (auto ok = fs::DropPrivileges(ctx->account.name, ctx->account.uid, ctx->account.gid); !ok) {
      return Failed(ok.error());
    }
  }
  auto report = store::Store::Init(*ctx);
  if (!report) return Failed(report.error());
  CommandOutput out;
  out.out = *report;
  return out;
}

CommandOutput RunAdd(const StoreOptions& o, const AddOptions& add) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  store::AddRequest request;
  request.owner = add.owner;
  request.device = add.device;
  if (!add.expires.empty() && add.days != 0) {
    return Failed({"bad_expiry", "give either --expires or --days, not both"});
  }
  if (!add.expires.empty()) {
    auto t = ParseExpiry(add.expires, ctx->now);
    if (!t) return Failed(t.error());
    request.expires = *t;
  } else if (add.days != 0) {
    if (add.days < 0 || add.days > 36500) return Failed({"bad_expiry", "--days must be from 1 to 36500"});
    request.expires = static_cast<std::uint64_t>(ctx->now) + static_cast<std::uint64_t>(add.days) * 86400;
  }
  if (add.restrict) request.options.push_back("restrict");
  auto quote = [](const std::string& v) {
    std::string q = "\"";
    for (char c : v) {
      if (c == '"') q += "\\\"";
      else q.push_back(c);
    }
    return q + "\"";
  };
  for (const std::string& v : {add.command, add.from}) {
    if (v.find_first_of("\r\n", 0) != std::string::npos || v.find('\0') != std::string::npos) {
      return Failed({"bad_option", "option values must be on one line"});
    }
    if (!v.empty() && v.back() == '\\') return Failed({"bad_option", "an option value must not end with a backslash"});
  }
  if (!add.command.empty()) request.options.push_back("command=" + quote(add.command));
  if (!add.from.empty()) request.options.push_back("from=" + quote(add.from));
  for (const std::string& opt : add.options) request.options.push_back(opt);
  auto text = fs::ReadFileOrStdin(add.key_file);
  if (!text) return Failed(text.error());
  request.key_text = std::move(*text);
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  auto change = st->Add(request);
  if (!change) return Failed(change.error());
  CommandOutput out;
  out.out = "added " + change->files.front() + " " + change->fingerprints.front() + "\n" +
            DescribeRender(*ctx, change->render);
  return out;
}

CommandOutput RunList(const StoreOptions& o, bool all, bool json) {
  auto st = OpenStore(o);
  if (!st) return Failed(st.error());
  auto entries = st->List(all);
  if (!entries) return Failed(entries.error());
  CommandOutput out;
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *entries) {
      nlohmann::json j = {{"file", e.file}, {"state", store::KeyStateName(e.state)}};
      if (e.name) {
        j["owner"] = e.name->owner;
        j["device"] = e.name->device;
        j["date"] = e.name->date;
        j["serial"] = e.name->serial;
      }
      if (e.entry) {
        j["type"] = e.entry->key.type_name();
        j["bits"] = e.entry->key.bits();
        j["fingerprint"] = key::Fingerprint(e.entry->key);
        j["expiry"] = e.entry->options.expiry_time == 0 ? nlohmann::json(nullptr)
                                                        : nlohmann::json(FormatDate(e.entry->options.expiry_time));
        j["comment"] = e.entry->comment;
      }
      if (!e.problem.empty()) j["problem"] = e.problem;
      list.push_back(std::move(j));
    }
    out.out = list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return out;
  }
  std::vector<std::vector<std::string>> rows = {
      {"OWNER", "DEVICE", "DATE", "NN", "TYPE", "BITS", "FINGERPRINT", "STATE", "EXPIRES"}};
  for (const auto& e : *entries) {
    std::vector<std::string> row;
    if (e.name) {
      char nn[8];
      std::snprintf(nn, sizeof nn, "%02d", e.name->serial);
      row = {e.name->owner, e.name->device, e.name->date, nn};
    } else {
      row = {e.file, "-", "-", "-"};
    }
    if (e.entry) {
      row.push_back(std::string(e.entry->key.type_name()));
      row.push_back(std::to_string(e.entry->key.bits()));
      row.push_back(key::Fingerprint(e.entry->key));
    } else {
      row.insert(row.end(), {"-", "-", "-"});
    }
    row.push_back(store::KeyStateName(e.state));
    row.push_back(e.entry ? FormatDate(e.entry->options.expiry_time) : "-");
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    AppendTerminalSafe(line, out.out);
    out.out += "\n";
  }
  for (const auto& e : *entries) {
    if (!e.problem.empty()) {
      out.err += "keyward: " + e.file + " is invalid: ";
      AppendTerminalSafe(e.problem, out.err);
      out.err += "\n";
    }
  }
  return out;
}

CommandOutput RunRevoke(const StoreOptions& o, const std::vector<std::string>& words, bool reinstate) {
  auto selector = store::ParseSelector(words);
  if (!selector) return Failed(selector.error());
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  auto change = reinstate ? st->Reinstate(*selector) : st->Revoke(*selector);
  if (!change) return Failed(change.error());
  CommandOutput out;
  for (std::size_t i = 0; i < change->files.size(); ++i) {
    out.out += (reinstate ? "reinstated " : "revoked ") + change->files[i] + " " + change->fingerprints[i] + "\n";
  }
  out.out += DescribeRender(*ctx, change->render);
  return out;
}

CommandOutput RunRender(const StoreOptions& o) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  auto r = st->Render();
  if (!r) return Failed(r.error());
  CommandOutput out;
  out.out = DescribeRender(*ctx, *r);
  return out;
}

CommandOutput RunCheck(const StoreOptions& o) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  auto c = st->Check();
  if (!c) return Failed(c.error());
  CommandOutput out;
  out.err = FormatSkipped(c->skipped, "left out");
  if (c->matches) {
    out.out = ctx->authorized_keys + " is what keyward renders\n";
    return out;
  }
  out.out = ctx->authorized_keys + " differs from what keyward renders (edited behind keyward's back?):\n";
  AppendTerminalSafe(c->diff, out.out);
  out.out += "run `keyward render` to restore it (a copy of the edited file is kept)\n";
  out.exit_code = 1;
  return out;
}

CommandOutput RunImport(const StoreOptions& o, const std::string& file, const std::string& owner) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  std::string content;
  if (file.empty()) {
    auto ak = st->ReadAuthorizedKeys();
    if (!ak) return Failed(ak.error());
    if (!ak->has_value()) return Failed({"missing", ctx->authorized_keys + " does not exist; nothing to import"});
    content = std::move(**ak);
  } else {
    auto text = fs::ReadFileOrStdin(file);
    if (!text) return Failed(text.error());
    content = std::move(*text);
  }
  auto r = st->Import(content, owner);
  if (!r) return Failed(r.error());
  CommandOutput out;
  for (const auto& f : r->added) out.out += "imported " + f + "\n";
  out.out += FormatSkipped(r->skipped, "skipped");
  if (!r->original_copy.empty()) {
    out.out += "the original is kept as " + r->original_copy + "\n" + DescribeRender(*ctx, r->render);
  } else {
    out.out += "nothing new to import\n";
  }
  return out;
}

CommandOutput RunPrune(const StoreOptions& o) {
  auto ctx = ResolveStoreContext(o);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::Open(*ctx);
  if (!st) return Failed(st.error());
  auto change = st->Prune();
  if (!change) return Failed(change.error());
  CommandOutput out;
  for (std::size_t i = 0; i < change->files.size(); ++i) {
    out.out += "pruned " + change->files[i] + " " + change->fingerprints[i] + "\n";
  }
  if (change->files.empty()) out.out += "no expired keys\n";
  out.out += DescribeRender(*ctx, change->render);
  return out;
}

CommandOutput RunKeys(const StoreOptions& o, const std::string& user, const std::string& fingerprint) {
  CommandOutput out;
  // sshd passes whatever the client sent as the user name; an invalid or
  // unknown one simply has no keys.
  if (!store::ValidateUserName(user)) return out;
  auto account = store::LookupAccount(user);
  if (!account || !account->has_value()) return out;
  StoreOptions with_account = o;
  with_account.account = user;
  auto ctx = ResolveStoreContext(with_account);
  if (!ctx) return Failed(ctx.error());
  auto st = store::Store::OpenForLookup(*ctx);
  if (!st) {
    // No store: the account is not managed by keyward.
    if (st.error().code == "missing") return out;
    return Failed(st.error());
  }
  auto keys = st->KeysForSshd(fingerprint);
  if (!keys) return Failed(keys.error());
  out.out = std::move(*keys);
  return out;
}

}  // namespace keyward::cli
