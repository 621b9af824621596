#include "factor/sessions.h"

#include <algorithm>

#include "factor/codes.h"
#include "factor/random.h"

namespace keyward::factor {

bool Sessions::Live(const Entry& e, std::int64_t now) const {
  return now - e.last_used < settings_.idle && now - e.opened < settings_.max;
}

std::int64_t Sessions::ExpiresIn(const Entry& e, std::int64_t now) const {
  return std::min(e.last_used + settings_.idle, e.opened + settings_.max) - now;
}

void Sessions::Purge(std::int64_t now) {
  std::erase_if(by_key_, [&](const auto& item) { return !Live(item.second, now); });
}

Result<std::string> Sessions::Open(const std::string& account) {
  std::int64_t now = clock_();
  if (by_key_.size() >= settings_.max_sessions) Purge(now);
  if (by_key_.size() >= settings_.max_sessions) {
    return Fail("busy", "Too many sessions are open. Try again in a few minutes.");
  }
  auto token = RandomToken();
  if (!token) return Fail(token.error());
  by_key_[TokenKey(*token)] = Entry{account, now, now};
  return token;
}

std::optional<Sessions::Active> Sessions::Check(std::string_view token) {
  std::int64_t now = clock_();
  auto it = by_key_.find(TokenKey(token));
  if (it == by_key_.end()) return std::nullopt;
  if (!Live(it->second, now)) {
    by_key_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return Active{it->second.account, ExpiresIn(it->second, now)};
}

bool Sessions::Close(std::string_view token) { return by_key_.erase(TokenKey(token)) != 0; }

}  // namespace keyward::factor
