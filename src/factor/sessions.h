// Sessions: a random 256-bit token bound to one account, with an idle and
// an absolute lifetime, checked (and its idle time renewed) on every
// request. A session names its account; requests never do, so a session
// of one account cannot act on another.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "factor/clock.h"

namespace keyward::factor {

inline constexpr std::size_t kMaxSessions = 10000;

struct SessionSettings {
  std::int64_t idle = 600;  // seconds without a request
  std::int64_t max = 3600;  // seconds since the session was opened
  std::size_t max_sessions = kMaxSessions;
};

class Sessions {
 public:
  explicit Sessions(SessionSettings settings, Clock clock = MonotonicSeconds)
      : settings_(settings), clock_(std::move(clock)) {}

  // The new session's token (64 hex digits), or "busy" when full.
  Result<std::string> Open(const std::string& account);

  struct Active {
    std::string account;
    std::int64_t expires_in = 0;  // seconds, if no request comes before
  };
  // nullopt for an unknown, expired or closed token; a live one is renewed.
  std::optional<Active> Check(std::string_view token);

  // Ends a session; false when there was none.
  bool Close(std::string_view token);

  std::size_t size() const { return by_key_.size(); }

 private:
  struct Entry {
    std::string account;
    std::int64_t opened = 0;
    std::int64_t last_used = 0;
  };
  bool Live(const Entry& e, std::int64_t now) const;
  std::int64_t ExpiresIn(const Entry& e, std::int64_t now) const;
  void Purge(std::int64_t now);

  SessionSettings settings_;
  Clock clock_;
  std::map<std::string, Entry> by_key_;  // keyed by TokenKey(token)
};

}  // namespace keyward::factor
