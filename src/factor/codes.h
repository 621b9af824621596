// Pending logins: what a login handle stands for until its code is proved.
//
// A one-time code is kept only as HMAC-SHA256 under a key drawn for this
// process, and compared in constant time; it is single use, good for a
// fixed time, and dead after a fixed number of wrong tries. A TOTP login
// keeps the account's secret instead and asks its app's code. A login for
// nobody (an unknown user, a user without a second factor) looks and is
// checked the same, and never succeeds.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "factor/clock.h"

namespace keyward::factor {

inline constexpr int kCodeDigits = 6;
inline constexpr std::size_t kMaxPendingLogins = 10000;

enum class Verdict { kOk, kBadCode, kExpired, kTooManyTries };
// The stable error code of a verdict: "ok", "bad_code", "expired", "too_many_tries".
const char* VerdictCode(Verdict verdict);

struct CodeBookSettings {
  std::int64_t ttl = 300;        // seconds
  unsigned max_tries = 5;        // wrong codes allowed; the next try fails whatever it is
  std::size_t max_pending = kMaxPendingLogins;
  // Where the TOTP steps already used are kept across restarts
  // (factor/totp_steps.h); empty: in memory only.
  std::string used_steps_file;
};

class CodeBook {
 public:
  // `monotonic` times the codes; `wall` gives TOTP its Unix time.
  static Result<CodeBook> Create(CodeBookSettings settings, Clock monotonic = MonotonicSeconds,
                                 Clock wall = UnixSeconds);
  CodeBook(CodeBook&&) noexcept = default;
  CodeBook& operator=(CodeBook&&) noexcept = default;
  ~CodeBook();

  // Each returns the new login's handle (a 256-bit random token), or
  // "busy" when kMaxPendingLogins unexpired logins are waiting.
  Result<std::string> StartCode(const std::string& account, std::string_view code);
  Result<std::string> StartTotp(const std::string& account, Bytes secret);
  Result<std::string> StartNobody();

  struct Outcome {
    Verdict verdict = Verdict::kBadCode;
    std::string account;  // set only with kOk
  };
  // Every call with a known, live handle counts as a try. An unknown handle
  // is kExpired: used, expired and never issued look alike.
  Outcome Verify(std::string_view handle, std::string_view code);

  std::size_t pending() const { return entries_.size(); }

 private:
  using Mac = std::array<std::uint8_t, 32>;
  struct Entry {
    std::string account;
    bool nobody = false;
    Bytes totp_secret;  // empty for code logins
    Mac mac{};          // HMAC(key, handle hash || code) for code logins
    std::int64_t expires = 0;
    unsigned tries = 0;
  };

  CodeBook(CodeBookSettings settings, Clock monotonic, Clock wall, Bytes key)
      : settings_(settings), monotonic_(std::move(monotonic)), wall_(std::move(wall)), key_(std::move(key)) {}
  Result<std::string> Start(Entry entry, std::string_view code);
  Mac CodeMac(std::string_view handle_hash, std::string_view code) const;
  void Erase(std::map<std::string, Entry>::iterator it);
  void Purge(std::int64_t now);

  CodeBookSettings settings_;
  Clock monotonic_;
  Clock wall_;
  Bytes key_;
  // Keyed by SHA-256 of the handle, so that the map's comparisons leak
  // nothing useful about the handles themselves through timing.
  std::map<std::string, Entry> entries_;
  // TOTP steps already used, per account: a TOTP code is single use too.
  std::map<std::string, std::int64_t> totp_last_step_;
  void SaveUsedSteps();
};

// SHA-256 of a token as raw bytes in a string: the key of token maps.
std::string TokenKey(std::string_view token);

}  // namespace keyward::factor
