#include "daemon/factors.h"

#include <sys/stat.h>

#include <cstdio>

#include "daemon/notifier.h"
#include "factor/base32.h"
#include "factor/totp_file.h"
#include "fs/safe_file.h"
#include "store/key_name.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// One value on one line: a final newline (and a CR before it) is allowed.
std::string OneLine(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

// Reads `path` (relative to the home, at most one folder deep) under the
// factor file rules; nullopt when it is absent or breaks a rule, with the
// reason added to `ignored`.
std::optional<std::string> ReadFactorFile(int home_fd, uid_t uid, const std::string& path,
                                          std::vector<std::string>& ignored) {
  fs::Ownership owner{uid};
  fs::UniqueFd sub;
  int dirfd = home_fd;
  std::string name = path;
  if (auto slash = path.find('/'); slash != std::string::npos) {
    auto dir = fs::OpenDirectoryAt(home_fd, path.substr(0, slash), owner, "the folder");
    if (!dir) {
      if (dir.error().code != "missing") ignored.push_back(path + ": " + dir.error().message);
      return std::nullopt;
    }
    sub = std::move(*dir);
    dirfd = sub.get();
    name = path.substr(slash + 1);
  }
  struct stat st {};
  auto text = fs::ReadFileIfExistsAt(dirfd, name, owner, kMaxFactorFileBytes, "the factor file", &st);
  if (!text) {
    ignored.push_back(path + ": " + text.error().message);
    return std::nullopt;
  }
  if (!text->has_value()) return std::nullopt;
  // Owned by the account itself: a file root or someone else put there is
  // not the user's choice of phone number.
  if (st.st_uid != uid) {
    ignored.push_back(path + ": owned by uid " + std::to_string(st.st_uid) + ", not the account's");
    return std::nullopt;
  }
  if ((st.st_mode & 07777) != 0600) {
    ignored.push_back(path + ": mode " + ModeText(st.st_mode) + ", must be 0600");
    return std::nullopt;
  }
  return OneLine(std::move(**text));
}

}  // namespace

Result<Factors> ReadFactors(const std::string& home, uid_t uid, const std::string& email_file) {
  Factors f;
  auto home_fd = fs::OpenDirectory(home, fs::Ownership{uid}, "the home folder");
  if (!home_fd) {
    f.ignored.push_back("home: " + home_fd.error().message);
    return f;
  }
  if (auto phone = ReadFactorFile(home_fd->get(), uid, kPhoneFile, f.ignored)) {
    if (IsE164(*phone)) f.phone = *phone;
    else f.ignored.push_back(std::string(kPhoneFile) + ": not one E.164 number (+ and 8 to 15 digits)");
  }
  if (auto email = ReadFactorFile(home_fd->get(), uid, email_file, f.ignored)) {
    // A whole address (store's rule) that sendmail takes as one argument.
    if (store::ValidateEmail(*email) && ValidateEmailAddress(*email)) f.email = *email;
    else f.ignored.push_back(email_file + ": not one e-mail address");
  }
  auto totp = factor::ReadTotpSecret(home, uid);
  if (!totp) f.ignored.push_back(".keyward/totp: " + totp.error().message);
  else if (totp->has_value()) f.totp_secret = std::move(**totp);
  return f;
}

json FactorsToJson(const Factors& f) {
  json j = {{"phone", f.phone}, {"email", f.email}, {"ignored", f.ignored}};
  if (!f.totp_secret.empty()) j["totp"] = factor::Base32Encode(f.totp_secret);
  return j;
}

Result<Factors> FactorsFromJson(const json& j) {
  auto bad = [] { return Fail("internal", "the factors read for an account are malformed"); };
  if (!j.is_object()) return bad();
  Factors f;
  for (const char* k : {"phone", "email"}) {
    if (!j.contains(k) || !j[k].is_string()) return bad();
  }
  f.phone = j["phone"].get<std::string>();
  f.email = j["email"].get<std::string>();
  if (j.contains("ignored") && j["ignored"].is_array()) {
    for (const auto& s : j["ignored"]) {
      if (s.is_string()) f.ignored.push_back(s.get<std::string>());
    }
  }
  if (j.contains("totp")) {
    if (!j["totp"].is_string()) return bad();
    auto secret = factor::Base32Decode(j["totp"].get<std::string>());
    if (!secret) return bad();
    f.totp_secret = std::move(*secret);
  }
  return f;
}

}  // namespace keyward::daemon
