// Certificate validity as ssh-keygen -V writes it, and as ssh-keygen -L
// prints it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace keyward::ca {

struct Validity {
  std::uint64_t valid_after = 0;
  std::uint64_t valid_before = 0;  // ~0 (kForever): no end
};

// An interval in sshd_config's TIME FORMATS: digits with an optional unit
// s, m, h, d or w (either case), repeated: "90", "10m", "1h30m", "1w2d".
// At most 100 years.
Result<std::int64_t> ParseInterval(std::string_view text);

// Parses a validity as `ssh-keygen -V` takes it:
//   "+INTERVAL"       from now to now + INTERVAL
//   "END"             from now to END (a time, "forever", as below)
//   "START:END"       START is "always", "-INTERVAL", "+INTERVAL" or a time;
//                     END is "forever", "+INTERVAL", "-INTERVAL" or a time
// A time is YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS in the local time zone,
// the same with a trailing "Z" for UTC, or 0x<hex> seconds since 1970.
// Where the start is "now" (the first two forms) it is backdated by
// `backdate` seconds (ca.backdate) against clock skew, as ssh-keygen
// backdates by up to a minute; an explicit start is taken as written.
// Error code "bad_validity".
Result<Validity> ParseValidity(std::string_view spec, std::int64_t now, std::int64_t backdate);

// "YYYY-MM-DDTHH:MM:SS" in the local time zone, as ssh-keygen prints times.
std::string FormatLocalTime(std::uint64_t time);

// ssh-keygen -L's "Valid:" text: "forever", "after X", "before Y" or
// "from X to Y".
std::string FormatValidity(std::uint64_t valid_after, std::uint64_t valid_before);

}  // namespace keyward::ca
