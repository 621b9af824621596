#include "ca/validity.h"

#include <ctime>
#include <limits>

namespace keyward::ca {
namespace {

constexpr std::int64_t kMaxIntervalSeconds = 100LL * 366 * 86400;
constexpr std::uint64_t kNoEnd = ~std::uint64_t{0};

tl::unexpected<Error> BadValidity(std::string_view spec, std::string why) {
  std::string shown;
  for (char c : spec.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return Fail("bad_validity", "validity \"" + shown + "\": " + std::move(why));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Number(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

// YYYYMMDD[HHMM[SS]][Z] or 0x<hex>.
Result<std::uint64_t> ParseTime(std::string_view text, std::string_view spec) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    std::string_view hex = text.substr(2);
    if (hex.empty() || hex.size() > 16) return BadValidity(spec, "0x needs 1 to 16 hexadecimal digits");
    std::uint64_t v = 0;
    for (char c : hex) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return BadValidity(spec, "0x needs hexadecimal digits");
      v = v * 16 + static_cast<std::uint64_t>(d);
    }
    return v;
  }
  bool utc = text.ends_with("Z");
  if (utc) text.remove_suffix(1);
  if (!AllDigits(text) || (text.size() != 8 && text.size() != 12 && text.size() != 14)) {
    return BadValidity(spec, "a time is YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS (add Z for UTC)");
  }
  std::tm tm{};
  tm.tm_year = Number(text.substr(0, 4)) - 1900;
  tm.tm_mon = Number(text.substr(4, 2)) - 1;
  tm.tm_mday = Number(text.substr(6, 2));
  if (text.size() >= 12) {
    tm.tm_hour = Number(text.substr(8, 2));
    tm.tm_min = Number(text.substr(10, 2));
  }
  if (text.size() == 14) tm.tm_sec = Number(text.substr(12, 2));
  tm.tm_isdst = -1;
  const std::tm wanted = tm;
  std::time_t t = utc ? timegm(&tm) : std::mktime(&tm);
  // mktime and timegm normalise 20260231 into March: refuse what moved.
  if (t == static_cast<std::time_t>(-1) || tm.tm_year != wanted.tm_year || tm.tm_mon != wanted.tm_mon ||
      tm.tm_mday != wanted.tm_mday || tm.tm_hour != wanted.tm_hour || tm.tm_min != wanted.tm_min ||
      tm.tm_sec != wanted.tm_sec || t < 0) {
    return BadValidity(spec, "no such date or time");
  }
  return static_cast<std::uint64_t>(t);
}

std::uint64_t Offset(std::int64_t now, std::int64_t delta) {
  std::int64_t t = now + delta;
  return t < 0 ? 0 : static_cast<std::uint64_t>(t);
}

Result<std::uint64_t> ParseRelative(std::string_view text, std::int64_t now, std::string_view spec) {
  auto seconds = ParseInterval(text.substr(1));
  if (!seconds) return BadValidity(spec, seconds.error().message);
  return Offset(now, text[0] == '+' ? *seconds : -*seconds);
}

Result<std::uint64_t> ParseStart(std::string_view text, std::int64_t now, std::string_view spec) {
  if (text == "always") return std::uint64_t{0};
  if (text.starts_with('+') || text.starts_with('-')) return ParseRelative(text, now, spec);
  return ParseTime(text, spec);
}

Result<std::uint64_t> ParseEnd(std::string_view text, std::int64_t now, std::string_view spec) {
  if (text == "forever") return kNoEnd;
  if (text.starts_with('+') || text.starts_with('-')) return ParseRelative(text, now, spec);
  return ParseTime(text, spec);
}

}  // namespace

Result<std::int64_t> ParseInterval(std::string_view text) {
  if (text.empty()) return Fail("bad_interval", "an interval needs a number, such as 90, 10m, 12h, 7d or 1w");
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxIntervalSeconds) return Fail("bad_interval", "the interval is longer than 100 years");
      ++i;
    }
    if (i == start) return Fail("bad_interval", "an interval is numbers with units s, m, h, d or w, such as 1h30m");
    std::int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's': case 'S': unit = 1; ++i; break;
        case 'm': case 'M': unit = 60; ++i; break;
        case 'h': case 'H': unit = 3600; ++i; break;
        case 'd': case 'D': unit = 86400; ++i; break;
        case 'w': case 'W': unit = 7 * 86400; ++i; break;
        default:
          if (text[i] < '0' || text[i] > '9') {
            return Fail("bad_interval", "an interval's units are s, m, h, d and w, such as 1h30m");
          }
      }
    }
    total += n * unit;
    if (total > kMaxIntervalSeconds) return Fail("bad_interval", "the interval is longer than 100 years");
  }
  return total;
}

Result<Validity> ParseValidity(std::string_view spec, std::int64_t now, std::int64_t backdate) {
  Validity v;
  std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    if (spec.empty()) return BadValidity(spec, "give +INTERVAL, an end time, or START:END");
    v.valid_after = Offset(now, -backdate);
    if (spec.starts_with('+')) {
      auto end = ParseRelative(spec, now, spec);
      if (!end) return Fail(end.error());
      v.valid_before = *end;
    } else {
      auto end = ParseEnd(spec, now, spec);
      if (!end) return Fail(end.error());
      v.valid_before = *end;
    }
  } else {
    std::string_view from = spec.substr(0, colon), to = spec.substr(colon + 1);
    if (from.empty() || to.empty()) return BadValidity(spec, "START:END needs both");
    auto start = ParseStart(from, now, spec);
    if (!start) return Fail(start.error());
    auto end = ParseEnd(to, now, spec);
    if (!end) return Fail(end.error());
    v.valid_after = *start;
    v.valid_before = *end;
  }
  if (v.valid_after >= v.valid_before) return BadValidity(spec, "the certificate would end before it starts");
  return v;
}

std::string FormatLocalTime(std::uint64_t time) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::time_t>::max());
  std::time_t t = static_cast<std::time_t>(time > kMax ? kMax : time);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n);
}

std::string FormatValidity(std::uint64_t valid_after, std::uint64_t valid_before) {
  if (valid_after == 0 && valid_before == kNoEnd) return "forever";
  if (valid_after == 0) return "before " + FormatLocalTime(valid_before);
  if (valid_before == kNoEnd) return "after " + FormatLocalTime(valid_after);
  return "from " + FormatLocalTime(valid_after) + " to " + FormatLocalTime(valid_before);
}

}  // namespace keyward::ca
