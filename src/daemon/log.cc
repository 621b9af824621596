#include "daemon/log.h"

#include <unistd.h>

#include <cerrno>

namespace keyward::daemon {

void Log(std::string_view line) {
  std::string out = "keywardd: ";
  out.append(line);
  out.push_back('\n');
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere else to say it
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string Shown(std::string_view value, std::size_t max) {
  std::string out;
  for (char ch : value.substr(0, max)) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(c < 0x20 || c >= 0x7f || c == '"' ? '?' : ch);
  }
  if (value.size() > max) out += "...";
  return out;
}

}  // namespace keyward::daemon
