// Text from keys (comments) printed the way OpenSSH's mprintf() prints it,
// so that a hostile comment cannot drive the terminal and so that our output
// is byte for byte ssh-keygen's.
#pragma once

#include <string>
#include <string_view>

namespace keyward::cli {

// Chooses LC_CTYPE as OpenSSH's msetlocale() does: the user's locale, except
// Turkish ones, which fall back to C (or C.UTF-8 if they are UTF-8).
void SetLocaleLikeOpenSsh();

// Appends `text`: printable characters of the current locale, tab, CR and
// LF as they are, every byte of anything else as \ooo.
void AppendTerminalSafe(std::string_view text, std::string& out);

}  // namespace keyward::cli
