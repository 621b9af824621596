#include "factor/rate_limit.h"

namespace keyward::factor {

void RateLimiter::Expire(std::deque<std::int64_t>& stamps, std::int64_t now) const {
  while (!stamps.empty() && stamps.front() <= now - window_) stamps.pop_front();
}

void RateLimiter::Purge(std::int64_t now) {
  for (auto it = hits_.begin(); it != hits_.end();) {
    Expire(it->second, now);
    it = it->second.empty() ? hits_.erase(it) : std::next(it);
  }
}

bool RateLimiter::Allowed(const std::string& key) {
  std::int64_t now = clock_();
  auto it = hits_.find(key);
  if (it == hits_.end()) {
    if (hits_.size() >= max_keys_) Purge(now);
    return hits_.size() < max_keys_ && limit_ > 0;
  }
  Expire(it->second, now);
  return it->second.size() < limit_;
}

void RateLimiter::Record(const std::string& key) {
  std::int64_t now = clock_();
  auto& stamps = hits_[key];
  Expire(stamps, now);
  stamps.push_back(now);
}

}  // namespace keyward::factor
