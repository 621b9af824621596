// Time as the factor code sees it: injected, so that tests can move it.
#pragma once

#include <cstdint>
#include <functional>

namespace keyward::factor {

// Seconds; lifetimes use a monotonic clock (a wall clock set back must not
// revive a code), TOTP the wall clock (its steps are Unix time).
using Clock = std::function<std::int64_t()>;

std::int64_t MonotonicSeconds();
std::int64_t UnixSeconds();

}  // namespace keyward::factor
