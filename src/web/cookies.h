// Reading the Cookie header and writing Set-Cookie. Every cookie keyward-web
// sets is HttpOnly (no script reads it), SameSite=Strict (no other site's
// page sends it) and Path=/; with TLS it is also Secure and its name takes
// the __Host- prefix, which browsers accept only from a secure origin,
// without Domain, with Path=/, so a sibling subdomain cannot plant it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward::web {

// A cookie value keyward-web accepts back: what it issues (hex tokens,
// keywardd's handles) fits in [A-Za-z0-9_.-]{1,kMaxCookieValueBytes}.
inline constexpr std::size_t kMaxCookieValueBytes = 256;

// True when `value` fits the rule above, so FindCookie would give it back.
bool IsCookieValue(std::string_view value);

// "__Host-" + base when `secure`, else base.
std::string CookieName(std::string_view base, bool secure);

// The value of the first cookie called `name` in a Cookie header (RFC 6265
// "a=1; b=2"), or nothing when it is missing or its value is not one
// keyward-web would have set.
std::optional<std::string_view> FindCookie(std::string_view header, std::string_view name);

struct CookieOptions {
  bool secure = false;
  long max_age = -1;  // seconds; -1: a session cookie (gone when the browser closes); 0: delete
};

// The value of a Set-Cookie header.
std::string SetCookie(std::string_view name, std::string_view value, const CookieOptions& options);

// A Set-Cookie that makes the browser forget `name`.
std::string ClearCookie(std::string_view name, bool secure);

}  // namespace keyward::web
