// Rate limits: at most `limit` events per key in any window of `window`
// seconds (a sliding log: exact, and small because limits are small).
// Codes cost money (SMS) and each one is a chance to guess: logins are
// limited per account and per client address.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "factor/clock.h"

namespace keyward::factor {

inline constexpr std::size_t kMaxRateKeys = 100000;

class RateLimiter {
 public:
  RateLimiter(unsigned limit, std::int64_t window, Clock clock = MonotonicSeconds,
              std::size_t max_keys = kMaxRateKeys)
      : limit_(limit), window_(window), clock_(std::move(clock)), max_keys_(max_keys) {}

  // Whether one more event for `key` is within the limit now. When the
  // table of keys is full of live keys a new key is refused: failing closed
  // is what keeps a flood of addresses from sending codes.
  bool Allowed(const std::string& key);
  // Counts one event for `key`.
  void Record(const std::string& key);

  std::size_t keys() const { return hits_.size(); }

 private:
  void Expire(std::deque<std::int64_t>& stamps, std::int64_t now) const;
  void Purge(std::int64_t now);

  unsigned limit_;
  std::int64_t window_;
  Clock clock_;
  std::size_t max_keys_;
  std::unordered_map<std::string, std::deque<std::int64_t>> hits_;
};

}  // namespace keyward::factor
