#include "factor/codes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "factor/random.h"
#include "factor/totp.h"
#include "factor/totp_steps.h"
#include "key/crypto.h"

namespace keyward::factor {

namespace {

// Codes are typed by people: blanks between digit groups are dropped.
std::string Compact(std::string_view code) {
  std::string out;
  for (char c : code.substr(0, 64)) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

void Cleanse(Bytes& b) {
  if (!b.empty()) OPENSSL_cleanse(b.data(), b.size());
  b.clear();
}

}  // namespace

const char* VerdictCode(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk: return "ok";
    case Verdict::kBadCode: return "bad_code";
    case Verdict::kExpired: return "expired";
    case Verdict::kTooManyTries: return "too_many_tries";
  }
  return "bad_code";
}

std::string TokenKey(std::string_view token) {
  auto digest = key::Sha256(AsBytes(token));
  return std::string(AsText(digest));
}

Result<CodeBook> CodeBook::Create(CodeBookSettings settings, Clock monotonic, Clock wall) {
  auto key = RandomBytes(32);
  if (!key) return Fail(key.error());
  UsedSteps used;
  if (!settings.used_steps_file.empty()) {
    auto loaded = LoadUsedSteps(settings.used_steps_file);
    if (!loaded) return Fail(loaded.error());
    used = std::move(*loaded);
  }
  CodeBook book(settings, std::move(monotonic), std::move(wall), std::move(*key));
  book.totp_last_step_ = std::move(used);
  return book;
}

void CodeBook::SaveUsedSteps() {
  if (settings_.used_steps_file.empty()) return;
  // Best effort: the step is remembered in memory whatever happens here;
  // only a restart right after a failed write would forget it.
  (void)factor::SaveUsedSteps(settings_.used_steps_file, totp_last_step_, wall_() / kTotpStep - 2);
}

CodeBook::~CodeBook() {
  Cleanse(key_);
  for (auto& [hash, entry] : entries_) Cleanse(entry.totp_secret);
}

CodeBook::Mac CodeBook::CodeMac(std::string_view handle_hash, std::string_view code) const {
  std::string input(handle_hash);
  input.push_back('\0');
  input += code;
  Mac mac{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac.data(), &len);
  OPENSSL_cleanse(input.data(), input.size());
  return mac;
}

void CodeBook::Erase(std::map<std::string, Entry>::iterator it) {
  Cleanse(it->second.totp_secret);
  entries_.erase(it);
}

void CodeBook::Purge(std::int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.expires <= now) Erase(it);
    it = next;
  }
  // A step more than one step old can no longer be replayed: forget it.
  std::int64_t oldest = wall_() / kTotpStep - 2;
  for (auto it = totp_last_step_.begin(); it != totp_last_step_.end();) {
    it = it->second < oldest ? totp_last_step_.erase(it) : std::next(it);
  }
}

Result<std::string> CodeBook::Start(Entry entry, std::string_view code) {
  std::int64_t now = monotonic_();
  if (entries_.size() >= settings_.max_pending) Purge(now);
  if (entries_.size() >= settings_.max_pending) {
    Cleanse(entry.totp_secret);
    return Fail("busy", "Too many logins are waiting. Try again in a few minutes.");
  }
  auto handle = RandomToken();
  if (!handle) return Fail(handle.error());
  std::string hash = TokenKey(*handle);
  entry.expires = now + settings_.ttl;
  entry.mac = CodeMac(hash, code);
  entries_[hash] = std::move(entry);
  return handle;
}

Result<std::string> CodeBook::StartCode(const std::string& account, std::string_view code) {
  Entry e;
  e.account = account;
  return Start(std::move(e), code);
}

Result<std::string> CodeBook::StartTotp(const std::string& account, Bytes secret) {
  Entry e;
  e.account = account;
  e.totp_secret = std::move(secret);
  return Start(std::move(e), "");
}

Result<std::string> CodeBook::StartNobody() {
  // The same work as a real code: a random code nobody is told.
  auto code = RandomDigits(kCodeDigits);
  if (!code) return Fail(code.error());
  Entry e;
  e.nobody = true;
  return Start(std::move(e), *code);
}

CodeBook::Outcome CodeBook::Verify(std::string_view handle, std::string_view code) {
  std::int64_t now = monotonic_();
  std::string hash = TokenKey(handle);
  auto it = entries_.find(hash);
  if (it == entries_.end()) return {Verdict::kExpired, {}};
  Entry& e = it->second;
  if (e.expires <= now) {
    Erase(it);
    return {Verdict::kExpired, {}};
  }
  // Kept until it expires, so that every further try is told the same.
  if (e.tries >= settings_.max_tries) return {Verdict::kTooManyTries, {}};
  ++e.tries;
  std::string typed = Compact(code);
  bool match = false;
  if (!e.totp_secret.empty()) {
    std::int64_t& last = totp_last_step_[e.account];
    match = VerifyTotp(e.totp_secret, typed, wall_(), &last);
  } else {
    Mac mac = CodeMac(hash, typed);
    match = CRYPTO_memcmp(mac.data(), e.mac.data(), mac.size()) == 0;
  }
  OPENSSL_cleanse(typed.data(), typed.size());
  if (!match || e.nobody) return {Verdict::kBadCode, {}};
  if (!e.totp_secret.empty()) SaveUsedSteps();
  Outcome ok{Verdict::kOk, e.account};
  Erase(it);  // single use
  return ok;
}

}  // namespace keyward::factor
