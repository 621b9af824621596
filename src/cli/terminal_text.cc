#include "cli/terminal_text.h"

#include <clocale>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <strings.h>

namespace keyward::cli {

void SetLocaleLikeOpenSsh() {
  for (const char* var : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(var);
    if (value == nullptr) continue;
    if (strncasecmp(value, "TR", 2) != 0) break;
    if ((strcasestr(value, "UTF-8") != nullptr || strcasestr(value, "UTF8") != nullptr) &&
        (std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr || std::setlocale(LC_CTYPE, "POSIX.UTF-8") != nullptr)) {
      return;
    }
    std::setlocale(LC_CTYPE, "C");
    return;
  }
  std::setlocale(LC_CTYPE, "");
}

namespace {

void AppendOctal(unsigned char c, std::string& out) {
  out.push_back('\\');
  out.push_back(static_cast<char>('0' + ((c >> 6) & 7)));
  out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
  out.push_back(static_cast<char>('0' + (c & 7)));
}

}  // namespace

void AppendTerminalSafe(std::string_view text, std::string& out) {
  std::mbstate_t state{};
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    // Printable ASCII is printable in every locale OpenSSH accepts.
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    wchar_t wc = 0;
    std::size_t len = std::mbrtowc(&wc, text.data() + i, text.size() - i, &state);
    if (len == static_cast<std::size_t>(-1) || len == static_cast<std::size_t>(-2) || len == 0) {
      state = std::mbstate_t{};
      AppendOctal(c, out);
      ++i;
      continue;
    }
    if (wcwidth(wc) < 0) {
      for (std::size_t k = 0; k < len; ++k) AppendOctal(static_cast<unsigned char>(text[i + k]), out);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
}

}  // namespace keyward::cli
