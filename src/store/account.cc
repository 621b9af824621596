#include "store/account.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace keyward::store {

Result<void> ValidateUserName(std::string_view name) {
  auto bad = [&](std::string why) {
    return Fail("bad_user_name", "\"" + std::string(name.substr(0, 64)) + "\" is not a valid user name: " + std::move(why));
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > kMaxUserNameBytes) return bad("it is longer than 32 characters");
  char first = name.front();
  if (!((first >= 'a' && first <= 'z') || first == '_')) return bad("it must start with a lower-case letter or _");
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              (c == '$' && i + 1 == name.size());
    if (!ok) return bad("only a-z, 0-9, _ . - are allowed");
  }
  if (name.find("..") != std::string_view::npos) return bad("it must not contain ..");
  return {};
}

namespace {

Result<std::optional<Account>> FromPasswd(bool by_name, std::string_view name, uid_t uid) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  struct passwd pw {};
  struct passwd* result = nullptr;
  for (;;) {
    int rc = by_name ? getpwnam_r(std::string(name).c_str(), &pw, buf.data(), buf.size(), &result)
                     : getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0) return Fail("passwd_failed", std::string("cannot read the user database: ") + std::strerror(rc));
    break;
  }
  if (result == nullptr) return std::optional<Account>();
  if (pw.pw_dir == nullptr || pw.pw_dir[0] != '/') {
    return Fail("bad_home", std::string("the user ") + pw.pw_name + " has no absolute home folder");
  }
  return std::optional<Account>(Account{pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir});
}

}  // namespace

Result<std::optional<Account>> LookupAccount(std::string_view name) {
  if (auto ok = ValidateUserName(name); !ok) return Fail(ok.error());
  return FromPasswd(true, name, 0);
}

Result<Account> CurrentAccount() {
  auto a = FromPasswd(false, {}, geteuid());
  if (!a) return Fail(a.error());
  if (!a->has_value()) return Fail("no_user", "the current user (uid " + std::to_string(geteuid()) + ") has no passwd entry");
  return std::move(**a);
}

Result<std::string> ExpandPathTemplate(std::string_view templ, const Account& account) {
  std::string out;
  for (std::size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] != '%') {
      out.push_back(templ[i]);
      continue;
    }
    if (i + 1 >= templ.size()) return Fail("bad_template", "the path template ends with a lone %");
    char t = templ[++i];
    if (t == 'h') out += account.home;
    else if (t == 'u') out += account.name;
    else if (t == '%') out.push_back('%');
    else return Fail("bad_template", std::string("unknown token %") + t + " in a path template (use %h, %u, %%)");
  }
  if (out.empty()) return Fail("bad_template", "the path template is empty");
  if (out.front() != '/') out = account.home + (account.home.back() == '/' ? "" : "/") + out;
  // Drop trailing slashes so that the last component is a name.
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace keyward::store
