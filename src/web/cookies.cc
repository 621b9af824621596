#include "web/cookies.h"

#include <algorithm>

namespace keyward::web {

namespace {

bool IsValueChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsCookieValue(std::string_view value) {
  return !value.empty() && value.size() <= kMaxCookieValueBytes && std::all_of(value.begin(), value.end(), IsValueChar);
}

std::string CookieName(std::string_view base, bool secure) {
  return secure ? "__Host-" + std::string(base) : std::string(base);
}

std::optional<std::string_view> FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    std::size_t end = header.find(';');
    std::string_view pair = Trim(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!IsCookieValue(value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string SetCookie(std::string_view name, std::string_view value, const CookieOptions& options) {
  std::string out;
  out.reserve(name.size() + value.size() + 64);
  out.append(name).append("=").append(value).append("; Path=/");
  if (options.max_age >= 0) out.append("; Max-Age=").append(std::to_string(options.max_age));
  out.append("; HttpOnly; SameSite=Strict");
  if (options.secure) out.append("; Secure");
  return out;
}

std::string ClearCookie(std::string_view name, bool secure) {
  return SetCookie(name, "", CookieOptions{secure, 0});
}

}  // namespace keyward::web
